// The seed's keyboard habits. Letter and digit keys act only when the focus is not in a
// text field; ⌘S/Ctrl+S and ⌘⏎/Ctrl+Enter work everywhere; Esc discards pending edits
// when the focus is in the form.

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
    if (key === 'Escape') {
      if (event.target instanceof Element && event.target.closest('#phs-form')) {
        event.preventDefault();
        handlers.discard();
        event.target.blur();
      }
      return;
    }
    if (mod || event.altKey || typing(event.target)) return;
    const action = {
      j: () => handlers.move(1),
      k: () => handlers.move(-1),
      t: () => handlers.focus('title'),
      n: () => handlers.focus('notes'),
      u: () => handlers.nextUnreviewed(),
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
