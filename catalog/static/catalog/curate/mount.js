// The local folder where a drive is plugged in. Previews come only from here: the server
// never serves drive contents.
//
// With the File System Access API (Chromium) the chosen directory handle is kept per
// drive in IndexedDB; after a reload one click re-grants read access. Elsewhere a
// <input webkitdirectory> lists the folder's files for this session. One drive is
// mounted at a time.

const DB_NAME = 'phs-curate';
const STORE = 'mounts';

export const supportsPicker = typeof window.showDirectoryPicker === 'function';

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function withStore(mode, work) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const transaction = db.transaction(STORE, mode);
      const request = work(transaction.objectStore(STORE));
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = () => reject(transaction.error);
    });
  } finally {
    db.close();
  }
}

const key = (driveId) => `drive:${driveId}`;

export async function storedHandle(driveId) {
  try {
    return (await withStore('readonly', (store) => store.get(key(driveId)))) || null;
  } catch {
    return null;
  }
}

export async function rememberHandle(driveId, handle) {
  try {
    await withStore('readwrite', (store) => store.put(handle, key(driveId)));
  } catch {
    // Private windows may refuse IndexedDB: the mount still works for this session.
  }
}

export async function forgetHandle(driveId) {
  await withStore('readwrite', (store) => store.delete(key(driveId)));
}

async function permission(handle, request = false) {
  if (typeof handle.queryPermission !== 'function') return 'granted';
  const options = { mode: 'read' };
  const state = await handle.queryPermission(options);
  if (state === 'granted' || !request) return state;
  return handle.requestPermission(options);
}

const nfc = (name) => name.normalize('NFC');

async function child(dir, name, kind) {
  try {
    return kind === 'file' ? await dir.getFileHandle(name) : await dir.getDirectoryHandle(name);
  } catch (error) {
    if (!['NotFoundError', 'TypeError', 'TypeMismatchError'].includes(error.name)) throw error;
  }
  // The catalog keeps names as the scanner saw them; the disk may spell é as NFC or NFD.
  const wanted = nfc(name);
  for await (const [entryName, handle] of dir.entries()) {
    if (handle.kind === kind && nfc(entryName) === wanted) return handle;
  }
  return null;
}

/** A mounted folder: ``getFile(relativePath)`` gives a File, or null when it is missing. */
export class Mount {
  constructor(driveId, label, { handle = null, files = null } = {}) {
    this.driveId = driveId;
    this.label = label;
    this.handle = handle;
    this.files = files;
    this.kind = handle ? 'handle' : 'files';
  }

  async getFile(relativePath) {
    if (this.files) return this.files.get(nfc(relativePath)) || null;
    const parts = relativePath.split('/');
    let dir = this.handle;
    for (const part of parts.slice(0, -1)) {
      dir = await child(dir, part, 'directory');
      if (!dir) return null;
    }
    const handle = await child(dir, parts[parts.length - 1], 'file');
    return handle ? handle.getFile() : null;
  }
}

/** Mount a directory handle (from the picker, IndexedDB, or an OPFS directory). */
export async function fromHandle(driveId, handle, { remember = true } = {}) {
  if ((await permission(handle, true)) !== 'granted') return null;
  if (remember) await rememberHandle(driveId, handle);
  return new Mount(driveId, handle.name || 'folder', { handle });
}

/** Ask for a folder with the native picker (needs a user gesture). */
export async function pick(driveId) {
  const handle = await window.showDirectoryPicker({ id: `phs-drive-${driveId}`, mode: 'read' });
  return fromHandle(driveId, handle);
}

/**
 * The drive's remembered folder: {mount} when access is still granted, {handle} when one
 * click must re-grant it, {} when nothing is remembered.
 */
export async function restore(driveId) {
  const handle = await storedHandle(driveId);
  if (!handle) return {};
  try {
    if ((await permission(handle)) === 'granted') {
      return { mount: new Mount(driveId, handle.name, { handle }) };
    }
  } catch {
    return {};
  }
  return { handle };
}

/** Re-grant access to a remembered handle (call from a click). */
export async function regrant(driveId, handle) {
  return fromHandle(driveId, handle, { remember: false });
}

/** The files of a <input webkitdirectory> selection, keyed by path below the chosen folder. */
export function fromFileList(driveId, fileList) {
  const files = new Map();
  let top = '';
  for (const file of fileList) {
    const relative = file.webkitRelativePath || file.name;
    const slash = relative.indexOf('/');
    if (!top) top = slash >= 0 ? relative.slice(0, slash) : '';
    files.set(nfc(slash >= 0 ? relative.slice(slash + 1) : relative), file);
  }
  return new Mount(driveId, top || 'folder', { files });
}
