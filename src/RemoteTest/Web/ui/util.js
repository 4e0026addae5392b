// Small DOM and formatting helpers. Every text from the server goes through textContent, never innerHTML.

/** Creates an element: h('td', {class: 'ok', title: 'x'}, 'text', child). */
export function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'value') e.value = v;
    else if (k === 'checked') e.checked = !!v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  append(e, children);
  return e;
}

function append(e, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(e, c);
    else e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces the content of an element. */
export function mount(target, ...children) {
  target.replaceChildren();
  append(target, children);
  return target;
}

const SECRET = /pass(word)?|secret|token|api[_-]?key/i;
export const MASK = '******';

/** A deep copy with every secret-looking member replaced by "******": passwords are never shown. */
export function maskSecrets(value) {
  if (Array.isArray(value)) return value.map(maskSecrets);
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET.test(k) && v !== null && typeof v !== 'object' ? MASK : maskSecrets(v);
    return out;
  }
  return value;
}

export function formatDate(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return isNaN(d) ? String(iso) : d.toLocaleString();
}

export function durationBetween(a, b) {
  if (!a) return '';
  const ms = (b ? new Date(b) : new Date()) - new Date(a);
  if (!(ms >= 0)) return '';
  return ms < 1000 ? `${ms} ms` : ms < 120000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 60000)} min`;
}

/** Splits "80, 443 8443" into tokens; whole numbers become numbers, anything else stays text for the server to reject by field. */
export function listOf(text, numeric = false) {
  return String(text || '').split(/[\s,;]+/).filter(Boolean)
    .map(t => numeric && /^\d+$/.test(t) ? Number(t) : t);
}

/** Saves a text as a file in the browser. */
export function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** One CSV line per row (RFC 4180); a cell that a spreadsheet would run as a formula is prefixed with '. */
export function toCsv(header, rows) {
  const cell = v => {
    let s = v === null || v === undefined ? '' : Array.isArray(v) ? v.join(' ') : String(v);
    if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [header, ...rows].map(r => r.map(cell).join(',')).join('\r\n') + '\r\n';
}

export const STATES = ['PENDING', 'STARTED', 'RETRY', 'SUCCESS', 'FAILURE', 'REVOKED'];

export function stateBadge(state) {
  return h('span', { class: `badge state-${String(state || '').toLowerCase()}` }, state || '?');
}

const VERDICT_WORDS = { pass: 'PASS', fail: 'FAIL', partial: 'PARTIAL', error: 'ERROR' };

/**
 * The badge that leads for a task: its verdict (did the checks pass?) — PASS, FAIL 2/2, PARTIAL 1/3 (failed of
 * checked), ERROR — with the Celery state as secondary text; a task without a verdict (not finished, or
 * cancelled) shows its state as the badge. Colours: green passed, red failed; never amber (that means "expiring soon").
 */
export function outcomeBadge(t) {
  const v = t && t.verdict;
  if (!VERDICT_WORDS[v]) return stateBadge(t && t.state);
  const c = t.checks;
  const counts = c && (v === 'fail' || v === 'partial') && c.passed + c.failed > 0 ? ` ${c.failed}/${c.passed + c.failed}` : '';
  const title = c ? `${c.passed} passed, ${c.failed} failed` : undefined;
  return h('span', { class: 'outcome' },
    h('span', { class: `badge verdict-badge verdict-${v}`, dataset: { verdict: v }, title }, VERDICT_WORDS[v] + counts),
    ' ', h('small', { class: 'state-text muted' }, t.state || ''));
}

/** A friendly panel for a list with nothing in it, or a feature the server does not offer. */
export function emptyState(title, text) {
  return h('div', { class: 'empty' }, h('strong', {}, title), h('p', {}, text));
}
