// Result tables a person reads at a glance, and the same checks as CSV rows.
import { h, maskSecrets, reasonList, labelOf, valueWords, kindWords, portsText } from './util.js';
import { traces, portTraces } from './trace.js';

const PALETTE = 6; // state colours state-c0 .. state-c5 in app.css

/** Days left below this are shown amber (a certificate that needs renewing soon). */
export const CERT_WARN_DAYS = 21;

/** The renderer for a task name; unknown tasks fall back to their JSON. */
function kindOf(taskName, result) {
  if (taskName === 'dns.check_records') return dns;
  if (taskName === 'porttest.run') return ports;
  if (taskName === 'apptest.run') return apps;
  if (taskName === 'path.trace') return traces;
  // A result without a name (an old task, a group child): guess from its shape.
  const first = result && result.results && Object.values(result.results)[0];
  if (first && 'retrieved' in first) return dns;
  if (first && first.ports && Object.values(first.ports).some(t => t && 'hops' in t)) return traces;
  if (first && 'ports' in first) return ports;
  return null;
}

/** The table (and summary line) for a finished task's result. */
export function renderResult(taskName, result) {
  const kind = kindOf(taskName, result);
  const summary = result && result.summary ? renderSummary(result.summary) : null;
  const body = kind ? kind.table(result) : h('pre', { class: 'json' }, JSON.stringify(maskSecrets(result), null, 2));
  return h('div', { class: 'result' }, summary, body);
}

/** CSV header and rows for a result; a location column is put first when several locations ran it. */
export function csvRows(taskName, result) {
  const kind = kindOf(taskName, result);
  if (!kind) return { header: ['key', 'value'], rows: Object.entries((result && result.results) || {}).map(([k, v]) => [k, JSON.stringify(maskSecrets(v))]) };
  return { header: kind.header, rows: kind.rows(result) };
}

function renderSummary(s) {
  const items = [];
  for (const [k, v] of Object.entries(s)) {
    if (v === null || typeof v === 'object') continue;
    items.push(h('span', { class: 'chip', dataset: { key: k } }, h('b', {}, labelOf(k) + ':'), ' ', valueWords(v)));
  }
  return h('div', { class: 'summary' }, items);
}

const entries = result => Object.entries((result && result.results) || {});

// ---------- dns.check_records ----------
const dns = {
  header: ['domain', 'record_type', 'state', 'retrieved', 'error', 'closest_state', 'ttl', 'rcode'],
  rows: result => entries(result).map(([domain, r]) =>
    [domain, r.record_type, r.state, r.retrieved, r.error, r.closest_state, r.ttl, r.rcode]),
  table(result) {
    const colours = stateColours(entries(result));
    const hasNs = entries(result).some(([, r]) => nameserverAnswers(r).length > 0);
    const rows = entries(result).map(([domain, r]) => {
      const bad = !dnsDomainOk(r);
      const state = h('span', { class: `state ${bad ? 'state-bad' : 'state-c' + colours.get(r.state)}` }, r.state ?? '?');
      return h('tr', { class: bad ? 'row-bad' : 'row-ok', dataset: { domain } },
        h('td', {}, domain),
        h('td', {}, r.record_type ?? ''),
        h('td', {}, state, r.closest_state ? h('small', { class: 'muted' }, ` closest: ${r.closest_state}`) : null,
          r.mixed_states ? h('small', { class: 'muted' }, ` mixed: ${r.mixed_states.join(', ')}`) : null),
        h('td', { class: 'values' }, (r.retrieved || []).map(v => h('div', {}, v))),
        h('td', { class: 'ttl', dataset: { ttl: r.ttl ?? '' } }, typeof r.ttl === 'number' ? `${r.ttl} s` : ''),
        h('td', { class: r.error ? 'error-text' : 'muted' }, r.error || r.text || ''),
        hasNs ? h('td', {}, nameserverTable(r, colours)) : null);
    });
    return h('div', {},
      reasonList(dnsReasons(result)),
      h('table', { class: 'grid dns' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Domain'), h('th', {}, 'Type'), h('th', {}, 'State'), h('th', {}, 'Retrieved'),
          h('th', { title: 'Time to live of the answer, in seconds' }, 'TTL'), h('th', {}, 'Details'), hasNs ? h('th', {}, 'Per nameserver') : null)),
        h('tbody', {}, rows)));
  },
};

/**
 * A domain's verdict: the "ok" the service wrote by its one DNS rule (Tasks/DnsVerdict.cs: every resolver
 * answered, all agree, on a named state). Only results stored before that field existed fall back to their
 * error and state, which is what that rule said of them (they could not be "inconsistent").
 */
export function dnsDomainOk(r) {
  if (r && typeof r.ok === 'boolean') return r.ok;
  return !!r && !r.error && r.state !== 'unknown' && r.state !== 'inconsistent';
}

/** Why each failed domain failed, in words (the same rule as dnsDomainOk). */
function dnsReasons(result) {
  return entries(result).filter(([, r]) => !dnsDomainOk(r)).map(([domain, r]) => {
    const ns = nameserverAnswers(r);
    const reason = r.error ? r.error
      : r.state === 'inconsistent' || r.consistent === false ? `resolvers disagree${r.mixed_states ? ` (states ${r.mixed_states.join(', ')})` : ''}`
      : r.state === 'unknown' ? `the answer ${(r.retrieved || []).length ? `(${r.retrieved.join(', ')}) ` : ''}matches none of the named states${r.closest_state ? `; closest: ${r.closest_state}` : ''}`
      : `state ${r.state}`;
    return {
      key: domain, title: `${domain}:`, reason,
      facts: [`state: ${r.state ?? '?'}`, r.record_type && `record type: ${r.record_type}`, `retrieved: ${(r.retrieved || []).join(', ') || 'nothing'}`,
        r.rcode && `rcode: ${r.rcode}`, typeof r.ttl === 'number' && `TTL: ${r.ttl} s`, r.error_kind && `error kind: ${r.error_kind}`,
        ...ns.filter(([, a]) => a.error || a.state !== r.state).map(([n, a]) => `${n}: ${a.error || `${a.state} (${(a.retrieved || a.values || []).join(', ')})`}`)],
    };
  });
}

/** One colour per named state in this result, so "which state is everything in" is seen without reading. */
function stateColours(list) {
  const names = [...new Set(list.map(([, r]) => r.state).filter(s => s && s !== 'unknown' && s !== 'inconsistent'))].sort(stateOrder);
  return new Map(names.map((n, i) => [n, i % PALETTE]));
}

/** original first, then numbered states in order, then by name: a state name keeps its place (and colour) on every page. */
export function stateOrder(a, b) {
  if (a === 'original') return -1;
  if (b === 'original') return 1;
  const na = Number(a), nb = Number(b);
  if (!isNaN(na) && !isNaN(nb)) return na - nb;
  return a.localeCompare(b);
}

/**
 * Per-nameserver answers in either shape: {"ns": {...}} or [{"nameserver": "ns", ...}], then (authoritative: true)
 * every authoritative server, labelled with its NS name and SOA serial.
 */
function nameserverAnswers(r) {
  const ns = r.by_nameserver || r.nameservers || r.per_nameserver;
  const list = !ns || typeof ns !== 'object' ? [] : Array.isArray(ns) ? ns.map(a => [a.nameserver || a.server || '?', a]) : Object.entries(ns);
  const auth = r.authoritative && r.authoritative.servers ? Object.entries(r.authoritative.servers)
    .map(([k, a]) => [`${a.name || ''} ${k}${a.soa_serial != null ? ` serial ${a.soa_serial}` : ''}`.trim(), a]) : [];
  return [...list, ...auth].filter(([, a]) => a && typeof a === 'object');
}

function nameserverTable(r, colours) {
  const list = nameserverAnswers(r);
  if (!list.length) return '';
  const reference = JSON.stringify([...(r.retrieved || [])].sort());
  return h('table', { class: 'inner' }, list.map(([ns, a]) => {
    const values = [...(a.retrieved || a.values || [])].sort();
    const differs = a.error || a.state !== r.state || JSON.stringify(values) !== reference;
    const state = a.state ? h('span', { class: `state ${a.state === 'unknown' || a.error ? 'state-bad' : 'state-c' + (colours.get(a.state) ?? 0)}` }, a.state) : null;
    return h('tr', { class: differs ? 'differs' : '' },
      h('td', {}, ns), h('td', {}, state), h('td', {}, a.error ? h('span', { class: 'error-text' }, a.error) : values.join(' ')));
  }));
}

// ---------- porttest.run ----------

/**
 * ok (green), bad (red: closed, or the TLS check failed — a refused or invalid certificate, a name mismatch, plain
 * text instead of TLS, a handshake timeout are failures, never warnings), warn (amber: ONLY a certificate that
 * passed but expires in under CERT_WARN_DAYS days).
 */
export function portStatus(p, failed = false) {
  if (!p || failed) return 'bad';
  // The server judged the port (its "ok": open as expected and, on a TLS port, the handshake accepted).
  if (typeof p.ok === 'boolean' && !p.ok) return 'bad';
  if (typeof p.ok !== 'boolean') {
    // A port may be expected closed ("expected": "closed"); then closed is the good outcome and open the bad one.
    if (!p.open) return p.expected === 'closed' || p.expected === 'any' ? 'ok' : 'bad';
    if (p.expected === 'closed') return 'bad';
    if (p.tls && (p.tls.error || p.tls.loaded === false)) return 'bad';
  }
  const t = p.tls;
  if (p.open && t && typeof t.days_left === 'number' && t.days_left < CERT_WARN_DAYS) return 'warn';
  return 'ok';
}

/** The CSV's word for a status: a failed port says "fail" (amber's "warn" is only a certificate expiring soon). */
const CSV_STATUS = { ok: 'ok', bad: 'fail', warn: 'warn' };

function daysLeft(t) {
  if (typeof t.days_left === 'number') return t.days_left;
  const end = t.expires_utc ? new Date(t.expires_utc) : null;
  return end && !isNaN(end) ? Math.floor((end - Date.now()) / 86400000) : null;
}

/** Past this many ports the grid becomes wrapping tiles, failed and open first, with a filter box. */
export const PORT_GRID_MAX = 12;

/** The one line saying why a port failed (or what to renew), from the server's own error texts. */
export function portReason(p) {
  if (!p) return '';
  const t = p.tls;
  if (p.error) return p.error;
  if (!p.open) return kindWords(p.error_kind) || 'closed';
  if (t && t.error) return t.error;
  if (t && t.loaded === false) return 'TLS handshake refused';
  if (t && t.name_match === false) return `name mismatch: certificate is for ${(t.sans && t.sans.length ? t.sans : [t.cn]).join(', ')}`;
  if (t && t.chain_valid === false) return `certificate chain invalid${t.chain_errors && t.chain_errors.length ? ': ' + t.chain_errors.join(', ') : ''}`;
  const days = t ? daysLeft(t) : null;
  if (days !== null && days < CERT_WARN_DAYS) return `certificate expires in ${days} days (${t.not_after || t.expires_utc || ''})`;
  return '';
}

/** Every fact behind a port's outcome, one line each (the body of its expandable reason row). */
function portFacts(p) {
  const t = p.tls || {};
  return [
    `state: ${p.open ? 'open' : 'closed'}${p.expected && p.expected !== 'open' ? ` (expected ${p.expected})` : ''}`,
    p.error_kind && `error kind: ${p.error_kind}`,
    typeof p.connect_ms === 'number' && `connect: ${p.connect_ms} ms${p.address ? ' to ' + p.address : ''}`,
    p.tls && t.error && `TLS: ${t.error}`,
    p.tls && t.error_kind && `TLS error kind: ${t.error_kind}`,
    t.server_name && `server name (SNI): ${t.server_name}`,
    t.cn && `certificate CN: ${t.cn}`, t.sans && t.sans.length && `names: ${t.sans.join(', ')}`,
    t.issuer && `issuer: ${t.issuer}`, t.not_after && `expires: ${t.not_after}`,
    t.name_match === false && 'the name does not match the certificate',
    t.chain_valid === false && `chain invalid: ${(t.chain_errors || []).join(', ')}`,
    t.protocol && `${t.protocol} ${t.cipher || ''}`,
  ];
}

function portEntries(r) {
  return Object.entries(r.ports || {});
}

const ports = {
  header: ['host', 'port', 'open', 'status', 'error', 'error_kind', 'connect_ms', 'tls_cn', 'tls_days_left', 'tls_not_after', 'tls_issuer', 'tls_error', 'reason'],
  rows: result => entries(result).flatMap(([host, r]) => portEntries(r).map(([port, p]) => {
    const t = p.tls || {};
    return [host, port, p.open, CSV_STATUS[portStatus(p, failedPort(r, port))], p.error, p.error_kind, p.connect_ms, t.cn, p.tls ? daysLeft(t) : null, t.not_after, t.issuer, t.error, portReason(p)];
  })),
  table(result) {
    const list = entries(result);
    const allPorts = [...new Set(list.flatMap(([, r]) => Object.keys(r.ports || {})))].sort((a, b) => Number(a) - Number(b));
    const many = allPorts.length > PORT_GRID_MAX;
    const counts = { ok: 0, bad: 0, warn: 0 };
    const reasons = [];
    const rows = list.map(([host, r]) => {
      let cells = allPorts.map(port => {
        const p = (r.ports || {})[port];
        const status = p ? portStatus(p, failedPort(r, port)) : null;
        if (status) counts[status]++;
        if (status === 'bad' || status === 'warn') {
          // Amber says only when the certificate expires (it passed); red says why the check failed.
          const days = p.tls ? daysLeft(p.tls) : null;
          const reason = status === 'warn' ? `certificate expires in ${days} days (${p.tls.not_after || p.tls.expires_utc || ''})` : `failed — ${portReason(p) || 'failed'}`;
          reasons.push({ key: `${host}:${port}`, host, port, title: `${host}:${port}`, reason, facts: portFacts(p), status });
        }
        return { port, p, status };
      });
      // Many ports: failed first, then expiring, then open, then the rest (closed as expected), each by number.
      if (many) cells = cells.filter(c => c.p).sort((x, y) => rank(x) - rank(y) || Number(x.port) - Number(y.port));
      return h('tr', { dataset: { host } },
        h('th', { scope: 'row' }, host, r.error ? h('div', { class: 'error-text' }, r.error) : null),
        cells.map(c => portCell(host, c.port, c.p, failedPort(r, c.port))));
    });
    for (const [host, r] of list) {
      if (r.error) reasons.unshift({ key: host, title: host, reason: r.error, facts: [r.error_kind && `error kind: ${r.error_kind}`] });
    }
    const table = h('table', { class: `grid ports${many ? ' many' : ''}` },
      many ? null : h('thead', {}, h('tr', {}, h('th', {}, 'Host'), allPorts.map(p => h('th', {}, p)))),
      h('tbody', {}, rows));
    const filter = many ? portFilter(table) : null;
    return h('div', { class: 'port-view' },
      h('p', { class: 'port-counts', dataset: { ok: counts.ok, bad: counts.bad, warn: counts.warn } },
        h('span', { class: 'cell-ok' }, `${counts.ok} passed`), ' ', h('span', { class: 'cell-bad' }, `${counts.bad} failed`),
        counts.warn ? [' ', h('span', { class: 'cell-warn' }, `${counts.warn} expiring soon`)] : null),
      reasonList(groupReasons(reasons.filter(x => x.status !== 'warn'))),
      reasonList(groupReasons(reasons.filter(x => x.status === 'warn')), `Certificates expiring in < ${CERT_WARN_DAYS} days`, 'warn'),
      filter, table,
      h('p', { class: 'legend' }, h('span', { class: 'cell-ok' }, 'passed'), ' ', h('span', { class: 'cell-bad' }, 'failed (closed, refused or invalid certificate, TLS error)'), ' ',
        h('span', { class: 'cell-warn' }, `certificate expires in < ${CERT_WARN_DAYS} days`)),
      portTraces(result));
  },
};

/** Ports of a host failing for the same reason are one row ("127.0.0.1: 40 ports — connection refused"), so hundreds stay readable. */
function groupReasons(items) {
  const groups = new Map();
  for (const it of items) {
    const host = it.host ?? it.key;
    const k = `${host}\u0000${it.reason}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(it);
  }
  return [...groups.values()].map(g => g.length === 1 ? g[0] : {
    key: `${g[0].host}:${g.map(x => x.port).join(',')}`, title: `${g[0].host}: ${g.length} ports`, reason: g[0].reason, status: g[0].status,
    facts: [`ports: ${portsText(g.map(x => Number(x.port)))}`, ...g[0].facts.filter(f => f && !/^connect:/.test(f))],
  });
}

const RANK = { bad: 0, warn: 1, ok: 2 };
function rank(c) {
  const r = RANK[c.status] ?? 3;
  // Among passed ports, open ones before ports closed as expected.
  return r === 2 && !(c.p && c.p.open) ? 2.5 : r;
}

/** A filter box over the port tiles: port number, state or reason text (e.g. "fail", "mismatch", "5061"). */
function portFilter(table) {
  const input = h('input', { type: 'search', class: 'port-filter', name: 'port-filter', dataset: { search: '1' }, placeholder: 'Filter ports: number, open, fail, reason…', 'aria-label': 'Filter ports' });
  const shown = h('small', { class: 'muted', role: 'status' });
  input.addEventListener('input', () => {
    const q = input.value.trim().toLowerCase();
    let n = 0;
    for (const td of table.querySelectorAll('td[data-port]')) {
      const hit = !q || td.dataset.port === q || `${td.dataset.port} ${td.dataset.status === 'bad' ? 'fail failed' : td.dataset.status} ${td.textContent}`.toLowerCase().includes(q);
      td.hidden = !hit;
      if (hit) n++;
    }
    shown.textContent = q ? `${n} shown` : '';
  });
  return h('div', { class: 'filters port-filter-row' }, h('label', {}, 'Filter ', input), shown);
}

/** Whether the server listed this port of the host in failed_ports (its own rule: closed, wrong state, TLS refused). */
function failedPort(r, port) {
  return (r.failed_ports || []).some(f => String(f) === String(port));
}

function portCell(host, port, p, failed) {
  if (!p) return h('td', { class: 'cell-none' }, '');
  const status = portStatus(p, failed);
  const lines = [p.open ? 'open' : (kindWords(p.error_kind) || 'closed')];
  if (p.expected && p.expected !== 'open') lines.push(`expected ${p.expected}`);
  if (p.tls) {
    const t = p.tls;
    const days = daysLeft(t);
    if (t.cn) lines.push(t.cn);
    if (days !== null) lines.push(`${days} d left`);
    if (t.error) lines.push(kindWords(t.error_kind) || 'TLS error');
  }
  // The reason is text in the cell (and in full in the list above), never only a hover title.
  const reason = status === 'bad' ? portReason(p) : '';
  return h('td', { class: `cell-${status}`, dataset: { port, status, label: port } },
    h('b', { class: 'port-no' }, port), ' ', lines.map((l, i) => i === 0 ? h('b', {}, l) : h('small', {}, l)),
    // Not when it only repeats the first line ("refused" / "connection refused").
    reason && !reason.toLowerCase().includes(lines[0].toLowerCase()) ? h('small', { class: 'cell-reason' }, reason) : null);
}

// ---------- apptest.run ----------
const apps = {
  header: ['host', 'application', 'ok', 'error', 'error_kind'],
  rows: result => entries(result).flatMap(([host, r]) => Object.entries(appsOf(r)).map(([app, a]) => [host, app, a.ok, a.error, a.error_kind])),
  table(result) {
    const list = entries(result);
    const names = [...new Set(list.flatMap(([, r]) => Object.keys(appsOf(r))))];
    const reasons = list.flatMap(([host, r]) => [
      ...(r.error ? [{ key: host, title: host, reason: r.error }] : []),
      ...Object.entries(appsOf(r)).filter(([, a]) => !a.ok).map(([n, a]) => ({
        key: `${host}/${n}`, title: `${host} ${n}:`, reason: a.error || a.error_kind || 'failed',
        facts: [a.error_kind && `error kind: ${a.error_kind}`, ...Object.entries(a).filter(([k, v]) => !['ok', 'error', 'error_kind'].includes(k) && v !== null && typeof v !== 'object')
          .map(([k, v]) => `${labelOf(k)}: ${valueWords(v)}`)],
      }))]);
    return h('div', {}, reasonList(reasons), h('table', { class: 'grid apps' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Host'), names.map(n => h('th', {}, n)))),
      h('tbody', {}, list.map(([host, r]) => h('tr', { dataset: { host } },
        h('th', { scope: 'row' }, host, r.error ? h('div', { class: 'error-text' }, r.error) : null),
        names.map(n => {
          const a = appsOf(r)[n];
          if (!a) return h('td', { class: 'cell-none' }, '');
          return h('td', { class: a.ok ? 'cell-ok' : 'cell-bad', dataset: { app: n } },
            h('b', {}, a.ok ? 'ok' : (kindWords(a.error_kind) || 'failed')), a.ok ? null : h('small', {}, a.error || ''));
        }))))));
  },
};

/** Per-host applications: the original put them straight under the host; a newer shape may nest them. */
function appsOf(r) {
  if (r && r.applications && typeof r.applications === 'object' && !Array.isArray(r.applications)) return r.applications;
  const out = {};
  for (const [k, v] of Object.entries(r || {})) if (v && typeof v === 'object' && 'ok' in v) out[k] = v;
  return out;
}

/** True when every check in the result passed (what the CLI's exit code says). */
export function passed(taskName, result) {
  if (result && result.summary && typeof result.summary.ok === 'boolean') return result.summary.ok;
  const kind = kindOf(taskName, result);
  if (kind === dns) return entries(result).every(([, r]) => dnsDomainOk(r));
  if (kind === ports) return entries(result).every(([, r]) => !(r.failed_ports || []).length && Object.values(r.ports || {}).every(p => portStatus(p) !== 'bad'));
  if (kind === apps) return entries(result).every(([, r]) => Object.values(appsOf(r)).every(a => a.ok));
  return true;
}
