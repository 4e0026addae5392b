// A schedule's runs as timeline strips: one strip per target (each DNS name by its migration state, each
// host:port open/closed, each application ok/failed), one cell per run, oldest left. Every cell is a link to its
// run, reachable with Tab, and carries its run time and value as text; focusing (or hovering) one shows it in words.
import { h, formatDate } from './util.js';
import { portStatus, portReason, dnsDomainOk, stateOrder } from './results.js';

/**
 * State colours (app.css tl-c*), without the green of "passed" and the red of "failed" so a colour means one thing;
 * mixed and inconsistent have their own striped colours, unknown is red (the check failed).
 */
const STATE_COLOURS = ['tl-c0', 'tl-c1', 'tl-c5', 'tl-c4', 'tl-c3'];
const SPECIAL = { mixed: 'tl-c7', inconsistent: 'tl-c6', unknown: 'tl-bad', error: 'tl-bad', ok: 'tl-ok', open: 'tl-ok', reached: 'tl-ok', pass: 'tl-ok' };

const entries = r => Object.entries((r && r.results) || {});

/** [{strip, value, colour key, good?, text}] of one run, by what the task checks. */
function pointsOf(taskName, run) {
  const res = run.result;
  if (!res) return [];
  if (taskName === 'dns.check_records') {
    return entries(res).map(([domain, r]) => {
      const value = r.error ? 'error' : r.mixed ? 'mixed' : r.state || 'unknown';
      const detail = r.mixed && r.mixed_states ? ` (${r.mixed_states.join(' + ')})` : r.error ? `: ${r.error}` : '';
      return { strip: domain, value, kind: 'state', text: `${value}${detail}`, good: dnsDomainOk(r) };
    });
  }
  if (taskName === 'porttest.run') {
    return entries(res).flatMap(([host, r]) => Object.entries(r.ports || {}).map(([port, p]) => {
      const failed = (r.failed_ports || []).some(f => String(f) === String(port));
      const status = portStatus(p, failed);
      const value = p.open ? 'open' : 'closed';
      const reason = status === 'bad' ? portReason(p) : '';
      return { strip: `${host}:${port}`, value, kind: status === 'bad' ? 'bad' : 'ok', text: `${value}${status === 'bad' ? ' — failed' : ''}${reason && reason !== value ? `: ${reason}` : ''}`, good: status !== 'bad' };
    }));
  }
  if (taskName === 'apptest.run') {
    return entries(res).flatMap(([host, r]) => {
      const apps = r && r.applications && typeof r.applications === 'object' ? r.applications
        : Object.fromEntries(Object.entries(r || {}).filter(([, v]) => v && typeof v === 'object' && 'ok' in v));
      return Object.entries(apps).map(([app, a]) => ({ strip: `${host} ${app}`, value: a.ok ? 'ok' : 'failed', kind: a.ok ? 'ok' : 'bad', text: a.ok ? 'ok' : `failed: ${a.error || a.error_kind || ''}`, good: !!a.ok }));
    });
  }
  if (taskName === 'path.trace') {
    return entries(res).flatMap(([host, r]) => Object.entries(r.ports || {}).map(([port, t]) => ({
      strip: `${host}:${port}`, value: t.end || 'error', kind: t.end === 'reached' ? 'ok' : 'bad', text: t.end || t.error || 'error', good: t.end === 'reached' })));
  }
  return [];
}

/** The timeline of <runs> (oldest first) of a schedule running <taskName>. */
export function timelineView(taskName, runs) {
  if (!runs.length) return h('div', { class: 'empty' }, h('strong', {}, 'No runs yet'), h('p', {}, 'The timeline fills in as the schedule runs (or press Run now).'));
  const strips = new Map();
  const perRun = runs.map(run => new Map(pointsOf(taskName, run).map(p => [p.strip, p])));
  perRun.forEach(m => m.forEach((p, name) => { if (!strips.has(name)) strips.set(name, p.kind); }));
  // Stable colours: every DNS state name seen on this page, in migration order.
  const states = [...new Set(perRun.flatMap(m => [...m.values()].filter(p => p.kind === 'state' && !SPECIAL[p.value]).map(p => p.value)))].sort(stateOrder);
  const colour = new Map(states.map((s, i) => [s, STATE_COLOURS[i % STATE_COLOURS.length]]));
  const classOf = p => !p ? 'tl-none' : p.kind === 'state' ? (colour.get(p.value) || SPECIAL[p.value] || 'tl-none') : p.kind === 'ok' ? 'tl-ok' : 'tl-bad';
  const detail = h('p', { class: 'timeline-detail', role: 'status', 'aria-live': 'polite' }, 'Focus or point at a cell to read its run time and value.');
  const say = text => { detail.textContent = text; };

  const strip = (name, valueOf) => {
    let previous = null;
    const cells = runs.map((run, i) => {
      const p = valueOf(run, i);
      const when = formatDate(run.date_submitted);
      const value = p ? p.text : run.ready || run.state === 'FAILURE' || run.state === 'REVOKED' ? `no result (${run.state}${run.error ? ': ' + run.error : ''})` : `${run.state}: running`;
      const flip = p && previous !== null && p.value !== previous;
      const text = `${name} · ${when} · ${value}${flip ? ` (changed from ${previous})` : ''}`;
      if (p) previous = p.value;
      const cell = h('a', { href: `/ui/task/${encodeURIComponent(run.task_id)}`, class: `tcell ${classOf(p)}${flip ? ' flip' : ''}`, dataset: { value: p ? p.value : '', run: run.task_id, time: run.date_submitted || '' } },
        h('span', { class: 'sr-only' }, text));
      cell.addEventListener('focus', () => say(text));
      cell.addEventListener('mouseenter', () => say(text));
      return cell;
    });
    return h('div', { class: 'strip', dataset: { strip: name } }, h('span', { class: 'strip-name' }, name), cells);
  };

  const verdictPoint = run => run.verdict ? { value: run.verdict, kind: run.verdict === 'pass' ? 'ok' : 'bad', text: run.verdict.toUpperCase() + (run.checks ? ` (${run.checks.failed} of ${run.checks.passed + run.checks.failed} failed)` : '') } : null;
  const legend = h('div', { class: 'tl-legend', 'aria-label': 'Legend' },
    states.map(s => h('span', { dataset: { legend: s } }, h('span', { class: `tcell ${colour.get(s)}` }), s)),
    perRun.some(m => [...m.values()].some(p => p.value === 'mixed')) ? h('span', { dataset: { legend: 'mixed' } }, h('span', { class: 'tcell tl-c7' }), 'mixed') : null,
    perRun.some(m => [...m.values()].some(p => p.value === 'inconsistent')) ? h('span', { dataset: { legend: 'inconsistent' } }, h('span', { class: 'tcell tl-c6' }), 'inconsistent') : null,
    h('span', {}, h('span', { class: 'tcell tl-ok' }), taskName === 'dns.check_records' ? 'passed' : 'open / ok / reached'),
    h('span', {}, h('span', { class: 'tcell tl-bad' }), taskName === 'dns.check_records' ? 'unknown / failed' : 'closed / failed'),
    h('span', {}, h('span', { class: 'tcell tl-none' }), 'no result (running, or the task failed)'),
    h('span', {}, h('span', { class: 'tcell tl-none flip' }), 'a left bar: the value changed at this run'));
  return h('section', { class: 'timeline', 'aria-label': 'Runs as a timeline, oldest first' },
    h('p', { class: 'muted' }, `${runs.length} runs, oldest first: ${formatDate(runs[0].date_submitted)} → ${formatDate(runs[runs.length - 1].date_submitted)}.`),
    legend,
    strip('Verdict', run => verdictPoint(run)),
    [...strips.keys()].map(name => strip(name, (run, i) => perRun[i].get(name) || null)),
    detail);
}
