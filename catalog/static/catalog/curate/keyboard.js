// The seed's keyboard habits, kept: letter and digit keys act only when the focus is not
// in a text field (j/k/u/1–6/t/n/s/a/r/?), ⌘S/Ctrl+S and ⌘⏎/Ctrl+Enter work everywhere.
// Added: Esc leaves a field and keeps what was typed; d discards the edits (⌘Z/Ctrl+Z
// outside a field brings them back); Alt+T / Alt+N and Alt+↓ / Alt+↑ move between the
// fields from inside one. Alt keys are matched by their physical key (event.code), so
// the Mac's Option, which types † or ˜ with them, works the same.

function typing(target) {
  if (!(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  if (target.tagName === 'TEXTAREA' || target.tagName === 'SELECT') return true;
  if (target.tagName !== 'INPUT') return false;
  return !['radio', 'checkbox', 'button', 'submit', 'reset', 'file'].includes(target.type);
}

export function bindKeys(handlers) {
  document.addEventListener('keydown', (event) => {
    if (event.isComposing || event.defaultPrevented) return;
    const mod = event.metaKey || event.ctrlKey;
    const key = event.key;
    if (document.querySelector('dialog[open]')) return; // the dialog handles its own keys
    if (mod && !event.altKey && (key === 's' || key === 'S')) {
      event.preventDefault();
      handlers.save();
      return;
    }
    if (mod && key === 'Enter') {
      event.preventDefault();
      handlers.saveNext();
      return;
    }
    if (event.altKey && !mod) {
      const move = {
        KeyT: () => handlers.focus('title'),
        KeyN: () => handlers.focus('notes'),
        ArrowDown: () => handlers.focusAdjacent(1),
        ArrowUp: () => handlers.focusAdjacent(-1),
      }[event.code];
      if (move) {
        event.preventDefault();
        move();
      }
      return;
    }
    if (key === 'Escape') {
      // Leave the field; what was typed stays (discarding is d, on purpose).
      if (event.target instanceof Element && event.target.closest('#phs-form')) {
        event.preventDefault();
        event.target.blur();
      }
      return;
    }
    if (typing(event.target)) return;
    if (mod && !event.shiftKey && (key === 'z' || key === 'Z')) {
      if (handlers.undo()) event.preventDefault();
      return;
    }
    if (mod || event.altKey) return;
    const action = {
      j: () => handlers.move(1),
      k: () => handlers.move(-1),
      t: () => handlers.focus('title'),
      n: () => handlers.focus('notes'),
      u: () => handlers.nextUnreviewed(),
      d: () => handlers.discard(),
      s: () => handlers.action('submit'),
      a: () => handlers.action('approve'),
      r: () => handlers.action('reject'),
      '?': () => handlers.help(),
    }[key];
    if (action) {
      event.preventDefault();
      action();
    } else if (/^[1-6]$/.test(key)) {
      event.preventDefault();
      handlers.status(Number(key));
    }
  });
}
