// path.trace results: per host and port a hop list (like mtr --report) with the drop point marked; also used
// under a timed-out port of a porttest.run result (trace_failed).
import { h, reasonList } from './util.js';

const ms = v => (typeof v === 'number' ? v.toFixed(1) : '');

/** How a trace ended, in words (no colour needed to read it). */
function endText(t) {
  if (t.end === 'reached') return 'reached';
  if (t.end === 'filtered') return t.filtered_after ? `filtered after hop ${t.filtered_after.ttl} (${t.filtered_after.address})` : 'filtered: no hop answered';
  if (t.end === 'unreachable') { const u = t.unreachable || {}; return `unreachable: ${u.name} from ${u.from} (hop ${u.ttl})`; }
  return t.error || 'not traced';
}

/** Every trace that did not reach its target, as reason rows (the hop list stays below). */
export function traceReasons(result) {
  return entries(result).flatMap(([host, r]) => r.error ? [{ key: host, title: `${host}:`, reason: r.error }]
    : Object.entries(r.ports || {}).filter(([, t]) => t.end !== 'reached').map(([port, t]) => ({
      key: `${host}:${port}`, title: port === 'icmp' ? `${host} icmp:` : `${host}:${port} ${t.protocol || ''}:`, reason: endText(t),
      facts: [t.error_kind && `error kind: ${t.error_kind}`, `hops probed: ${(t.hops || []).length}`,
        t.filtered_after && `last answering hop: ${t.filtered_after.ttl} ${t.filtered_after.address}`],
    })));
}

/** One line saying how a trace ended. */
function verdict(t) {
  if (t.end === 'reached') return h('span', { class: 'trace-end cell-ok', dataset: { end: 'reached' } }, 'reached');
  if (t.end === 'filtered') {
    const f = t.filtered_after;
    return h('span', { class: 'trace-end cell-bad', dataset: { end: 'filtered' } },
      f ? `filtered after hop ${f.ttl} (${f.address})` : 'filtered: no hop answered');
  }
  if (t.end === 'unreachable') {
    const u = t.unreachable || {};
    return h('span', { class: 'trace-end cell-bad', dataset: { end: 'unreachable' } }, `unreachable: ${u.name} from ${u.from} (hop ${u.ttl})`);
  }
  return h('span', { class: 'trace-end cell-bad', dataset: { end: 'error' } }, t.error || 'not traced');
}

/** The hop list of one trace; the first silent hop after the last answer is marked as the drop point. */
export function traceView(title, t) {
  const dropTtl = t.filtered_after ? t.filtered_after.ttl + 1 : null;
  const rows = (t.hops || []).map(hop => {
    const drop = hop.address === null && hop.ttl === dropTtl;
    const rejected = hop.answer === 'unreachable';
    const who = hop.address === null ? '???' : (hop.name ? `${hop.name} (${hop.address})` : hop.address);
    const rtts = hop.rtt_ms || [];
    return h('tr', { class: drop || rejected ? 'hop-drop' : null, dataset: { ttl: String(hop.ttl), answer: hop.answer || 'none' } },
      h('td', {}, String(hop.ttl)),
      h('td', {}, who, drop ? h('b', { class: 'drop-mark' }, ' ◀ dropped here') : null,
        rejected ? h('b', { class: 'drop-mark' }, ` ◀ rejected: ${(t.unreachable || {}).name || 'unreachable'}`) : null),
      h('td', {}, `${hop.loss_pct}%`), h('td', {}, String(hop.sent)), h('td', {}, rtts.length ? ms(rtts[rtts.length - 1]) : ''),
      h('td', {}, ms(hop.rtt_avg)), h('td', {}, ms(hop.rtt_min)), h('td', {}, ms(hop.rtt_max)), h('td', {}, ms(hop.rtt_stdev)));
  });
  return h('section', { class: 'trace', dataset: { trace: title } },
    h('h4', {}, title, ' ', verdict(t)),
    rows.length ? h('table', { class: 'grid hops' },
      h('thead', {}, h('tr', {}, ['Hop', 'Host', 'Loss', 'Sent', 'Last ms', 'Avg', 'Best', 'Worst', 'StDev'].map(c => h('th', {}, c)))),
      h('tbody', {}, rows)) : null);
}

const entries = result => Object.entries((result && result.results) || {});

/** The renderer of path.trace results (same interface as the others in results.js). */
export const traces = {
  header: ['host', 'port', 'protocol', 'end', 'filtered_after', 'unreachable', 'ttl', 'address', 'loss_pct', 'rtt_avg'],
  rows: result => entries(result).flatMap(([host, r]) => Object.entries(r.ports || {}).flatMap(([port, t]) =>
    (t.hops && t.hops.length ? t.hops : [{}]).map(hop => [host, port, t.protocol, t.end || t.error_kind,
      t.filtered_after ? t.filtered_after.address : null, t.unreachable ? t.unreachable.name : null,
      hop.ttl, hop.address, hop.loss_pct, hop.rtt_avg]))),
  table(result) {
    return h('div', { class: 'traces' }, reasonList(traceReasons(result)), entries(result).flatMap(([host, r]) => r.error
      ? [h('p', { class: 'error-text' }, `${host}: ${r.error}`)]
      : Object.entries(r.ports || {}).map(([port, t]) =>
        traceView(port === 'icmp' ? `${host} icmp` : `${host}:${port} ${t.protocol}`, t))));
  },
};

/** Under a porttest grid: the trace of every port that timed out (trace_failed). */
export function portTraces(result) {
  const sections = entries(result).flatMap(([host, r]) => Object.entries(r.ports || {})
    .filter(([, p]) => p && p.trace)
    .map(([port, p]) => h('div', { class: 'port-trace', dataset: { host, port } }, traceView(`${host}:${port} timed out — path`, p.trace))));
  return sections.length ? h('div', { class: 'port-traces' }, sections) : null;
}
