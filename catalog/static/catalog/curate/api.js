// The Curate JSON API (/admin/curate/api/…): one function per endpoint.
// Errors arrive as ApiError with the server's message; a 409 carries the conflict data.

let config = null;

export class ApiError extends Error {
  constructor(message, status, data = {}) {
    super(message);
    this.status = status;
    this.data = data;
  }
}

export function configure(pageData) {
  config = pageData;
}

/** Django's CSRF token: Wagtail's page config, else the cookie. */
export function csrfToken() {
  const wagtail = document.getElementById('wagtail-config');
  if (wagtail) {
    try {
      return JSON.parse(wagtail.textContent).CSRF_TOKEN;
    } catch {
      // fall through to the cookie
    }
  }
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : '';
}

async function request(url, { method = 'GET', body } = {}) {
  const headers = { Accept: 'application/json', 'X-Requested-With': 'XMLHttpRequest' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    headers['X-CSRFToken'] = csrfToken();
  }
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError('The server cannot be reached. Check the connection and try again.', 0);
  }
  const isJson = (response.headers.get('Content-Type') || '').includes('application/json');
  const data = isJson ? await response.json() : null;
  if (!response.ok) {
    let message = data && data.error;
    if (!message) {
      message =
        response.status === 403
          ? 'The server refused this (403). Your session may have ended: reload the page.'
          : `The server answered ${response.status}.`;
    }
    throw new ApiError(message, response.status, data || {});
  }
  return data;
}

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null) search.set(key, value);
  }
  return search.toString();
}

function fileUrl(id, action = '') {
  const base = config.urls.file.replace(/0\/$/, `${id}/`);
  return action ? `${base}${action}/` : base;
}

export function tree(driveId, path, filter, offset = 0, limit = undefined) {
  return request(`${config.urls.tree}?${query({ drive: driveId, path, filter, offset, limit })}`);
}

export function file(id) {
  return request(fileUrl(id));
}

/** Save; with ``then`` ({direction, filter}) the answer also carries the file after it. */
export function save(id, version, changes, base, then = undefined) {
  return request(fileUrl(id), { method: 'POST', body: { version, changes, base, then } });
}

export function action(id, name, body = {}) {
  return request(fileUrl(id, name), { method: 'POST', body });
}

export function nextUnreviewed(driveId, path = '', filename = '') {
  return request(`${config.urls.next_unreviewed}?${query({ drive: driveId, path, filename })}`);
}

/** The file after (or before) path/filename in tree order across the drive, as its pane. */
export function step(driveId, path, filename, direction, filter = '') {
  return request(`${config.urls.step}?${query({ drive: driveId, path, filename, direction, filter })}`);
}
