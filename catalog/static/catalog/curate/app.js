// Curate: wires the tree, the file pane, the mount and the keys together.
// Page data comes from the json_script #phs-curate-data; no inline script anywhere.

import * as api from './api.js';
import { Detail } from './detail.js';
import { h } from './dom.js';
import { bindKeys } from './keyboard.js';
import * as mounts from './mount.js';
import * as preview from './preview.js';
import * as previews from './previews.js';
import { Tree } from './tree.js';

const data = JSON.parse(document.getElementById('phs-curate-data').textContent);
api.configure(data);

const $ = (id) => document.getElementById(id);
const root = $('phs-curate');
const driveSelect = $('phs-drive');
const ui = {
  pick: $('phs-mount-pick'),
  regrant: $('phs-mount-regrant'),
  fallback: $('phs-mount-fallback'),
  fallbackLabel: $('phs-mount-fallback-label'),
  input: $('phs-mount-input'),
  mountState: $('phs-mount-state'),
  chips: $('phs-chips'),
  help: $('phs-help'),
  reject: $('phs-reject'),
  rejectComment: $('phs-reject-comment'),
};

const state = {
  driveId: null,
  filter: '',
  mount: null,
  pendingHandle: null,
  busy: false,
  openToken: 0,
  previewToken: 0,
};

const drives = new Map(data.drives.map((drive) => [drive.id, drive]));
const driveName = (id) => drives.get(id)?.name || `drive ${id}`;

const detail = new Detail($('phs-detail'), data, {
  save: (next) => save(next),
  action: (name) => runAction(name),
});
const tree = new Tree($('phs-tree'), {
  onOpen: (id) => openFile(id),
  onError: (error) => notify(error.message),
});

function notify(text, kind = 'error') {
  if (detail.pane) detail.flash(kind, text);
  else $('phs-detail').replaceChildren(h('p', { class: `phs-banner phs-banner--${kind}`, role: 'alert' }, text));
}

function confirmDiscard() {
  if (!detail.dirty) return true;
  return window.confirm(`Discard your unsaved changes to ${detail.pane.filename}?`);
}

function updateUrl() {
  const params = new URLSearchParams();
  if (state.driveId) params.set('drive', state.driveId);
  if (state.filter) params.set('filter', state.filter);
  if (detail.pane) params.set('file', detail.pane.id);
  const query = params.toString();
  window.history.replaceState(null, '', query ? `?${query}` : window.location.pathname);
}

// --- drive and mount ---------------------------------------------------------------------

async function setDrive(id) {
  state.driveId = id;
  driveSelect.value = String(id);
  try {
    window.localStorage.setItem('phs-curate-drive', String(id));
  } catch {
    // storage may be unavailable; the drive is in the URL anyway
  }
  updateUrl();
  await Promise.all([tree.load(id, state.filter), refreshMount()]);
}

async function refreshMount() {
  state.mount = state.mount && state.mount.driveId === state.driveId ? state.mount : null;
  state.pendingHandle = null;
  if (!state.mount && state.driveId) {
    const result = await mounts.restore(state.driveId);
    if (result.mount) state.mount = result.mount;
    else if (result.handle) state.pendingHandle = result.handle;
  }
  renderMount();
}

function renderMount() {
  const name = state.driveId ? driveName(state.driveId) : '';
  const hasDrive = Boolean(state.driveId);
  ui.pick.hidden = !hasDrive || !mounts.supportsPicker;
  ui.pick.textContent = state.mount ? `Mount another folder for ${name}…` : `Mount folder for ${name}…`;
  ui.regrant.hidden = !state.pendingHandle;
  if (state.pendingHandle) ui.regrant.textContent = `Allow access to “${state.pendingHandle.name}” again`;
  ui.fallback.hidden = !hasDrive;
  ui.fallbackLabel.textContent = mounts.supportsPicker
    ? 'Choose folder (this session)'
    : `Mount folder for ${name}…`;
  if (!hasDrive) ui.mountState.textContent = '';
  else if (state.mount) ui.mountState.textContent = `Mounted: “${state.mount.label}”`;
  else if (state.pendingHandle) ui.mountState.textContent = 'Access lapsed after the reload: one click to allow it again.';
  else ui.mountState.textContent = 'No folder mounted: previews need the drive’s folder.';
  root.dataset.mount = state.mount ? state.mount.kind : 'none';
}

function setMount(mount) {
  state.mount = mount;
  state.pendingHandle = null;
  renderMount();
  if (detail.pane) showPreview(detail.pane);
}

ui.pick.addEventListener('click', async () => {
  try {
    const mount = await mounts.pick(state.driveId);
    if (mount) setMount(mount);
    else notify('Read access to the folder was not granted.');
  } catch (error) {
    if (error.name !== 'AbortError') notify(`Could not mount the folder: ${error.message}`);
  }
});

ui.regrant.addEventListener('click', async () => {
  const mount = await mounts.regrant(state.driveId, state.pendingHandle);
  if (mount) setMount(mount);
  else notify('Read access to the folder was not granted.');
});

ui.input.addEventListener('change', () => {
  if (ui.input.files.length) setMount(mounts.fromFileList(state.driveId, ui.input.files));
});

driveSelect.addEventListener('change', async () => {
  const id = Number(driveSelect.value);
  if (!id) return;
  if (!confirmDiscard()) {
    driveSelect.value = String(state.driveId || '');
    return;
  }
  detail.clear('Open a file from the tree, or press u for the next unreviewed file.');
  await setDrive(id);
});

// --- chips -------------------------------------------------------------------------------

function renderChips() {
  ui.chips.replaceChildren(...data.filters.map((chip) => h('button', {
    type: 'button',
    class: 'phs-chip',
    'aria-pressed': String(state.filter === chip.value),
    dataset: { filter: chip.value },
  }, chip.label)));
}

ui.chips.addEventListener('click', async (event) => {
  const chip = event.target.closest('[data-filter]');
  if (!chip || !state.driveId) return;
  await setFilter(state.filter === chip.dataset.filter ? '' : chip.dataset.filter);
});

/**
 * A chip on: the tree shows only its files, with their counts, and Curate opens the first
 * of them (unless the open file is one), so j/k walk them across folders at once.
 */
async function setFilter(filter) {
  state.filter = filter;
  renderChips();
  updateUrl();
  await tree.load(state.driveId, state.filter);
  const pane = detail.pane;
  if (filter && (!pane || pane.values.status !== filter) && confirmDiscard()) {
    await walk(() => api.step(state.driveId, '', '', 'next', filter), { force: true });
  } else if (pane) {
    await tree.reveal(pane.path, pane.id);
    tree.select(pane.id);
  }
}

// --- files -------------------------------------------------------------------------------

async function showPreview(pane) {
  const token = ++state.previewToken;
  const { previewEl, verifyEl } = detail;
  verifyEl.className = 'phs-verify';
  verifyEl.textContent = '';
  if (!state.mount || state.mount.driveId !== pane.drive.id) {
    preview.notMounted(previewEl, pane.drive.name, pane.previews || {}, pane.filename);
    return;
  }
  let file;
  try {
    file = await state.mount.getFile(pane.relative_path);
  } catch (error) {
    preview.clear(previewEl);
    previewEl.append(h('p', { class: 'phs-preview__message phs-preview__message--warning' },
      `The mounted folder could not be read: ${error.message}`));
    return;
  }
  if (token !== state.previewToken) return;
  if (!file) {
    preview.missing(previewEl, pane.relative_path, state.mount.label, pane.previews);
    verifyEl.className = 'phs-verify phs-verify--missing';
    verifyEl.textContent = 'Missing from the mounted folder.';
    return;
  }
  const [, verified] = await Promise.all([
    preview.show(previewEl, file, pane.facts, pane.filename),
    preview.verify(verifyEl, file, pane.facts.oshash),
  ]);
  // Previews the catalogue lacks are made from this verified file, in the background.
  const kind = preview.kindOf(file.type || pane.facts.mime_type || '', pane.filename, pane.facts.category);
  previews.offer(file, pane, kind, verified);
}

/** Tell tools (tests, bench/bench_curate_keys.py) that a file's pane is on screen:
 * ``stage`` "form" once its form is rendered, "preview" once its preview slot is filled. */
function rendered(stage, pane) {
  root.dataset[stage === 'form' ? 'formFile' : 'previewFile'] = String(pane.id);
  root.dispatchEvent(new CustomEvent('phs-curate:rendered', { detail: { stage, id: pane.id } }));
}

/** Show a file's pane; the tree follows (expands its folders, selects it). */
async function showPane(pane, token = ++state.openToken) {
  if (pane.drive.id !== state.driveId) await setDrive(pane.drive.id);
  if (token !== state.openToken) return false;
  detail.show(pane);
  rendered('form', pane);
  tree.select(pane.id);
  updateUrl();
  const shown = showPreview(pane).then(() => {
    if (detail.pane && detail.pane.id === pane.id) rendered('preview', pane);
  });
  if (!tree.fileNodes.has(pane.id)) {
    await tree.reveal(pane.path, pane.id);
    if (token === state.openToken) tree.select(pane.id);
  }
  await shown;
  return true;
}

async function openFile(id, { force = false } = {}) {
  if (!force && detail.pane && detail.pane.id !== id && !confirmDiscard()) return false;
  const token = ++state.openToken;
  let response;
  try {
    response = await api.file(id);
  } catch (error) {
    notify(error.message);
    return false;
  }
  if (token !== state.openToken) return false;
  return showPane(response.file, token);
}

/** One request that answers with the file to land on (a step, next unreviewed), shown. */
async function walk(request, { force = false } = {}) {
  if (!force && !confirmDiscard()) return false;
  const token = ++state.openToken;
  let result;
  try {
    result = await request();
  } catch (error) {
    notify(error.message);
    return false;
  }
  if (token !== state.openToken) return false;
  if (!result.file) {
    notify(result.message, 'info');
    return false;
  }
  return showPane(result.file, token);
}

/** The drive dropdown, the tree's folders and its summary, from the server's counters. */
function applyCounts(counts) {
  if (!counts) return;
  tree.setCounts(counts.folders);
  const top = counts.folders.find((folder) => folder.path === '');
  const drive = drives.get(counts.drive);
  if (!top || !drive) return;
  drive.reviewed = top.reviewed;
  drive.total = top.total;
  const option = driveSelect.querySelector(`option[value="${counts.drive}"]`);
  if (option) option.textContent = `${drive.name} (${top.reviewed}/${top.total})`;
}

async function save(next = false) {
  const pane = detail.pane;
  if (!pane || state.busy) return false;
  if (!detail.editable) {
    detail.flash('error', pane.lock.locked && !pane.lock.mine ? `Locked by ${pane.lock.by}: read-only.` : 'You cannot edit this file.');
    return false;
  }
  state.busy = true;
  detail.setBusy(true);
  let result;
  const then = next ? { direction: 'next', filter: state.filter } : undefined;
  try {
    result = await api.save(pane.id, pane.version, detail.changes(), detail.base, then);
  } catch (error) {
    if (error.status === 409 && error.data.file) {
      const theirs = error.data.file;  // their status shows in the tree too
      tree.updateFile(theirs.id, theirs.values.status, theirs.review.state === 'in_review');
      applyCounts(error.data.counts);
      detail.conflict(error.data);
    } else {
      detail.flash('error', error.message);
    }
    return false;
  } finally {
    state.busy = false;
    detail.setBusy(false);
  }
  const saved = result.file;
  tree.updateFile(saved.id, saved.values.status, saved.review.state === 'in_review');
  applyCounts(result.counts);
  if (next && result.then.file) {
    // The next file, in tree order across folders, came with the save's answer.
    await showPane(result.then.file);
    return true;
  }
  detail.show(saved);
  detail.flash('ok', next ? `Saved ${saved.filename}. ${result.then.message}` : `Saved ${saved.filename}.`);
  return true;
}

async function askRejectComment() {
  ui.rejectComment.value = '';
  ui.reject.showModal();
  ui.rejectComment.focus();
  const verdict = await new Promise((resolve) => {
    ui.reject.addEventListener('close', () => resolve(ui.reject.returnValue), { once: true });
  });
  const comment = ui.rejectComment.value.trim();
  return verdict === 'reject' && comment ? comment : null;
}

const ACTION_DONE = {
  submit: 'Submitted for review.',
  approve: 'Approved: it will be exported to pad.ma.',
  reject: 'Rejected: the curator will see your comment.',
  cancel: 'Withdrawn from review.',
};

async function runAction(name) {
  if (!detail.pane) return;
  if (name === 'save-next') {
    await save(true);
    return;
  }
  if (name === 'discard') {
    discard();
    return;
  }
  // A decision typed but not saved yet is saved first (submit needs it on the server).
  if (detail.dirty && !(await save(false))) return;
  if (!detail.pane.can[name]) {
    const pane = detail.pane;
    const why = {
      submit: 'Only a decided upload or restricted file that is not already in review can be submitted.',
      approve: pane.review.own_submission ? 'You cannot review your own submission.' : 'Nothing to approve here.',
      reject: pane.review.own_submission ? 'You cannot review your own submission.' : 'Nothing to reject here.',
      cancel: 'This file is not in review.',
    }[name];
    detail.flash('error', why || 'Not available.');
    return;
  }
  const body = { version: detail.pane.version };
  if (name === 'reject') {
    const comment = await askRejectComment();
    if (!comment) return;
    body.comment = comment;
  }
  state.busy = true;
  detail.setBusy(true);
  try {
    const result = await api.action(detail.pane.id, name, body);
    const file = result.file;
    tree.updateFile(file.id, file.values.status, file.review.state === 'in_review');
    applyCounts(result.counts);
    detail.show(file);
    detail.flash('ok', ACTION_DONE[name]);
  } catch (error) {
    detail.flash('error', error.message);
  } finally {
    state.busy = false;
    detail.setBusy(false);
  }
}

/** j / k: the next or previous file in tree order, across folders (with a chip on: of
 * its files only). Nothing open yet: the drive's first file. */
async function move(delta) {
  if (!state.driveId) return;
  const pane = detail.pane;
  const direction = delta > 0 ? 'next' : 'previous';
  await walk(() => api.step(state.driveId, pane?.path ?? '', pane?.filename ?? '', direction, state.filter));
}

async function nextUnreviewed() {
  if (!state.driveId) return;
  const pane = detail.pane;
  await walk(() => api.nextUnreviewed(state.driveId, pane?.path ?? '', pane?.filename ?? ''));
}

function discard() {
  if (!detail.discard()) return;
  const undo = h('button', { type: 'button', class: 'button button-small button-secondary', id: 'phs-undo', onclick: () => undoDiscard() },
    'Undo', h('kbd', {}, '⌘Z'));
  detail.flash('info', 'Edits discarded. ', undo);
}

function undoDiscard() {
  if (!detail.undoDiscard()) return false;
  detail.flash('info', 'Edits back: not saved yet.');
  return true;
}

$('phs-detail').addEventListener('click', (event) => {
  const link = event.target.closest('[data-copy-id]');
  if (!link) return;
  event.preventDefault();
  openFile(Number(link.dataset.copyId));
});

$('phs-help-open').addEventListener('click', () => ui.help.showModal());

bindKeys({
  save: () => save(false),
  saveNext: () => save(true),
  discard,
  undo: undoDiscard,
  move,
  status: (n) => detail.setStatus(data.statuses[n - 1].value),
  focus: (name) => detail.focus(name),
  focusAdjacent: (delta) => detail.focusAdjacent(delta),
  nextUnreviewed,
  action: runAction,
  help: () => ui.help.showModal(),
});

window.addEventListener('beforeunload', (event) => {
  if (detail.dirty) {
    event.preventDefault();
    event.returnValue = '';
  }
});

// For tests and tooling: mount a directory handle (e.g. from the Origin Private File System,
// since native pickers cannot be driven headlessly) as the current drive's folder.
window.phsCurate = {
  async mountHandle(handle) {
    const mount = await mounts.fromHandle(state.driveId, handle);
    if (mount) setMount(mount);
    return Boolean(mount);
  },
  get dirty() {
    return detail.dirty;
  },
};

async function start() {
  renderChips();
  renderMount();
  const params = new URLSearchParams(window.location.search);
  let driveId = Number(params.get('drive')) || null;
  const fileId = Number(params.get('file')) || null;
  if (!driveId) {
    try {
      driveId = Number(window.localStorage.getItem('phs-curate-drive')) || null;
    } catch {
      driveId = null;
    }
  }
  if (driveId && !drives.has(driveId)) driveId = null;
  const filter = params.get('filter') || '';
  if (data.filters.some((chip) => chip.value === filter)) {
    state.filter = filter;
    renderChips();
  }
  try {
    if (driveId) await setDrive(driveId);
    if (fileId) await openFile(fileId);
    else if (driveId && state.filter) {
      // From the dashboard's "needs attention": straight onto the first such file.
      await walk(() => api.step(driveId, '', '', 'next', state.filter), { force: true });
    }
  } finally {
    root.dataset.state = 'ready';
  }
}

start();
