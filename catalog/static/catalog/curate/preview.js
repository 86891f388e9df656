// Live preview of a file from the mounted folder, and the identity check against the
// catalogued oshash. Object URLs are revoked when the next file is shown.

import { oshash } from './oshash.js';

const TEXT_EXTENSIONS = /\.(txt|md|markdown|csv|tsv|json|srt|vtt|log|xml|yaml|yml|ini|html?)$/i;
const TEXT_LIMIT = 256 * 1024;

let currentUrl = null;

function el(tag, attrs = {}, text = '') {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  if (text) node.textContent = text;
  return node;
}

function message(container, text, kind = 'info') {
  container.replaceChildren(el('p', { class: `phs-preview__message phs-preview__message--${kind}` }, text));
}

export function clear(container) {
  if (currentUrl) URL.revokeObjectURL(currentUrl);
  currentUrl = null;
  container.replaceChildren();
}

export function kindOf(mime, name, category) {
  if (mime.startsWith('image/')) return 'image';
  if (mime.startsWith('video/')) return 'video';
  if (mime.startsWith('audio/')) return 'audio';
  if (mime === 'application/pdf' || /\.pdf$/i.test(name)) return 'pdf';
  if (mime.startsWith('text/') || TEXT_EXTENSIONS.test(name)) return 'text';
  if (category && ['image', 'video', 'audio'].includes(category)) return category;
  return null;
}

function objectUrl(file) {
  currentUrl = URL.createObjectURL(file);
  return currentUrl;
}

function mediaError(container, what, mime) {
  message(container, `The browser cannot play this ${what} (${mime || 'unknown type'}). Open it in a media player.`, 'warning');
}

/** Show ``file`` (a File) in ``container``; ``facts`` are the catalog's facts. */
export async function show(container, file, facts, filename) {
  clear(container);
  const mime = file.type || facts.mime_type || '';
  const kind = kindOf(mime, filename, facts.category);
  if (kind === 'image') {
    const img = el('img', { class: 'phs-preview__image', alt: filename });
    img.src = objectUrl(file);
    container.replaceChildren(img);
    try {
      await img.decode();
      container.dataset.rendered = `${img.naturalWidth}x${img.naturalHeight}`;
    } catch {
      message(container, `The browser cannot show this image (${mime || 'unknown type'}), e.g. RAW or HEIC.`, 'warning');
    }
  } else if (kind === 'video' || kind === 'audio') {
    const media = el(kind, { class: `phs-preview__${kind}`, controls: '', preload: 'metadata' });
    media.addEventListener('error', () => mediaError(container, kind, mime), { once: true });
    media.src = objectUrl(file);
    container.replaceChildren(media);
  } else if (kind === 'pdf') {
    const frame = el('iframe', { class: 'phs-preview__pdf', title: filename });
    frame.src = objectUrl(file);
    container.replaceChildren(frame);
  } else if (kind === 'text') {
    const text = await file.slice(0, TEXT_LIMIT).text();
    const pre = el('pre', { class: 'phs-preview__text' });
    pre.textContent = file.size > TEXT_LIMIT ? `${text}\n…` : text;
    container.replaceChildren(pre);
  } else {
    message(container, `No preview for ${mime || 'this type of'} files in the browser.`);
  }
}

export function missing(container, relativePath, mountLabel) {
  clear(container);
  message(
    container,
    `${relativePath} is not in the mounted folder “${mountLabel}”. Is the right drive mounted, or was the file moved?`,
    'warning',
  );
}

export function notMounted(container, driveName) {
  clear(container);
  message(container, `Mount the folder for ${driveName} to preview its files here.`);
}

/** Compare the local file's oshash with the catalogued one; write the verdict into ``badge``. */
export async function verify(badge, file, expected) {
  badge.className = 'phs-verify phs-verify--pending';
  badge.textContent = 'Checking identity…';
  let actual;
  try {
    actual = await oshash(file);
  } catch (error) {
    badge.className = 'phs-verify phs-verify--warning';
    badge.textContent = `Could not read the file to check it: ${error.message}`;
    return null;
  }
  badge.dataset.oshash = actual;
  if (!expected) {
    badge.className = 'phs-verify phs-verify--unknown';
    badge.textContent = `No catalogued hash to compare (local ${actual}).`;
  } else if (actual === expected) {
    badge.className = 'phs-verify phs-verify--ok';
    badge.textContent = 'verified';
    badge.title = `oshash ${actual} matches the catalog`;
  } else {
    badge.className = 'phs-verify phs-verify--warning';
    badge.textContent = `Not the catalogued file: the mounted file's oshash is ${actual}, the catalog has ${expected}.`;
  }
  return actual;
}
