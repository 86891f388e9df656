// Offline previews made in the browser. When a curator has the drive mounted and the
// catalogue lacks a file's preview, it is made here from the local file — an image drawn
// on a canvas, a video seeked to its poster frame and to evenly spaced frames for the
// strip — and uploaded in the background to /admin/previews/<oshash>/<kind>/.
//
// Only ever for a file whose oshash was just verified against the catalogue (the caller
// passes the hash ``preview.verify`` computed), one job at a time, after the live preview
// is on screen; failures are logged, never shown as errors, and never retried in the
// same session. The server checks it all again (catalogued oshash, decodable image, size
// cap) and keeps a scan-made preview over a browser-made one.

import { csrfToken } from './api.js';

/** Long side in pixels per kind, and the server's size caps (catalog.previews). */
const LONG_SIDE = { thumb: 320, review: 1280, poster: 1280 };
const CAP = { thumb: 512 * 1024, review: 2 * 1024 * 1024, poster: 2 * 1024 * 1024, strip: 2 * 1024 * 1024 };
/** The strip: this many frames, each this wide (catalog/previews/kinds.py's). */
export const STRIP_FRAMES = 10;
const STRIP_FRAME_WIDTH = 240;
const QUALITIES = [0.82, 0.7, 0.55, 0.4];
const SEEK_TIMEOUT = 8000;

/** What the browser makes for a kind of file (image/video as preview.js's kindOf says). */
const MADE = { image: ['thumb', 'review'], video: ['poster', 'thumb', 'strip'] };

const attempted = new Set();
let queue = Promise.resolve();
/** Jobs finished, for tests and tooling: {oshash, kind, ok, status?, error?}. */
export const log = [];

function scaled(width, height, longSide) {
  const scale = Math.min(1, longSide / Math.max(width, height));
  return [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
}

function canvas(width, height) {
  const node = document.createElement('canvas');
  node.width = width;
  node.height = height;
  return node;
}

function toBlob(node, quality) {
  return new Promise((resolve) => node.toBlob(resolve, 'image/jpeg', quality));
}

/** The canvas as a JPEG under ``cap`` bytes (lower quality until it fits), or null. */
async function jpegUnder(node, cap) {
  for (const quality of QUALITIES) {
    const blob = await toBlob(node, quality);
    if (blob && blob.size <= cap) return blob;
  }
  return null;
}

function draw(source, width, height, longSide) {
  const [w, h] = scaled(width, height, longSide);
  const node = canvas(w, h);
  const context = node.getContext('2d');
  context.imageSmoothingQuality = 'high';
  context.drawImage(source, 0, 0, w, h);
  return node;
}

async function imagePreviews(file, kinds) {
  const bitmap = await createImageBitmap(file);
  try {
    const made = {};
    for (const kind of kinds) {
      // The browser scales off the main thread; the canvas only copies the small image.
      const [width, height] = scaled(bitmap.width, bitmap.height, LONG_SIDE[kind]);
      const small = await createImageBitmap(bitmap, { resizeWidth: width, resizeHeight: height, resizeQuality: 'high' });
      const node = draw(small, width, height, LONG_SIDE[kind]);
      small.close();
      made[kind] = { blob: await jpegUnder(node, CAP[kind]), size: [node.width, node.height] };
    }
    return made;
  } finally {
    bitmap.close();
  }
}

function once(target, event, timeout = SEEK_TIMEOUT) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${event} within ${timeout / 1000} s`));
    }, timeout);
    const done = () => {
      cleanup();
      resolve();
    };
    const failed = () => {
      cleanup();
      reject(new Error(target.error ? `media error ${target.error.code}` : 'media error'));
    };
    function cleanup() {
      clearTimeout(timer);
      target.removeEventListener(event, done);
      target.removeEventListener('error', failed);
    }
    target.addEventListener(event, done, { once: true });
    target.addEventListener('error', failed, { once: true });
  });
}

async function seek(video, time) {
  const arrived = once(video, 'seeked');
  video.currentTime = time;
  await arrived;
}

/** The poster's time: a tenth in, at most 10 s, past most fades and title cards (the
 *  scanner, which decodes the strip's frames anyway, picks the liveliest of those). */
export function posterTime(duration) {
  return Math.min(duration * 0.1, 10);
}

/** The strip's frame times: the middles of ``count`` equal parts of the video. */
export function stripTimes(duration, count = STRIP_FRAMES) {
  return Array.from({ length: count }, (_, i) => ((i + 0.5) * duration) / count);
}

async function videoPreviews(file, kinds) {
  const url = URL.createObjectURL(file);
  const video = document.createElement('video');
  video.muted = true;
  video.preload = 'auto';
  video.playsInline = true;
  try {
    const loaded = once(video, 'loadeddata');
    video.src = url;
    await loaded;
    const { duration, videoWidth: width, videoHeight: height } = video;
    if (!Number.isFinite(duration) || duration <= 0 || !width || !height) {
      throw new Error('the browser cannot read this video’s duration or size');
    }
    const made = {};
    for (const kind of kinds.filter((name) => name === 'poster' || name === 'thumb')) {
      if (!made.poster && !made.thumb) await seek(video, posterTime(duration));
      const still = draw(video, width, height, LONG_SIDE[kind]);
      made[kind] = { blob: await jpegUnder(still, CAP[kind]), size: [still.width, still.height] };
    }
    if (kinds.includes('strip')) {
      const times = stripTimes(duration);
      const frameWidth = Math.min(STRIP_FRAME_WIDTH, width);
      const frameHeight = Math.max(1, Math.round((height * frameWidth) / width));
      const strip = canvas(frameWidth * times.length, frameHeight);
      const context = strip.getContext('2d');
      for (const [i, time] of times.entries()) {
        await seek(video, time);
        context.drawImage(video, i * frameWidth, 0, frameWidth, frameHeight);
      }
      made.strip = {
        blob: await jpegUnder(strip, CAP.strip),
        size: [strip.width, strip.height],
        fields: { times: JSON.stringify(times.map((t) => Math.round(t * 1000) / 1000)) },
        extra: { frames: times.length, times },
      };
    }
    return made;
  } finally {
    video.removeAttribute('src');
    video.load();
    URL.revokeObjectURL(url);
  }
}

async function upload(url, kind, blob, fields = {}) {
  const body = new FormData();
  body.append('image', blob, `${kind}.jpg`);
  for (const [name, value] of Object.entries(fields)) body.append(name, value);
  const response = await fetch(url, {
    method: 'POST',
    body,
    credentials: 'same-origin',
    headers: { 'X-CSRFToken': csrfToken(), 'X-Requested-With': 'XMLHttpRequest', Accept: 'application/json' },
  });
  let data = null;
  if ((response.headers.get('Content-Type') || '').includes('application/json')) data = await response.json();
  if (!response.ok) throw Object.assign(new Error((data && data.error) || `the server answered ${response.status}`), { status: response.status });
  return data;
}

/** The kinds this file should have that the catalogue lacks and this person may upload. */
export function missingKinds(kind, pane) {
  const have = pane.previews || {};
  const urls = pane.preview_upload || {};
  return (MADE[kind] || []).filter((name) => !(have[name] && have[name].url) && urls[name]
    && !attempted.has(`${pane.facts.oshash}/${name}`));
}

async function run(file, pane, kind, kinds) {
  const oshash = pane.facts.oshash;
  kinds.forEach((name) => attempted.add(`${oshash}/${name}`));
  let made;
  try {
    made = kind === 'image' ? await imagePreviews(file, kinds) : await videoPreviews(file, kinds);
  } catch (error) {
    kinds.forEach((name) => log.push({ oshash, kind: name, ok: false, error: `not made: ${error.message}` }));
    return;
  }
  for (const name of kinds) {
    const item = made[name];
    if (!item || !item.blob) {
      log.push({ oshash, kind: name, ok: false, error: `over the ${CAP[name] / 1024} KB cap at every quality` });
      continue;
    }
    try {
      const data = await upload(pane.preview_upload[name], name, item.blob, item.fields);
      // The pane now knows it (shown offline if the drive goes); the server may have kept
      // a preview stored meanwhile (``stored`` false), which is as good.
      if (data && data.url) {
        const [width, height] = item.size;
        pane.previews = { ...(pane.previews || {}), [name]: { url: data.url, width, height, ...item.extra } };
      }
      log.push({ oshash, kind: name, ok: true, stored: Boolean(data && data.stored), bytes: item.blob.size });
    } catch (error) {
      log.push({ oshash, kind: name, ok: false, status: error.status, error: error.message });
    }
  }
}

/**
 * Make and upload the previews ``pane``'s file lacks, from ``file`` (the mounted File),
 * in the background. ``verified`` is the oshash the browser computed: nothing is made
 * unless it is the catalogue's. Returns the job's promise (callers need not wait).
 */
export function offer(file, pane, kind, verified) {
  const oshash = pane.facts && pane.facts.oshash;
  if (!oshash || verified !== oshash) return Promise.resolve();
  const kinds = missingKinds(kind, pane);
  if (!kinds.length) return Promise.resolve();
  queue = queue.then(() => new Promise((resolve) => {
    // After the page has painted the live preview: the curator never waits for this.
    const start = () => run(file, pane, kind, kinds).catch(() => {}).finally(resolve);
    if (typeof window.requestIdleCallback === 'function') window.requestIdleCallback(start, { timeout: 2000 });
    else setTimeout(start, 200);
  }));
  return queue;
}
