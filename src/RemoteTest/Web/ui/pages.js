// The task page (live progress, result tables, export, share), history, schedules and workers.
import { h, mount, formatDate, timeEl, dayStart, durationBetween, outcomeBadge, emptyState, download, toCsv, maskSecrets, STATES, pollWhileRunning, isRunning } from './util.js';
import { taskArguments, curlOf, cliOf, FORM_OF } from './share.js';
import { timelineView } from './timeline.js';
import { get, del, post, taskList } from './api.js';
import { renderResult, csvRows, passed } from './results.js';
import { showError, clearErrors } from './forms.js';
import { compareControls } from './diff.js';

const POLL_FIRST_MS = 300;
const POLL_MAX_MS = 2000;
const HISTORY_PAGE = 50;

// ---------- one task ----------

/** Shows a task and follows it until it is ready; <alive> turns false when the user navigates away. */
export async function taskPage(root, id, alive, navigate) {
  const head = h('div', { class: 'task-head' });
  const progress = h('div', { class: 'progress-area' });
  const body = h('div', { class: 'task-body' });
  // Outside the head, which is redrawn on every poll: a cancel's outcome stays visible.
  const notice = h('p', { class: 'notice', role: 'status', id: 'task-notice' });
  const actions = h('div', { class: 'task-actions' });
  mount(root, head, actions, notice, progress, body);
  let actionsDrawn = false;
  let delay = POLL_FIRST_MS;
  while (alive()) {
    const r = await get(`/task/${encodeURIComponent(id)}`);
    if (!alive()) return;
    if (!r.ok) {
      mount(head, h('h1', {}, 'Task ', h('code', {}, id)));
      mount(body, emptyState(r.status === 404 ? 'No such task' : 'Could not load the task', r.error || ''));
      return;
    }
    const status = r.body;
    renderHead(head, id, status, alive, notice);
    if (!actionsDrawn) { renderActions(actions, id, status); actionsDrawn = true; }
    renderProgress(progress, status);
    if (status.ready || isGroupReady(status)) {
      await renderOutcome(body, status, navigate);
      return;
    }
    await renderGroupSoFar(body, status);
    await new Promise(res => setTimeout(res, delay));
    delay = Math.min(POLL_MAX_MS, Math.round(delay * 1.5));
  }
}

/** Run again (the form pre-filled), Copy as curl, Copy as CLI: the command is also shown, to read or select by hand. */
function renderActions(area, id, s) {
  const kind = FORM_OF[s.task_name] || 'json';
  const shown = h('div', { class: 'command-area' });
  let args;
  const copy = (label, make, name) => {
    const button = h('button', { type: 'button', dataset: { copy: name } }, label);
    button.addEventListener('click', async () => {
      button.disabled = true;
      if (args === undefined) args = await taskArguments(s);
      button.disabled = false;
      if (!args) return mount(shown, h('p', { class: 'notice notice-bad' }, 'The task\'s arguments are not available (expired, or no history on this server).'));
      const text = make(s, args);
      const pre = h('pre', { class: 'command', dataset: { command: name }, tabindex: '0' }, text);
      let copied = false;
      try { await navigator.clipboard.writeText(text); copied = true; } catch { copied = false; }
      mount(shown, h('p', { class: copied ? 'copied' : 'muted', role: 'status' }, copied ? `${label.replace('Copy as ', '')} command copied.` : 'Select the command below and copy it.'), pre);
    });
    return button;
  };
  mount(area,
    h('a', { href: `/ui/run/${kind}?again=${encodeURIComponent(id)}`, class: 'button', dataset: { runAgain: '1' } }, 'Run again'),
    copy('Copy as curl', curlOf, 'curl'), copy('Copy as CLI', cliOf, 'cli'),
    h('small', { class: 'muted' }, 'No token or password is included: the commands read $REMOTETEST_TOKEN.'),
    shown);
}

function isGroupReady(status) {
  const children = groupChildren(status);
  return children.length > 0 && children.every(([, c]) => c && c.ready);
}

function renderHead(head, id, s, alive, notice) {
  const link = `${location.origin}/ui/task/${encodeURIComponent(id)}`;
  const copy = h('button', { type: 'button', class: 'link', onclick: async () => {
    // No prompt(): without clipboard access the link is shown as text to select.
    try { await navigator.clipboard.writeText(link); copy.textContent = 'Link copied'; } catch { mount(notice, 'Link: ', h('code', {}, link)); }
  } }, 'Copy link');
  // A group has no row of its own: cancelling it revokes each location's task that has not ended.
  const targets = groupChildren(s).length ? groupChildren(s).filter(([, c]) => !c.ready && c.task_id).map(([, c]) => c.task_id) : [id];
  const cancel = !s.ready && targets.length ? h('button', { type: 'button', class: 'danger', dataset: { cancel: '1' }, onclick: async () => {
    cancel.disabled = true;
    const outcomes = await Promise.all(targets.map(revokeTask));
    const failed = outcomes.find(o => !o.ok);
    mount(notice, failed ? failed.message : outcomes.length > 1 ? `Cancelled ${outcomes.length} locations.` : 'Cancelled.');
    notice.className = `notice ${failed ? 'notice-bad' : ''}`;
    if (failed && !failed.ended) cancel.disabled = false;
  } }, 'Cancel') : null;
  mount(head,
    h('h1', {}, s.task_name || 'Task', ' ', outcomeBadge(s)),
    h('dl', { class: 'facts' },
      fact('Task id', h('code', { id: 'task-id' }, id), ' ', h('a', { href: link, class: 'share', dataset: { share: '1' } }, 'link'), ' ', copy),
      s.queue ? fact('Queue', s.queue) : null,
      s.worker ? fact('Worker', s.worker, s.location ? ` (${s.location})` : '') : null,
      s.schedule ? fact('Schedule', h('a', { href: `/ui/schedules/${encodeURIComponent(s.schedule)}` }, s.schedule), ' ', h('a', { href: `/ui/history?schedule=${encodeURIComponent(s.schedule)}`, class: 'small-link' }, 'runs')) : null,
      fact('Submitted', timeEl(s.date_submitted)),
      s.date_started ? fact('Started', timeEl(s.date_started)) : null,
      s.date_done ? fact('Done', timeEl(s.date_done), ` (took ${durationBetween(s.date_started || s.date_submitted, s.date_done)})`) : null),
    cancel);
  if (!alive()) head.replaceChildren();
}

/**
 * DELETE /task/{id}: {ok, state, ended, message}. A 409 means the task ended before the revoke arrived: not an
 * error to retry, so <ended> is set and the message says in which state it ended.
 */
export async function revokeTask(id) {
  const r = await del(`/task/${encodeURIComponent(id)}`);
  const state = r.body && r.body.state;
  if (r.ok) return { ok: true, state: state || 'REVOKED', ended: true, message: 'Cancelled.' };
  if (r.status === 409) return { ok: false, state, ended: true, message: `Not cancelled: the task had already ended${state ? ` (${state})` : ''}.` };
  if (r.status === 404) return { ok: false, ended: true, message: 'Not cancelled: this server does not know the task (it expired, or belongs to another token).' };
  if (r.status === 405) return { ok: false, ended: false, message: 'This server cannot cancel tasks (DELETE /task/{id}).' };
  return { ok: false, ended: false, message: `Not cancelled: ${r.error}` };
}

function fact(label, ...value) {
  return h('div', {}, h('dt', {}, label), h('dd', {}, value));
}

function renderProgress(area, s) {
  if (s.ready || !['PENDING', 'STARTED', 'RETRY'].includes(s.state)) return mount(area);
  const p = s.progress;
  // A native <progress>: no inline style, so a strict CSP holds; without a total it shows as indeterminate.
  const bar = p && p.total ? h('progress', { max: p.total, value: p.done }) : h('progress', {});
  mount(area, bar,
    h('p', { class: 'muted', id: 'progress-text' }, s.state === 'PENDING' ? 'Waiting for a worker…' :
      p ? `${p.done} of ${p.total} checks done` : 'Running…'));
}

/** Children of a fan-out group as [location, status] pairs (either shape: {loc: status} or [{queue, ...}]). */
function groupChildren(s) {
  // A group answers "tasks": {queue: id} and "children": {queue: status}; the statuses are what is shown.
  const c = s.children || s.tasks;
  if (!c || typeof c !== 'object') return [];
  const list = Array.isArray(c) ? c.map(x => [x.queue || x.location || x.task_id, x]) : Object.entries(c);
  return list.filter(([, v]) => v && typeof v === 'object');
}

async function renderGroupSoFar(body, s) {
  if (groupChildren(s).length) await renderOutcome(body, s);
}

async function renderOutcome(body, s, navigate) {
  const children = groupChildren(s);
  const exports = h('div', { class: 'exports' },
    h('button', { type: 'button', dataset: { export: 'json' }, onclick: () => download(`task-${s.task_id}.json`, JSON.stringify(maskSecrets(s), null, 2), 'application/json') }, 'Export JSON'),
    h('button', { type: 'button', dataset: { export: 'csv' }, onclick: () => download(`task-${s.task_id}.csv`, csvOf(s), 'text/csv') }, 'Export CSV'));
  if (children.length) {
    mount(body, exports,
      differences(s.differences),
      h('div', { class: 'locations' }, children.map(([loc, c]) => h('section', { class: 'location', dataset: { location: loc } },
        h('h2', {}, c.location && c.location !== loc ? `${loc} (${c.location})` : loc, ' ', outcomeBadge(c),
          c.status ? h('small', { class: 'muted' }, ` ${c.status}`) : null),
        outcomeOf(s.task_name || c.task_name, c)))));
    return;
  }
  mount(body, s.state === 'SUCCESS' ? verdict(s) : null, s.state === 'SUCCESS' ? compareControls(s, navigate) : null,
    outcomeOf(s.task_name, s), s.state === 'SUCCESS' ? exports : null);
}

function verdict(s) {
  // The server's verdict when it sent one (older servers did not): the same rule as the CLI and the history filter.
  const ok = s.verdict ? s.verdict === 'pass' : passed(s.task_name, s.result);
  const c = s.checks;
  const text = ok ? 'Every check passed.'
    : c && c.passed + c.failed > 0 ? `${c.failed} of ${c.passed + c.failed} checks failed.` : 'Some checks failed.';
  return h('p', { class: `verdict ${ok ? 'verdict-ok' : 'verdict-bad'}` }, text);
}

function outcomeOf(taskName, s) {
  if (s.state === 'SUCCESS' && s.result) return renderResult(taskName, s.result);
  if (s.state === 'REVOKED') return h('p', { class: 'verdict verdict-bad' }, 'Cancelled.', s.error ? h('small', { class: 'muted' }, ` ${s.error}`) : null);
  if (s.error) return h('pre', { class: 'error-text' }, s.error);
  return h('p', { class: 'muted' }, 'No result yet.');
}

function differences(list) {
  if (!list || (Array.isArray(list) && !list.length)) return null;
  const items = Array.isArray(list) ? list : Object.entries(list).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return h('div', { class: 'differences' }, h('h2', {}, 'Differences between locations'),
    h('ul', {}, items.map(d => h('li', {}, typeof d === 'string' ? d : describeDifference(d)))));
}

/** {"path": ["results", "sbc", "ports", "5061", "open"], "values": {"fra": true, "dfw": false}} → one line. */
function describeDifference(d) {
  if (!d || !Array.isArray(d.path) || !d.values) return d && d.summary ? d.summary : JSON.stringify(d);
  const where = d.path.filter(p => p !== 'results').join(' › ');
  return `${where}: ${Object.entries(d.values).map(([loc, v]) => `${loc} = ${JSON.stringify(v)}`).join(', ')}`;
}

function csvOf(s) {
  const children = groupChildren(s);
  if (!children.length) {
    const { header, rows } = csvRows(s.task_name, s.result);
    return toCsv(header, rows);
  }
  let header = ['location'];
  const rows = [];
  for (const [loc, c] of children) {
    if (!c.result) continue;
    const t = csvRows(s.task_name || c.task_name, c.result);
    header = ['location', ...t.header];
    rows.push(...t.rows.map(r => [loc, ...r]));
  }
  return toCsv(header, rows);
}

// ---------- history ----------

/** Task history with filters; the filters live in the URL so a filtered view can be shared. */
export async function historyPage(root, params, navigate, alive = () => true) {
  const known = await taskList();
  const state = h('select', { name: 'state' }, h('option', { value: '' }, 'any state'), STATES.map(s => h('option', { value: s }, s)));
  // The verdict filter leads: "which checks failed?" is the question of a change window, not "which tasks ran".
  const verdict = h('select', { name: 'verdict' }, h('option', { value: '' }, 'any verdict'),
    [['pass', 'PASS'], ['fail', 'FAIL'], ['partial', 'PARTIAL'], ['error', 'ERROR']].map(([v, label]) => h('option', { value: v }, label)));
  const task = h('select', { name: 'task_name' }, h('option', { value: '' }, 'any task'), known.task_names.map(n => h('option', { value: n }, n)));
  const queue = h('input', { name: 'queue', placeholder: 'any queue', size: 10 });
  // Searched by the server (GET /task?target=): a case-insensitive part of a host, domain or address.
  const target = h('input', { type: 'search', name: 'target', placeholder: 'host, domain or address', size: 22, dataset: { search: '1' }, 'aria-label': 'Search by target' });
  const since = h('input', { type: 'date', name: 'since' });
  const until = h('input', { type: 'date', name: 'until' });
  state.value = params.get('state') || '';
  verdict.value = params.get('verdict') || '';
  task.value = params.get('task_name') || '';
  queue.value = params.get('queue') || '';
  target.value = params.get('target') || '';
  since.value = params.get('since') || '';
  until.value = params.get('until') || '';
  // Not in the form: a schedule's "all runs" link sets it, and a page size for long lists (the API's 1-500).
  const schedule = params.get('schedule') || '';
  const limit = Math.min(500, Math.max(1, Number(params.get('limit')) || HISTORY_PAGE));
  const hidden = { schedule, limit: params.get('limit') ? String(limit) : '' };
  const filters = h('form', { class: 'filters', role: 'search' },
    h('label', {}, 'Target ', target), h('label', {}, 'Verdict ', verdict), h('label', {}, 'State ', state), h('label', {}, 'Task ', task), h('label', {}, 'Queue ', queue), h('label', {}, 'Since ', since), h('label', {}, 'Until ', until),
    h('button', { type: 'submit' }, 'Filter'),
    schedule ? h('span', { class: 'chip', dataset: { filter: 'schedule' } }, h('b', {}, 'schedule'), ` ${schedule} `,
      h('a', { href: historyUrl({ ...current(), schedule: '' }), title: 'Remove this filter' }, '×')) : null);
  const table = h('tbody', {});
  const more = h('div', { class: 'more' });
  const count = h('span', { class: 'muted', id: 'history-count' });
  const area = h('div', {}, h('table', { class: 'list history' },
    h('thead', {}, h('tr', {}, ['Task', 'Verdict', 'Targets', 'Submitted', 'Took', 'Queue', 'Worker', 'Id', ''].map(t => h('th', {}, t)))), table), more);
  mount(root, h('h1', {}, 'History ', count), filters, area);
  function current() {
    return { target: target.value.trim(), verdict: verdict.value, state: state.value, task_name: task.value, queue: queue.value.trim(), since: since.value, until: until.value, ...hidden };
  }
  const change = ev => {
    ev && ev.preventDefault();
    navigate(historyUrl(current()));
  };
  filters.addEventListener('submit', change);
  [verdict, state, task, since, until].forEach(el => el.addEventListener('change', change));

  const query = (cursor, size = limit) => {
    const q = new URLSearchParams({ limit: String(size) });
    if (target.value.trim()) q.set('target', target.value.trim());
    if (state.value) q.set('state', state.value);
    if (verdict.value) q.set('verdict', verdict.value);
    if (task.value) q.set('task_name', task.value);
    if (queue.value.trim()) q.set('queue', queue.value.trim());
    if (schedule) q.set('schedule', schedule);
    // Days are days in the zone times are shown in (UTC unless local was chosen).
    if (since.value) q.set('since', dayStart(since.value).toISOString());
    // Until a day means through that day: the API's until is exclusive, so ask for the next midnight.
    if (until.value) q.set('until', dayStart(until.value, 1).toISOString());
    if (cursor) q.set('cursor', cursor);
    return q;
  };
  const listOfBody = b => (Array.isArray(b) ? b : (b && (b.tasks || b.items || b.results)) || []);
  const load = async cursor => {
    const r = await get(`/task?${query(cursor)}`);
    if (r.status === 404 || r.status === 405) return mount(area, emptyState('History is not available', 'This server does not list past tasks yet (GET /task). Open a task by its link instead.'));
    if (!r.ok) return mount(more, emptyState('Could not load the history', r.error));
    const b = r.body || {};
    const list = listOfBody(b)
      // The server filters; checking again here keeps the view right against a server that ignores a filter.
      .filter(t => (!state.value || t.state === state.value) && (!verdict.value || t.verdict === verdict.value) && (!task.value || t.task_name === task.value));
    table.append(...list.map(historyRow));
    const next = Array.isArray(b) ? null : b.next_cursor;
    count.textContent = table.children.length ? `${table.children.length}${next ? '+' : ''} tasks` : '';
    mount(more, next ? h('button', { type: 'button', dataset: { more: '1' }, onclick: ev => { ev.target.disabled = true; load(next); } }, `Load ${limit} more`) : null);
    if (!table.children.length) mount(more, emptyState('No tasks', target.value.trim() ? `No task's targets contain "${target.value.trim()}".` : 'No task matches these filters.'));
  };
  await load(null);

  // Live: while a listed task runs, the rows follow it (state, verdict, Revoke gone) — one list request per tick,
  // with backoff; polling stops once nothing listed runs. Tasks submitted meanwhile are added on top.
  const running = () => [...table.children].some(tr => isRunning(tr.task));
  if (running()) {
    pollWhileRunning(alive, async () => {
      const rows = [...table.children];
      const r = await get(`/task?${query(null, Math.min(500, Math.max(rows.length, 1)))}`);
      if (!r.ok) return { running: true, changed: false };
      const fresh = new Map(listOfBody(r.body).map(t => [t.task_id, t]));
      let changed = false;
      for (const tr of rows) {
        let t = fresh.get(tr.task.task_id);
        // Left this filtered list (e.g. state=STARTED and it ended): its own status says how it ended.
        if (!t && isRunning(tr.task)) {
          const one = await get(`/task/${encodeURIComponent(tr.task.task_id)}`);
          if (one.ok && one.body) t = { ...tr.task, ...one.body, args: tr.task.args };
        }
        if (t && (t.state !== tr.task.state || t.verdict !== tr.task.verdict || !!t.ready !== !!tr.task.ready)) {
          tr.replaceWith(historyRow(t));
          changed = true;
        }
      }
      const newest = rows.length ? rows[0].task.date_submitted : '';
      const added = listOfBody(r.body).filter(t => !rows.some(tr => tr.task.task_id === t.task_id) && (!newest || t.date_submitted > newest));
      if (added.length) { table.prepend(...added.map(historyRow)); changed = true; }
      count.textContent = table.children.length ? `${table.children.length}${more.querySelector('[data-more]') ? '+' : ''} tasks` : '';
      return { running: running(), changed };
    });
  }
}

function historyUrl(filters) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
  return `/ui/history${q.toString() ? '?' + q : ''}`;
}

function historyRow(t) {
  const badge = h('td', {}, outcomeBadge(t));
  const note = h('small', { class: 'notice', role: 'status' });
  // Only a task that has not ended can be revoked; the server answers 409 for one that ended meanwhile.
  const revoke = !t.ready && (t.state === 'PENDING' || t.state === 'STARTED' || t.state === 'RETRY')
    ? h('button', { type: 'button', class: 'danger small', dataset: { revoke: t.task_id }, title: 'Cancel this task (DELETE /task/{id})', onclick: async () => {
      revoke.disabled = true;
      const outcome = await revokeTask(t.task_id);
      if (outcome.state) { mount(badge, outcomeBadge({ state: outcome.state })); row.dataset.state = outcome.state; row.task = { ...t, state: outcome.state, ready: outcome.ended }; }
      mount(note, outcome.ok ? '' : outcome.message);
      note.className = `notice ${outcome.ok ? '' : 'notice-bad'}`;
      if (outcome.ended) revoke.remove(); else revoke.disabled = false;
    } }, 'Revoke')
    : null;
  const row = h('tr', { dataset: { taskId: t.task_id, state: t.state, verdict: t.verdict || '' } },
    h('td', {}, h('a', { href: `/ui/task/${encodeURIComponent(t.task_id)}` }, t.task_name || '?'),
      t.schedule ? h('small', { class: 'muted' }, ` · ${t.schedule}`) : null),
    badge,
    h('td', { class: 'targets' }, targetsOf(t.args)),
    h('td', {}, timeEl(t.date_submitted)),
    h('td', {}, t.date_done ? durationBetween(t.date_started || t.date_submitted, t.date_done) : ''),
    h('td', {}, t.queue || ''), h('td', {}, t.worker || ''),
    h('td', {}, h('code', { title: t.task_id }, String(t.task_id).slice(0, 8))),
    h('td', {}, h('a', { href: `/ui/run/${FORM_OF[t.task_name] || 'json'}?again=${encodeURIComponent(t.task_id)}`, class: 'small-link', title: 'The form pre-filled from this task' }, 'Run again'), ' ',
      t.state === 'SUCCESS' ? h('a', { href: `/ui/diff/${encodeURIComponent(t.task_id)}`, dataset: { diff: t.task_id }, title: 'What changed since the previous run or a baseline' }, 'Diff') : null, revoke, note));
  row.task = t;
  return row;
}

const TARGETS_SHOWN = 3;

/** What a task was pointed at, from its listed arguments: the hosts or domains of its first object argument. */
function targetsOf(args) {
  const objects = Object.values(args || {}).filter(v => v && typeof v === 'object' && !Array.isArray(v));
  const keys = objects.length ? Object.keys(objects[0]) : [];
  if (!keys.length) return '';
  return keys.slice(0, TARGETS_SHOWN).join(', ') + (keys.length > TARGETS_SHOWN ? ` +${keys.length - TARGETS_SHOWN} more` : '');
}

// ---------- schedules ----------
export async function schedulesPage(root, navigate, alive = () => true, name = null) {
  if (name) return schedulePage(root, name, navigate, alive);
  const known = await taskList();
  const r = await get('/schedules');
  if (r.status === 404 || r.status === 405) {
    return mount(root, h('h1', {}, 'Schedules'), emptyState('Schedules are not available', 'This server does not run scheduled tests yet (GET /schedules).'));
  }
  if (!r.ok) return mount(root, h('h1', {}, 'Schedules'), emptyState('Could not load the schedules', r.error));
  const list = Array.isArray(r.body) ? r.body : (r.body && (r.body.schedules || r.body.items)) || [];
  // The list has no runs; each schedule's own answer (GET /schedules/{name}) has its last runs. Asked at once.
  const details = await Promise.all(list.map(s => get(`/schedules/${encodeURIComponent(s.name)}`).then(d => d.ok && d.body ? d.body : s)));
  const rows = details.map(s => h('tr', { dataset: { schedule: s.name } },
    h('td', {}, h('a', { href: `/ui/schedules/${encodeURIComponent(s.name)}`, title: 'Its runs as a timeline' }, s.name)), h('td', {}, s.task_name), h('td', { class: 'targets' }, targetsOf(s.data && s.data.kwargs)),
    h('td', {}, h('code', {}, s.cron || ''), h('div', { class: 'muted' }, s.time_zone || s.timezone || '')),
    h('td', {}, s.queue || ''), h('td', {}, timeEl(s.next_run || s.next_execution)),
    h('td', { class: 'last-runs' }, lastRuns(s)),
    h('td', {}, s.webhook ? h('span', { title: s.webhook }, s.notify === 'change' ? 'on change' : s.notify === 'cert_expiry' ? 'certificate expiry' : 'every run') : ''),
    h('td', {}, h('button', { type: 'button', class: 'small', dataset: { run: s.name }, onclick: async () => {
      const run = await post(`/schedules/${encodeURIComponent(s.name)}/run`, {});
      run.ok && run.body && run.body.task_id ? navigate(`/ui/task/${encodeURIComponent(run.body.task_id)}`) : alert(run.error);
    } }, 'Run now'), ' ', h('button', { type: 'button', class: 'danger small', dataset: { delete: s.name }, onclick: async () => {
      if (!confirm(`Delete schedule ${s.name}? Its past runs stay in the history.`)) return;
      const d = await del(`/schedules/${encodeURIComponent(s.name)}`);
      d.ok ? schedulesPage(root, navigate) : alert(d.error);
    } }, 'Delete'))));
  const form = scheduleForm(known, () => schedulesPage(root, navigate));
  mount(root, h('h1', {}, 'Schedules'),
    list.length ? h('table', { class: 'list schedules' }, h('thead', {}, h('tr', {},
      ['Name', 'Task', 'Targets', 'Cron', 'Queue', 'Next run', 'Last runs', 'Webhook', ''].map(t => h('th', {}, t)))), h('tbody', {}, rows))
      : emptyState('No schedules', 'Add one below, e.g. check every 5 minutes which DNS state a migration is in.'),
    h('h2', {}, 'New schedule'), h('p', { class: 'hint' }, 'Saving a name that exists replaces that schedule.'), form);

  // Live: while a schedule's latest run is running, its "Last runs" cell follows it (one request per schedule
  // per tick, with backoff); polling stops when no shown run runs.
  const runningNow = list => list.some(s => Array.isArray(s.last_runs) && s.last_runs.some(isRunning));
  let shown = details;
  if (runningNow(shown)) {
    pollWhileRunning(alive, async () => {
      const fresh = await Promise.all(shown.map(s => get(`/schedules/${encodeURIComponent(s.name)}`).then(d => d.ok && d.body ? d.body : s)));
      let changed = false;
      fresh.forEach((s, i) => {
        if (JSON.stringify(s.last_runs) === JSON.stringify(shown[i].last_runs)) return;
        const cell = root.querySelector(`tr[data-schedule="${CSS.escape(s.name)}"] td.last-runs`);
        if (cell) { mount(cell, lastRuns(s)); changed = true; }
      });
      shown = fresh;
      return { running: runningNow(shown), changed };
    });
  }
}

/** One schedule: its facts and its runs as a timeline strip per target (timeline.js), from one history request. */
async function schedulePage(root, name, navigate, alive) {
  const r = await get(`/schedules/${encodeURIComponent(name)}`);
  if (!r.ok) return mount(root, h('h1', {}, 'Schedule ', h('code', {}, name)), emptyState(r.status === 404 ? 'No such schedule' : 'Could not load the schedule', r.error || ''));
  const s = r.body;
  const area = h('div', { class: 'timeline-area' });
  mount(root, h('h1', {}, 'Schedule ', h('code', {}, s.name)),
    h('dl', { class: 'facts' },
      fact('Task', s.task_name), fact('Cron', h('code', {}, s.cron || ''), ' ', s.time_zone || ''), fact('Queue', s.queue || 'default'),
      fact('Next run', timeEl(s.next_run || s.next_execution)), fact('Runs', h('a', { href: `/ui/history?schedule=${encodeURIComponent(s.name)}` }, 'in the history'))),
    h('div', { class: 'task-actions' }, h('button', { type: 'button', dataset: { run: s.name }, onclick: async () => {
      const run = await post(`/schedules/${encodeURIComponent(s.name)}/run`, {});
      run.ok && run.body && run.body.task_id ? navigate(`/ui/task/${encodeURIComponent(run.body.task_id)}`) : alert(run.error);
    } }, 'Run now')),
    h('h2', {}, 'Timeline'), area);
  const draw = async () => {
    // The newest runs with their results, in one request (the history's schedule filter); oldest first on the strip.
    const q = new URLSearchParams({ schedule: s.name, include_result: 'true', limit: String(TIMELINE_RUNS) });
    const runs = await get(`/task?${q}`);
    if (!runs.ok) { mount(area, emptyState('Could not load the runs', runs.error)); return []; }
    const list = (runs.body && runs.body.tasks) || [];
    mount(area, timelineView(s.task_name, list.slice().reverse()));
    return list;
  };
  const first = await draw();
  if (first.some(isRunning)) {
    pollWhileRunning(alive, async () => {
      const list = await draw();
      return { running: list.some(isRunning), changed: true };
    }, 2000, 10000);
  }
}

/** Runs shown on a schedule's timeline (the newest; the history has them all). */
const TIMELINE_RUNS = 200;

const LAST_RUNS_SHOWN = 5;

/** The newest runs as state badges linking to each task, and a link to all of them in the history. */
function lastRuns(s) {
  const runs = Array.isArray(s.last_runs) ? s.last_runs.slice(0, LAST_RUNS_SHOWN) : [];
  const all = h('a', { href: `/ui/history?schedule=${encodeURIComponent(s.name)}`, class: 'small-link', dataset: { allRuns: s.name } }, 'all runs');
  if (!runs.length) return [s.last_fired ? h('div', {}, timeEl(s.last_fired)) : h('span', { class: 'muted' }, 'not run yet'), ' ', s.last_fired ? all : null];
  return [runs.map(run => h('a', { href: `/ui/task/${encodeURIComponent(run.task_id)}`, class: 'run-link', title: `${run.verdict || run.state} · ${formatDate(run.date_submitted)}`, dataset: { runId: run.task_id } },
    outcomeBadge(run))), h('div', { class: 'muted' }, timeEl(runs[0].date_submitted), ' · ', all)];
}

function scheduleForm(known, done) {
  const input = (name, attrs = {}) => h('input', { name, dataset: { path: JSON.stringify([name]) }, ...attrs });
  const form = h('form', { class: 'run schedule', novalidate: true },
    h('label', { class: 'field' }, h('span', { class: 'label' }, 'Name'), input('name', { placeholder: 'dns-migration' })),
    h('label', { class: 'field' }, h('span', { class: 'label' }, 'Task'), h('select', { name: 'task_name', dataset: { path: '["task_name"]' } }, known.task_names.map(n => h('option', { value: n }, n)))),
    h('label', { class: 'field' }, h('span', { class: 'label' }, 'Cron'), input('cron', { placeholder: '*/5 * * * *' })),
    h('label', { class: 'field' }, h('span', { class: 'label' }, 'Time zone'), input('time_zone', { placeholder: 'UTC' })),
    h('label', { class: 'field' }, h('span', { class: 'label' }, 'Queue'), input('queue', { placeholder: 'default' })),
    h('label', { class: 'field' }, h('span', { class: 'label' }, 'Webhook'), input('webhook', { placeholder: 'https://hooks.example.com/remotetest' })),
    h('label', { class: 'field' }, h('span', { class: 'label' }, 'Notify'), h('select', { name: 'notify', dataset: { path: '["notify"]' } },
      h('option', { value: '' }, 'every run'), h('option', { value: 'change' }, 'on change'), h('option', { value: 'cert_expiry' }, 'certificate expiry'))),
    h('label', { class: 'field' }, h('span', { class: 'label' }, 'Data (JSON, as in POST /task)'),
      h('textarea', { name: 'data', rows: 6, dataset: { path: '["data"]', fallback: '1' }, placeholder: '{"args": [{"sip.example.com": {"original": ["192.0.2.10"]}}]}' })),
    h('div', { class: 'form-error', role: 'alert' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Add schedule')));
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    clearErrors(form);
    const value = n => form.querySelector(`[name=${n}]`).value.trim();
    let data;
    try { data = JSON.parse(value('data') || 'null'); } catch (e) { return showError(form, 'data', `not valid JSON: ${e.message}`); }
    const body = { name: value('name'), task_name: value('task_name'), cron: value('cron'), data };
    for (const k of ['time_zone', 'queue', 'webhook', 'notify']) if (value(k)) body[k] = value(k);
    const r = await post('/schedules', body);
    r.ok ? done() : showError(form, r.field || '', r.error);
  });
  return form;
}

// ---------- workers ----------
export async function workersPage(root, alive = () => true) {
  const list = await drawWorkers(root);
  // Live: while a worker runs tasks, the table follows (one GET /workers per tick, with backoff); stops when idle.
  const busy = l => (l || []).some(w => (typeof w.running === 'number' ? w.running : (w.running_tasks || []).length) > 0);
  if (busy(list)) {
    let last = JSON.stringify(list);
    pollWhileRunning(alive, async () => {
      const now = await drawWorkers(root);
      const changed = JSON.stringify(now) !== last;
      last = JSON.stringify(now);
      return { running: busy(now), changed };
    });
  }
}

async function drawWorkers(root) {
  const r = await get('/workers');
  if (r.status === 404 || r.status === 405) {
    mount(root, h('h1', {}, 'Workers'), emptyState('Workers are not listed', 'This server does not report its workers yet (GET /workers).'));
    return null;
  }
  if (!r.ok) { mount(root, h('h1', {}, 'Workers'), emptyState('Could not load the workers', r.error)); return null; }
  const list = Array.isArray(r.body) ? r.body : (r.body && (r.body.workers || r.body.items)) || [];
  if (!list.length) { mount(root, h('h1', {}, 'Workers'), emptyState('No live workers', 'Start a worker (Roles=worker) to run tasks; each declares its queues and location.')); return list; }
  mount(root, h('h1', {}, 'Workers and vantage points'),
    h('table', { class: 'list workers' },
      h('thead', {}, h('tr', {}, ['Name', 'Location', 'Queues', 'Started', 'Last heartbeat', 'Running', 'Version'].map(t => h('th', {}, t)))),
      h('tbody', {}, list.map(w => h('tr', { dataset: { worker: w.name } },
        h('td', {}, w.name), h('td', {}, w.location || ''), h('td', {}, (w.queues || []).join(', ')),
        h('td', {}, timeEl(w.started)), h('td', {}, w.last_heartbeat ? `${durationBetween(w.last_heartbeat)} ago` : ''),
        h('td', { class: 'running' }, runningOf(w)), h('td', {}, w.version || ''))))),
    h('p', { class: 'hint' }, 'A queue is a vantage point: run a test there with Queue on the run form, or several at once (fra, dfw) to compare.'));
  return list;
}

/** How many tasks a worker runs now, each linked to its page. */
function runningOf(w) {
  const ids = Array.isArray(w.running_tasks) ? w.running_tasks : [];
  const n = typeof w.running === 'number' ? w.running : ids.length;
  return [String(n), ids.length ? ' ' : null, ids.map((id, i) => [i ? ', ' : '', h('a', { href: `/ui/task/${encodeURIComponent(id)}` }, h('code', {}, String(id).slice(0, 8)))])];
}
