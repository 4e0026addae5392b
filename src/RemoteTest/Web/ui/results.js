// Result tables a person reads at a glance, and the same checks as CSV rows.
import { h, maskSecrets } from './util.js';
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
    items.push(h('span', { class: 'chip', dataset: { key: k } }, h('b', {}, k.replace(/_/g, ' ')), ' ', String(v)));
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
        h('td', { class: r.error ? 'error-text' : 'muted' }, r.error || r.text || ''),
        hasNs ? h('td', {}, nameserverTable(r, colours)) : null);
    });
    return h('table', { class: 'grid dns' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Domain'), h('th', {}, 'Type'), h('th', {}, 'State'), h('th', {}, 'Retrieved'),
        h('th', {}, 'Details'), hasNs ? h('th', {}, 'Per nameserver') : null)),
      h('tbody', {}, rows));
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

/** One colour per named state in this result, so "which state is everything in" is seen without reading. */
function stateColours(list) {
  const names = [...new Set(list.map(([, r]) => r.state).filter(s => s && s !== 'unknown' && s !== 'inconsistent'))].sort(stateOrder);
  return new Map(names.map((n, i) => [n, i % PALETTE]));
}

function stateOrder(a, b) {
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
 * ok (green), bad (red: closed, or the TLS check failed — a refused certificate is a failure, not a warning),
 * warn (amber: only a certificate that expires in under CERT_WARN_DAYS days).
 */
export function portStatus(p, failed = false) {
  if (!p || failed) return 'bad';
  // A port may be expected closed ("expected": "closed"); then closed is the good outcome and open the bad one.
  if (!p.open) return p.expected === 'closed' || p.expected === 'any' ? 'ok' : 'bad';
  if (p.expected === 'closed') return 'bad';
  const t = p.tls;
  // The server lists a refused certificate in failed_ports (failed); without verification a mismatch is only shown.
  if (t && (t.error || t.loaded === false)) return 'bad';
  if (t && typeof t.days_left === 'number' && t.days_left < CERT_WARN_DAYS) return 'warn';
  return 'ok';
}

function daysLeft(t) {
  if (typeof t.days_left === 'number') return t.days_left;
  const end = t.expires_utc ? new Date(t.expires_utc) : null;
  return end && !isNaN(end) ? Math.floor((end - Date.now()) / 86400000) : null;
}

const ports = {
  header: ['host', 'port', 'open', 'status', 'error', 'error_kind', 'connect_ms', 'tls_cn', 'tls_days_left', 'tls_not_after', 'tls_issuer', 'tls_error'],
  rows: result => entries(result).flatMap(([host, r]) => Object.entries(r.ports || {}).map(([port, p]) => {
    const t = p.tls || {};
    return [host, port, p.open, portStatus(p, failedPort(r, port)), p.error, p.error_kind, p.connect_ms, t.cn, p.tls ? daysLeft(t) : null, t.not_after, t.issuer, t.error];
  })),
  table(result) {
    const list = entries(result);
    const allPorts = [...new Set(list.flatMap(([, r]) => Object.keys(r.ports || {})))].sort((a, b) => Number(a) - Number(b));
    const rows = list.map(([host, r]) => h('tr', { dataset: { host } },
      h('th', { scope: 'row' }, host, r.error ? h('div', { class: 'error-text' }, r.error) : null),
      allPorts.map(port => portCell(host, port, (r.ports || {})[port], failedPort(r, port)))));
    return h('div', {},
      h('table', { class: 'grid ports' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Host'), allPorts.map(p => h('th', {}, p)))),
        h('tbody', {}, rows)),
      h('p', { class: 'legend' }, h('span', { class: 'cell-ok' }, 'open'), ' ', h('span', { class: 'cell-bad' }, 'closed / failed (TLS included)'), ' ',
        h('span', { class: 'cell-warn' }, `certificate expires in < ${CERT_WARN_DAYS} days`)),
      portTraces(result));
  },
};

/** Whether the server listed this port of the host in failed_ports (its own rule: closed, wrong state, TLS refused). */
function failedPort(r, port) {
  return (r.failed_ports || []).some(f => String(f) === String(port));
}

function portCell(host, port, p, failed) {
  if (!p) return h('td', { class: 'cell-none' }, '');
  const status = portStatus(p, failed);
  const lines = [p.open ? 'open' : (p.error_kind || 'closed')];
  if (p.expected && p.expected !== 'open') lines.push(`expected ${p.expected}`);
  const title = [`${host}:${port} ${p.open ? 'open' : 'closed'}`];
  if (p.error) title.push(p.error);
  if (typeof p.connect_ms === 'number') title.push(`connect ${p.connect_ms} ms${p.address ? ' to ' + p.address : ''}`);
  if (p.tls) {
    const t = p.tls;
    const days = daysLeft(t);
    if (t.cn) lines.push(t.cn);
    if (days !== null) lines.push(`${days} d left`);
    if (t.error) lines.push(t.error_kind || 'TLS error');
    title.push(...[t.cn && `CN ${t.cn}`, t.issuer && `issuer ${t.issuer}`, t.not_after && `expires ${t.not_after}`,
      t.protocol && `${t.protocol} ${t.cipher || ''}`, t.name_match === false && 'name does not match',
      t.chain_valid === false && `chain invalid ${(t.chain_errors || []).join(', ')}`, t.error].filter(Boolean));
  }
  return h('td', { class: `cell-${status}`, title: title.join('\n'), dataset: { port, status } },
    lines.map((l, i) => i === 0 ? h('b', {}, l) : h('small', {}, l)));
}

// ---------- apptest.run ----------
const apps = {
  header: ['host', 'application', 'ok', 'error', 'error_kind'],
  rows: result => entries(result).flatMap(([host, r]) => Object.entries(appsOf(r)).map(([app, a]) => [host, app, a.ok, a.error, a.error_kind])),
  table(result) {
    const list = entries(result);
    const names = [...new Set(list.flatMap(([, r]) => Object.keys(appsOf(r))))];
    return h('table', { class: 'grid apps' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Host'), names.map(n => h('th', {}, n)))),
      h('tbody', {}, list.map(([host, r]) => h('tr', { dataset: { host } },
        h('th', { scope: 'row' }, host, r.error ? h('div', { class: 'error-text' }, r.error) : null),
        names.map(n => {
          const a = appsOf(r)[n];
          if (!a) return h('td', { class: 'cell-none' }, '');
          return h('td', { class: a.ok ? 'cell-ok' : 'cell-bad', dataset: { app: n }, title: a.error || 'ok' },
            h('b', {}, a.ok ? 'ok' : (a.error_kind || 'failed')), a.ok ? null : h('small', {}, a.error || ''));
        })))));
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
