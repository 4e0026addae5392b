// The public API as the UI uses it: JSON in and out, the optional API token, errors as values.

const TOKEN_KEY = 'remotetest.token';

export function getToken() { return localStorage.getItem(TOKEN_KEY) || ''; }
export function setToken(t) { t ? localStorage.setItem(TOKEN_KEY, t) : localStorage.removeItem(TOKEN_KEY); }

/** An API answer the UI can branch on: ok, status, body (parsed JSON or null), error text. */
export async function call(method, path, body) {
  const headers = { Accept: 'application/json' };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    return { ok: false, status: 0, body: null, error: `server unreachable (${e.message})` };
  }
  let json = null;
  const text = await response.text();
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  let error = response.ok ? null : (json && json.error) || `${response.status} ${response.statusText}`;
  if (response.status === 401) {
    error = `this server needs an API token${getToken() ? ' (the one given was refused)' : ''}: set it with the Token button, top right (${error})`;
  }
  return { ok: response.ok, status: response.status, body: json, error, field: json && json.field };
}

export const get = path => call('GET', path);
export const post = (path, body) => call('POST', path, body);
export const del = path => call('DELETE', path);

let tasksCache;
/** GET /tasks once per page load: names and argument schemas. */
export async function taskList() {
  if (!tasksCache) {
    const r = await get('/tasks');
    tasksCache = r.ok ? r.body : { task_names: [], tasks: [] };
  }
  return tasksCache;
}
