// The file pane: preview slot, identity badge, catalog facts, other copies, and the form.
// Tracks unsaved edits against the values the file was opened with (``base``).

import { formatSize, h, statusDot } from './dom.js';

const FIELDS = ['status', 'title', 'project_group', 'date', 'description', 'notes'];
// Decisions that send the file to pad.ma (workflow.states.NEEDS_APPROVAL).
const FOR_PADMA = ['upload', 'restricted'];
const LABELS = {
  status: 'Status',
  title: 'Title',
  project_group: 'Project group',
  date: 'Date',
  description: 'Description',
  notes: 'Notes',
};

function fact(label, value) {
  if (value === null || value === undefined || value === '') return null;
  return [h('dt', {}, label), h('dd', {}, value)];
}

function normalise(name, value) {
  if (name === 'project_group') return value === '' || value === null ? null : Number(value);
  if (name === 'date') return value || null;
  return value ?? '';
}

export class Detail {
  constructor(root, config, handlers) {
    this.root = root;
    this.config = config;
    this.handlers = handlers;
    this.pane = null;
    this.base = null;
    this.groups = new Map(config.project_groups.map((group) => [group.id, group.name]));
  }

  get fileId() {
    return this.pane ? this.pane.id : null;
  }

  get editable() {
    return Boolean(this.pane && this.pane.can.edit);
  }

  /** Show ``pane``; the same file shown again (after a save) keeps its preview. */
  show(pane) {
    const same = this.pane && this.pane.id === pane.id;
    this.pane = pane;
    this.base = { ...pane.values };
    this.undoable = null;
    this.render(same);
    return same;
  }

  clear(message) {
    this.pane = null;
    this.base = null;
    this.root.replaceChildren(h('p', { class: 'phs-curate__hint' }, message));
  }

  /**
   * The preview slot: an empty element that app.js's showPreview fills for this file
   * (live from the mount, or an offline preview). ``data-file`` says whose it is.
   */
  buildPreviewSlot() {
    this.previewEl = h('div', { class: 'phs-preview', id: 'phs-preview', dataset: { file: this.pane.id } });
    this.verifyEl = h('p', { class: 'phs-verify', id: 'phs-verify' });
  }

  render(keepPreview = false) {
    const pane = this.pane;
    if (!keepPreview || !this.previewEl) this.buildPreviewSlot();
    this.bannerEl = h('div', { class: 'phs-detail__banners', id: 'phs-banners' });
    this.form = this.buildForm();
    this.metaEl = h('p', { class: 'phs-detail__meta', id: 'phs-meta' });
    this.root.replaceChildren(
      h('header', { class: 'phs-detail__header' },
        h('h2', { class: 'phs-detail__title', id: 'phs-filename' }, pane.filename),
        h('p', { class: 'phs-detail__path' }, `${pane.drive.name}:/${pane.relative_path}`),
        h('a', { class: 'phs-detail__edit-link', href: pane.edit_url }, 'Open in the file editor')),
      this.bannerEl,
      h('div', { class: 'phs-detail__grid' },
        h('div', { class: 'phs-detail__preview-col' },
          this.previewEl,
          this.verifyEl,
          this.buildFacts(),
          this.buildCopies()),
        h('div', { class: 'phs-detail__form-col' }, this.form, this.metaEl)),
    );
    this.renderBanners();
    this.renderMeta();
    this.form.addEventListener('input', () => {
      this.undoable = null; // typed again: the discarded edits are gone for good
      this.changed();
    });
    this.form.addEventListener('change', () => this.changed());
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.handlers.save(false);
    });
    this.changed();
  }

  buildFacts() {
    const facts = this.pane.facts;
    return h('dl', { class: 'phs-facts' },
      fact('Size', facts.size === null ? null : `${formatSize(facts.size)} (${facts.size.toLocaleString()} bytes)`),
      fact('Type', facts.mime_type || facts.category),
      fact('EXIF date', facts.exif_date_raw || facts.exif_date),
      fact('Camera', facts.camera),
      fact('Duration', facts.duration === null ? null : `${facts.duration.toFixed(2)} s`),
      fact('Resolution', facts.resolution),
      fact('oshash', h('code', {}, facts.oshash || 'none')),
      fact('Copies', this.pane.duplicate_group ? (this.pane.is_primary ? 'primary copy' : 'spare copy') : null));
  }

  buildCopies() {
    const pane = this.pane;
    if (!pane.copies.length) return null;
    const more = pane.copy_total - pane.copies.length;
    return h('section', { class: 'phs-copies', 'aria-labelledby': 'phs-copies-title' },
      h('h3', { id: 'phs-copies-title' }, `Other copies (${pane.copy_total})`),
      h('ul', {},
        pane.copies.map((copy) => h('li', {},
          statusDot(copy.status, copy.in_review),
          h('a', { href: copy.url, dataset: { copyId: copy.id, copyDrive: copy.drive.id } },
            `${copy.drive.name}:/${copy.relative_path}`),
          copy.is_primary ? h('span', { class: 'phs-copies__primary' }, 'primary') : null,
          copy.drive.id !== pane.drive.id ? null : h('span', { class: 'phs-copies__same' }, 'same drive')))),
      more > 0 ? h('p', {}, `and ${more} more`) : null);
  }

  buildForm() {
    const pane = this.pane;
    const values = pane.values;
    const readonly = !pane.can.edit;
    const statusOptions = this.config.statuses.map((status) => h('label', {
      class: `phs-status-pill phs-status-pill--${status.value}`,
    },
    h('input', {
      type: 'radio', name: 'status', value: status.value,
      checked: values.status === status.value, disabled: readonly,
    }),
    h('span', { class: `phs-dot phs-dot--${status.value}`, 'aria-hidden': 'true' }),
    h('span', {}, status.label),
    h('kbd', {}, String(status.key))));
    const groupOptions = [h('option', { value: '' }, '—')].concat(
      this.config.project_groups.map((group) => h('option', {
        value: group.id, selected: values.project_group === group.id,
      }, group.name)),
    );
    const text = (name, attrs = {}) => h('input', {
      type: 'text', name, id: `phs-field-${name}`, value: values[name] ?? '', readonly, ...attrs,
    });
    const area = (name) => {
      const node = h('textarea', {
        name, id: `phs-field-${name}`, rows: name === 'notes' ? 3 : 4, readonly,
        maxlength: this.config.limits.text,
      });
      node.value = values[name] ?? '';
      return node;
    };
    const field = (name, control, hint = '') => h('div', { class: 'phs-field' },
      h('label', { for: `phs-field-${name}` }, LABELS[name], hint ? h('kbd', {}, hint) : null),
      control);
    const button = (action, label, key, classes = '') => h('button', {
      type: action === 'save' ? 'submit' : 'button',
      class: `button ${classes}`,
      dataset: { action },
    }, label, key ? h('kbd', {}, key) : null);

    const can = pane.can;
    const form = h('form', { class: 'phs-form', id: 'phs-form', novalidate: true },
      h('fieldset', { class: 'phs-status-group' },
        h('legend', {}, 'Status'), statusOptions),
      // Shown while the form says upload or restricted: why pad.ma can never take it.
      pane.export_warning ? h('p', { class: 'phs-banner phs-banner--conflict', id: 'phs-export-warning', role: 'status', hidden: true },
        pane.export_warning) : null,
      field('title', text('title', { maxlength: 255 }), 't'),
      field('project_group', h('select', { name: 'project_group', id: 'phs-field-project_group', disabled: readonly }, groupOptions)),
      field('date', h('input', { type: 'date', name: 'date', id: 'phs-field-date', value: values.date || '', readonly })),
      field('description', area('description')),
      field('notes', area('notes'), 'n'),
      h('div', { class: 'phs-curate__actions' },
        can.edit ? button('save', 'Save', '⌘S') : null,
        can.edit ? button('save-next', 'Save & Next', '⌘⏎', 'button-secondary') : null,
        can.submit ? button('submit', 'Submit for review', 's', 'button-secondary') : null,
        can.approve ? button('approve', 'Approve', 'a') : null,
        can.reject ? button('reject', 'Reject', 'r', 'no') : null,
        can.cancel ? button('cancel', 'Withdraw from review', '', 'button-secondary') : null,
        h('span', { class: 'phs-form__dirty', id: 'phs-dirty', hidden: true }, 'Unsaved changes'),
        can.edit ? button('discard', 'Discard changes', 'd', 'button-secondary phs-form__discard') : null));
    form.addEventListener('click', (event) => {
      const target = event.target.closest('[data-action]');
      if (!target || target.dataset.action === 'save') return;
      event.preventDefault();
      this.handlers.action(target.dataset.action);
    });
    return form;
  }

  renderBanners(extra = []) {
    const pane = this.pane;
    const banners = [];
    if (pane.lock.locked && !pane.lock.mine) {
      banners.push(h('div', { class: 'phs-banner phs-banner--lock', id: 'phs-lock' },
        `Locked by ${pane.lock.by}: read-only until they unlock it.`));
    } else if (!this.config.user.can_edit) {
      banners.push(h('div', { class: 'phs-banner' }, 'You can look but not edit.'));
    }
    if (pane.review.state === 'rejected' && pane.review.comment) {
      banners.push(h('div', { class: 'phs-banner phs-banner--rejected', id: 'phs-rejected' },
        h('strong', {}, 'Rejected by the reviewer: '), pane.review.comment));
    } else if (pane.review.state === 'in_review') {
      banners.push(h('div', { class: 'phs-banner phs-banner--review' },
        pane.review.own_submission ? 'In review: you submitted it, someone else must approve it.' : 'In review.'));
    } else if (pane.review.state === 'approved') {
      banners.push(h('div', { class: 'phs-banner phs-banner--ok' }, 'Approved for pad.ma.'));
    }
    this.bannerEl.replaceChildren(...banners, ...extra);
  }

  renderMeta() {
    const pane = this.pane;
    const when = pane.reviewed_at ? new Date(pane.reviewed_at).toLocaleString() : null;
    this.metaEl.textContent = when
      ? `Last saved by ${pane.reviewed_by || 'someone'}, ${when} · version ${pane.version}`
      : `Not reviewed yet · version ${pane.version}`;
    this.metaEl.dataset.version = pane.version;
  }

  /** A one-line message above the form; ``extra`` nodes (e.g. an Undo button) follow the text. */
  flash(kind, text, ...extra) {
    this.renderBanners([h('div', { class: `phs-banner phs-banner--${kind}`, role: kind === 'error' ? 'alert' : 'status', id: 'phs-flash' }, text, ...extra)]);
  }

  values() {
    const data = new FormData(this.form);
    const values = {};
    for (const name of FIELDS) values[name] = normalise(name, data.get(name) ?? (name === 'status' ? this.base.status : ''));
    // A disabled select is not in FormData.
    if (this.form.elements.namedItem('project_group').disabled) values.project_group = this.base.project_group;
    return values;
  }

  changes() {
    if (!this.pane) return {};
    const values = this.values();
    const changes = {};
    for (const name of FIELDS) {
      if (values[name] !== normalise(name, this.base[name])) changes[name] = values[name];
    }
    return changes;
  }

  get dirty() {
    return this.editable && Object.keys(this.changes()).length > 0;
  }

  changed() {
    const warning = this.form.querySelector('#phs-export-warning');
    if (warning) warning.hidden = !FOR_PADMA.includes(this.values().status);
    const dirty = this.dirty;
    this.form.querySelector('#phs-dirty').hidden = !dirty;
    const discard = this.form.querySelector('[data-action=discard]');
    if (discard) discard.hidden = !dirty;
    this.root.classList.toggle('phs-detail--dirty', dirty);
  }

  setStatus(value) {
    if (!this.editable) return;
    const radio = this.form.querySelector(`input[name=status][value="${value}"]`);
    if (radio) {
      radio.checked = true;
      this.changed();
    }
  }

  focus(name) {
    const control = this.form && this.form.elements.namedItem(name);
    if (control) {
      control.focus();
      if (control.select && name === 'title') control.select();
    }
  }

  /** Put the form back to the saved values; the edits are kept for ``undoDiscard``. */
  discard() {
    if (!this.dirty) return false;
    this.undoable = { id: this.pane.id, values: this.values() };
    this.fill(this.base);
    return true;
  }

  /** Bring back the edits ``discard`` threw away (until something is typed or saved). */
  undoDiscard() {
    const undo = this.undoable;
    if (!undo || !this.pane || undo.id !== this.pane.id) return false;
    this.undoable = null;
    this.fill(undo.values);
    return true;
  }

  /** Focus the next (``delta`` 1) or previous (-1) field after the focused one. */
  focusAdjacent(delta) {
    if (!this.form) return;
    const names = FIELDS.slice(1); // title … notes; the status has its number keys
    const current = names.indexOf(document.activeElement?.name);
    const next = current < 0 ? (delta > 0 ? 0 : names.length - 1) : (current + delta + names.length) % names.length;
    this.focus(names[next]);
  }

  /** Put ``values`` into the form's controls. */
  fill(values) {
    this.form.querySelectorAll('input[name=status]').forEach((radio) => {
      radio.checked = radio.value === values.status;
    });
    const control = (name) => this.form.elements.namedItem(name);
    control('title').value = values.title ?? '';
    control('project_group').value = values.project_group ?? '';
    control('date').value = values.date || '';
    control('description').value = values.description ?? '';
    control('notes').value = values.notes ?? '';
    this.changed();
  }

  /** A value as the form shows it: a status's label, a group's name, quoted text. */
  inWords(name, value) {
    if (value === null || value === undefined || value === '') return '—';
    if (name === 'status') return this.config.statuses.find((s) => s.value === value)?.label || value;
    if (name === 'project_group') return this.groups.get(value) || `group ${value}`;
    if (name === 'date') return value;
    return `“${value}”`;
  }

  /**
   * Someone saved first. Rebase onto their version: every field shows what they saved,
   * except the ones this person edited, which keep their input. The next save sends only
   * those, so nothing the other person did is undone without it being on screen here.
   */
  conflict(data) {
    const mine = this.changes();
    this.show(data.file);
    this.fill({ ...this.base, ...mine });
    const rows = (data.conflict?.changed || []).map((change) => h('li', {},
      h('strong', {}, `${change.label || LABELS[change.field] || change.field}: `),
      `${change.was_text} → ${change.now_text}, by ${change.by}`,
      change.field in mine
        ? ` — yours, ${this.inWords(change.field, mine[change.field])}, is kept: saving replaces theirs.`
        : ''));
    this.renderBanners([h('div', { class: 'phs-banner phs-banner--conflict', id: 'phs-conflict', role: 'alert' },
      h('p', {}, data.error), rows.length ? h('ul', {}, rows) : null)]);
  }

  setBusy(busy) {
    this.root.classList.toggle('phs-detail--busy', busy);
    this.form?.querySelectorAll('button').forEach((b) => { b.disabled = busy; });
  }
}
