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

export function missing(container, relativePath, mountLabel, previews = null) {
  clear(container);
  const text = `${relativePath} is not in the mounted folder “${mountLabel}”. Is the right drive mounted, or was the file moved?`;
  if (previews && Object.keys(previews).length) {
    offline(container, previews, { filename: relativePath, note: text, noteKind: 'warning' });
  } else {
    message(container, text, 'warning');
  }
}

export function notMounted(container, driveName, previews = null, filename = '') {
  clear(container);
  if (previews) offline(container, previews, { filename, note: `Mount the folder for ${driveName} to see the file itself.` });
  else message(container, `Mount the folder for ${driveName} to preview its files here.`);
}

// --- offline previews: the catalogue's own, shown without the drive -------------------

/** Which stored kind shows the file in the pane, best first (a strip goes with the poster). */
const OFFLINE_ORDER = ['review', 'poster', 'page', 'waveform', 'text', 'thumb'];

function seconds(value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '';
  const minutes = Math.floor(value / 60);
  const rest = (value - minutes * 60).toFixed(1).padStart(4, '0');
  return `${minutes}:${rest}`;
}

/** The strip's frame count and times, whichever way the catalogue gives them. */
function stripFrames(strip) {
  const frames = strip.frames;
  if (Array.isArray(frames)) return { count: frames.length, times: frames };
  const times = Array.isArray(strip.times) ? strip.times : null;
  const count = Number(frames) || (times ? times.length : 0);
  return { count, times };
}

/**
 * A video's frame strip, scrubbable: moving the pointer over the strip (or the arrow
 * keys, Home and End once it has the focus) shows that frame above it.
 */
export function scrubber(strip, poster = null) {
  const { count, times } = stripFrames(strip);
  if (!count || !strip.width || !strip.height) return null;
  const frameWidth = strip.width / count;
  const frameView = el('div', { class: 'phs-scrub__frame', 'data-frame': '' });
  frameView.style.aspectRatio = `${frameWidth} / ${strip.height}`;
  const posterImg = poster
    ? el('img', { class: 'phs-scrub__poster', src: poster.url, alt: 'Poster frame', width: poster.width, height: poster.height })
    : null;
  if (posterImg) frameView.append(posterImg);
  const marker = el('div', { class: 'phs-scrub__marker', hidden: '' });
  marker.style.width = `${100 / count}%`;
  const stripImg = el('img', {
    src: strip.url, alt: '', width: strip.width, height: strip.height, draggable: 'false',
  });
  const bar = el('div', {
    class: 'phs-scrub__strip',
    tabindex: '0',
    role: 'slider',
    'aria-label': `Frames of the video (${count}); move the pointer or use the arrow keys`,
    'aria-valuemin': '1',
    'aria-valuemax': String(count),
  });
  bar.append(stripImg, marker);
  const time = el('p', { class: 'phs-scrub__time', 'aria-live': 'polite' },
    posterImg ? `Poster frame · ${count} frames below` : `${count} frames`);
  const root = el('div', { class: 'phs-scrub', 'data-frames': String(count) });
  root.append(frameView, bar, time);

  let current = -1;
  const showFrame = (index) => {
    const i = Math.max(0, Math.min(count - 1, index));
    current = i;
    if (posterImg) posterImg.hidden = true;
    frameView.style.backgroundImage = `url("${strip.url}")`;
    frameView.style.backgroundSize = `${count * 100}% 100%`;
    frameView.style.backgroundPosition = `${count > 1 ? (i / (count - 1)) * 100 : 0}% 0`;
    frameView.dataset.frame = String(i);
    marker.hidden = false;
    marker.style.left = `${(i / count) * 100}%`;
    const at = times ? seconds(times[i]) : '';
    const words = `Frame ${i + 1} of ${count}${at ? ` · ${at}` : ''}`;
    time.textContent = words;
    bar.setAttribute('aria-valuenow', String(i + 1));
    bar.setAttribute('aria-valuetext', words);
  };
  bar.addEventListener('pointermove', (event) => {
    const box = stripImg.getBoundingClientRect();
    if (!box.width) return;
    showFrame(Math.floor(((event.clientX - box.left) / box.width) * count));
  });
  bar.addEventListener('keydown', (event) => {
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
    let next = null;
    if (step) next = current < 0 ? (step > 0 ? 0 : count - 1) : current + step;
    else if (event.key === 'Home') next = 0;
    else if (event.key === 'End') next = count - 1;
    if (next === null) return;
    event.preventDefault(); // keeps Curate's own keys (and the page) from moving too
    showFrame(next);
  });
  if (!posterImg) showFrame(0);
  return root;
}

/**
 * Show the catalogue's offline preview of a file, labelled "offline preview": the large
 * image, a video's poster and scrubbable strip, a PDF's page, an audio waveform, a
 * placeholder's reason, or that none was made yet. ``note`` says why the live file is not
 * shown (the drive is not mounted, the file is missing).
 */
export function offline(container, previews, { filename = '', note = '', noteKind = 'info' } = {}) {
  clear(container);
  const figure = el('figure', { class: 'phs-offline', 'data-offline': '' });
  figure.append(el('figcaption', { class: 'phs-offline__label' }, 'offline preview'));
  const kind = OFFLINE_ORDER.find((name) => previews[name] && previews[name].url);
  const strip = previews.strip && previews.strip.url ? previews.strip : null;
  if (strip && (!kind || kind === 'poster' || kind === 'thumb')) {
    const scrub = scrubber(strip, previews.poster || null);
    if (scrub) figure.append(scrub);
    figure.dataset.kind = 'strip';
  } else if (kind === 'text') {
    // The first lines, kept as text: shown as text (fetched with the session's cookie).
    const pre = el('pre', { class: 'phs-offline__text' }, 'Loading the first lines…');
    figure.append(pre);
    figure.dataset.kind = 'text';
    fetch(previews.text.url, { credentials: 'same-origin' })
      .then((response) => (response.ok ? response.text() : Promise.reject(new Error(String(response.status)))))
      .then((text) => { pre.textContent = text; })
      .catch((error) => { pre.textContent = `The first lines could not be loaded (${error.message}).`; });
  } else if (kind) {
    const shown = previews[kind];
    const img = el('img', { class: 'phs-offline__image', src: shown.url, alt: `${filename} (offline preview)` });
    if (shown.width && shown.height) {
      img.setAttribute('width', shown.width);
      img.setAttribute('height', shown.height);
    }
    figure.append(img);
    figure.dataset.kind = kind;
  } else if (previews.placeholder) {
    figure.append(el('p', { class: 'phs-offline__reason' },
      previews.placeholder.reason || 'No preview can be made of this file.'));
    figure.dataset.kind = 'placeholder';
  } else {
    figure.append(el('p', { class: 'phs-offline__reason' },
      'No offline preview yet: one is made when the drive is scanned, or here once the drive is mounted.'));
    figure.dataset.kind = 'none';
  }
  if (note) figure.append(el('p', { class: `phs-offline__note phs-preview__message--${noteKind}` }, note));
  container.replaceChildren(figure);
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
