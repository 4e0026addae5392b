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

const ZONE_KEY = 'remotetest.timezone';

/** 'utc' (the default, as the CLI prints) or 'local': how every time in the UI is shown; kept in this browser. */
export function timeZoneMode() { return localStorage.getItem(ZONE_KEY) === 'local' ? 'local' : 'utc'; }
export function setTimeZoneMode(mode) { mode === 'local' ? localStorage.setItem(ZONE_KEY, 'local') : localStorage.removeItem(ZONE_KEY); }

const pad = n => String(n).padStart(2, '0');

/**
 * A time with its zone, always: "2026-12-02 04:20:11 UTC" (the CLI's format), or in local time with its offset,
 * "2026-12-02 05:20:11 UTC+01:00", when the user chose local times.
 */
export function formatDate(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d)) return String(iso);
  if (timeZoneMode() === 'utc') {
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
  }
  const off = -d.getTimezoneOffset();
  const zone = `UTC${off >= 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${zone}`;
}

/** Midnight starting a yyyy-mm-dd day in the zone times are shown in (the history's since/until pickers). */
export function dayStart(day, plusDays = 0) {
  const [y, m, d] = day.split('-').map(Number);
  return timeZoneMode() === 'utc' ? new Date(Date.UTC(y, m - 1, d + plusDays)) : new Date(y, m - 1, d + plusDays);
}

/** A <time> element: machine-readable datetime, the zone-carrying text. */
export function timeEl(iso) {
  return iso ? h('time', { datetime: iso }, formatDate(iso)) : '';
}

export function durationBetween(a, b) {
  if (!a) return '';
  const ms = (b ? new Date(b) : new Date()) - new Date(a);
  if (!(ms >= 0)) return '';
  return ms < 1000 ? `${ms} ms` : ms < 120000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 60000)} min`;
}

/** More ports than this in one range is almost certainly a typo (as the CLI: 1-65535 is refused before sending). */
export const MAX_PORT_RANGE = 1024;

/**
 * Ports as the CLI takes them: "80, 443 5060-5070" → [80, 443, 5060, ..., 5070]; a token that is neither a port
 * nor a range of at most MAX_PORT_RANGE stays text, so the server names it in its 400 answer (the field is marked).
 */
export function portsOf(text) {
  return listOf(text).flatMap(t => {
    const m = /^(\d+)\s*-\s*(\d+)$/.exec(String(t));
    if (!m) return [/^\d+$/.test(String(t)) ? Number(t) : t];
    const from = Number(m[1]), to = Number(m[2]);
    if (from < 1 || to > 65535 || from > to || to - from >= MAX_PORT_RANGE) return [t];
    return Array.from({ length: to - from + 1 }, (_, i) => from + i);
  });
}

/** Ports back to the shortest text: [5060, 5061, 5062, 443] → "443, 5060-5062". */
export function portsText(ports) {
  const nums = [...new Set((ports || []).map(Number).filter(n => Number.isInteger(n)))].sort((a, b) => a - b);
  const out = [];
  for (let i = 0; i < nums.length; i++) {
    let j = i;
    while (j + 1 < nums.length && nums[j + 1] === nums[j] + 1) j++;
    out.push(j - i >= 2 ? `${nums[i]}-${nums[j]}` : j > i ? `${nums[i]}, ${nums[j]}` : String(nums[i]));
    i = j;
  }
  return out.join(', ');
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

/** Option and summary keys in words: "all_addresses" → "All addresses", true → "yes". */
const WORDS = {
  all_addresses: 'All addresses', verify_ssl: 'Verify certificates', tls_ports: 'TLS ports', ports_checked: 'Ports checked',
  ports_open: 'Ports open', ports_failed: 'Ports failed', duration_sec: 'Took (s)', ok: 'All passed', hosts: 'Hosts',
  domains: 'Domains', record_type: 'Record type', include_text: 'Include text', nameservers: 'Nameservers',
  trace_failed: 'Trace failed ports', expect_closed: 'Expect closed', sni: 'SNI', server_name: 'Server name', ca_pem: 'CA certificates',
};
export function labelOf(key) {
  return WORDS[key] || (key.charAt(0).toUpperCase() + key.slice(1)).replace(/_/g, ' ');
}
export function valueWords(v) {
  if (v === true) return 'yes';
  if (v === false) return 'no';
  if (Array.isArray(v)) return v.join(', ');
  return String(v);
}

/**
 * Failed checks, each as a row the user can open: the summary line says what failed and why (text, readable,
 * copyable, keyboard-reachable as a <summary>), the body holds every fact behind it. items: {key, title, reason, facts[]}.
 */
export function reasonList(items, heading = 'Why checks failed', tone = 'bad') {
  if (!items.length) return null;
  return h('section', { class: `reasons tone-${tone}`, 'aria-label': heading },
    h('h2', {}, heading, ' ', h('small', { class: 'muted' }, `(${items.length})`)),
    h('ul', {}, items.map(it => h('li', { dataset: { reason: it.key } },
      h('details', {},
        h('summary', {}, h('b', { class: 'reason-target' }, it.title), ' ', h('span', { class: 'reason-text' }, it.reason)),
        it.facts && it.facts.length ? h('ul', { class: 'reason-facts' }, it.facts.filter(Boolean).map(f => h('li', {}, f))) : null)))));
}

/**
 * Polls while something runs: tick() answers {running, changed}; the delay starts at <first> ms, grows 1.5× per
 * quiet tick up to <max>, goes back to <first> after a change, and polling stops when nothing runs, the page is
 * left (alive() false), or waits while the browser tab is hidden. Returns nothing; one timer at a time.
 */
export function pollWhileRunning(alive, tick, first = 1000, max = 10000) {
  let delay = first;
  const step = async () => {
    if (!alive()) return;
    if (document.hidden) { document.addEventListener('visibilitychange', step, { once: true }); return; }
    let outcome;
    try { outcome = await tick(); } catch { outcome = { running: true, changed: false }; }
    if (!alive() || !outcome || !outcome.running) return;
    delay = outcome.changed ? first : Math.min(max, Math.round(delay * 1.5));
    setTimeout(step, delay);
  };
  setTimeout(step, delay);
}

export const RUNNING_STATES = ['PENDING', 'STARTED', 'RETRY'];
export const isRunning = t => !!t && !t.ready && RUNNING_STATES.includes(t.state);

/** Error kinds (the API's stable keys) in words for people; the key itself stays in CSV, JSON and data-* attributes. */
const KIND_WORDS = {
  refused: 'refused', timeout: 'timeout', unreachable: 'unreachable', dns: 'name not resolved', nxdomain: 'no such name',
  servfail: 'resolver failure', no_answer: 'no answer', tls_handshake: 'TLS handshake failed', tls_verify: 'certificate refused',
  http_status: 'HTTP error status', auth_failed: 'login refused', protocol_error: 'protocol error', not_allowed: 'not allowed',
  not_checkable: 'cannot be checked', unexpected_open: 'open (expected closed)', sip_status: 'SIP error status',
  mtls_required: 'client certificate required', not_permitted: 'not permitted', missing_input: 'missing input',
};
export const kindWords = kind => (kind && KIND_WORDS[kind]) || (kind ? String(kind).replace(/_/g, ' ') : '');
