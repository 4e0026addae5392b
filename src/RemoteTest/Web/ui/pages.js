// The task page (live progress, result tables, export, share), history, schedules and workers.
import { h, mount, formatDate, durationBetween, outcomeBadge, emptyState, download, toCsv, maskSecrets, STATES } from './util.js';
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
  mount(root, head, notice, progress, body);
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

function isGroupReady(status) {
  const children = groupChildren(status);
  return children.length > 0 && children.every(([, c]) => c && c.ready);
}

function renderHead(head, id, s, alive, notice) {
  const link = `${location.origin}/ui/task/${encodeURIComponent(id)}`;
  const copy = h('button', { type: 'button', class: 'link', onclick: async () => {
    try { await navigator.clipboard.writeText(link); copy.textContent = 'Link copied'; } catch { prompt('Link to this task', link); }
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
      s.schedule ? fact('Schedule', h('a', { href: `/ui/history?schedule=${encodeURIComponent(s.schedule)}` }, s.schedule)) : null,
      fact('Submitted', formatDate(s.date_submitted)),
      s.date_started ? fact('Started', formatDate(s.date_started)) : null,
      s.date_done ? fact('Done', formatDate(s.date_done), ` (took ${durationBetween(s.date_started || s.date_submitted, s.date_done)})`) : null),
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
export async function historyPage(root, params, navigate) {
  const known = await taskList();
  const state = h('select', { name: 'state' }, h('option', { value: '' }, 'any state'), STATES.map(s => h('option', { value: s }, s)));
  // The verdict filter leads: "which checks failed?" is the question of a change window, not "which tasks ran".
  const verdict = h('select', { name: 'verdict' }, h('option', { value: '' }, 'any verdict'),
    [['pass', 'PASS'], ['fail', 'FAIL'], ['partial', 'PARTIAL'], ['error', 'ERROR']].map(([v, label]) => h('option', { value: v }, label)));
  const task = h('select', { name: 'task_name' }, h('option', { value: '' }, 'any task'), known.task_names.map(n => h('option', { value: n }, n)));
  const queue = h('input', { name: 'queue', placeholder: 'any queue', size: 10 });
  const since = h('input', { type: 'date', name: 'since' });
  const until = h('input', { type: 'date', name: 'until' });
  state.value = params.get('state') || '';
  verdict.value = params.get('verdict') || '';
  task.value = params.get('task_name') || '';
  queue.value = params.get('queue') || '';
  since.value = params.get('since') || '';
  until.value = params.get('until') || '';
  // Not in the form: a schedule's "all runs" link sets it, and a page size for long lists (the API's 1-500).
  const schedule = params.get('schedule') || '';
  const limit = Math.min(500, Math.max(1, Number(params.get('limit')) || HISTORY_PAGE));
  const hidden = { schedule, limit: params.get('limit') ? String(limit) : '' };
  const filters = h('form', { class: 'filters', role: 'search' },
    h('label', {}, 'Verdict ', verdict), h('label', {}, 'State ', state), h('label', {}, 'Task ', task), h('label', {}, 'Queue ', queue), h('label', {}, 'Since ', since), h('label', {}, 'Until ', until),
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
    return { verdict: verdict.value, state: state.value, task_name: task.value, queue: queue.value.trim(), since: since.value, until: until.value, ...hidden };
  }
  const change = ev => {
    ev && ev.preventDefault();
    navigate(historyUrl(current()));
  };
  filters.addEventListener('submit', change);
  [verdict, state, task, since, until].forEach(el => el.addEventListener('change', change));

  const load = async cursor => {
    const q = new URLSearchParams({ limit: String(limit) });
    if (state.value) q.set('state', state.value);
    if (verdict.value) q.set('verdict', verdict.value);
    if (task.value) q.set('task_name', task.value);
    if (queue.value.trim()) q.set('queue', queue.value.trim());
    if (schedule) q.set('schedule', schedule);
    if (since.value) q.set('since', new Date(since.value + 'T00:00:00').toISOString());
    // Until a day means through that day: the API's until is exclusive, so ask for the next midnight.
    if (until.value) {
      const end = new Date(until.value + 'T00:00:00');
      end.setDate(end.getDate() + 1);
      q.set('until', end.toISOString());
    }
    if (cursor) q.set('cursor', cursor);
    const r = await get(`/task?${q}`);
    if (r.status === 404 || r.status === 405) return mount(area, emptyState('History is not available', 'This server does not list past tasks yet (GET /task). Open a task by its link instead.'));
    if (!r.ok) return mount(more, emptyState('Could not load the history', r.error));
    const b = r.body || {};
    const list = (Array.isArray(b) ? b : b.tasks || b.items || b.results || [])
      // The server filters; checking again here keeps the view right against a server that ignores a filter.
      .filter(t => (!state.value || t.state === state.value) && (!verdict.value || t.verdict === verdict.value) && (!task.value || t.task_name === task.value));
    table.append(...list.map(historyRow));
    const next = Array.isArray(b) ? null : b.next_cursor;
    count.textContent = table.children.length ? `${table.children.length}${next ? '+' : ''} tasks` : '';
    mount(more, next ? h('button', { type: 'button', dataset: { more: '1' }, onclick: ev => { ev.target.disabled = true; load(next); } }, `Load ${limit} more`) : null);
    if (!table.children.length) mount(more, emptyState('No tasks', 'No task matches these filters.'));
  };
  await load(null);
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
      if (outcome.state) { mount(badge, outcomeBadge({ state: outcome.state })); row.dataset.state = outcome.state; }
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
    h('td', {}, formatDate(t.date_submitted)),
    h('td', {}, t.date_done ? durationBetween(t.date_started || t.date_submitted, t.date_done) : ''),
    h('td', {}, t.queue || ''), h('td', {}, t.worker || ''),
    h('td', {}, h('code', { title: t.task_id }, String(t.task_id).slice(0, 8))),
    h('td', {}, t.state === 'SUCCESS' ? h('a', { href: `/ui/diff/${encodeURIComponent(t.task_id)}`, dataset: { diff: t.task_id }, title: 'What changed since the previous run or a baseline' }, 'Diff') : null, revoke, note));
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
export async function schedulesPage(root, navigate) {
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
    h('td', {}, s.name), h('td', {}, s.task_name), h('td', { class: 'targets' }, targetsOf(s.data && s.data.kwargs)),
    h('td', {}, h('code', {}, s.cron || ''), h('div', { class: 'muted' }, s.time_zone || s.timezone || '')),
    h('td', {}, s.queue || ''), h('td', {}, formatDate(s.next_run || s.next_execution)),
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
}

const LAST_RUNS_SHOWN = 5;

/** The newest runs as state badges linking to each task, and a link to all of them in the history. */
function lastRuns(s) {
  const runs = Array.isArray(s.last_runs) ? s.last_runs.slice(0, LAST_RUNS_SHOWN) : [];
  const all = h('a', { href: `/ui/history?schedule=${encodeURIComponent(s.name)}`, class: 'small-link', dataset: { allRuns: s.name } }, 'all runs');
  if (!runs.length) return [s.last_fired ? h('div', {}, formatDate(s.last_fired)) : h('span', { class: 'muted' }, 'not run yet'), ' ', s.last_fired ? all : null];
  return [runs.map(run => h('a', { href: `/ui/task/${encodeURIComponent(run.task_id)}`, class: 'run-link', title: `${run.verdict || run.state} · ${formatDate(run.date_submitted)}`, dataset: { runId: run.task_id } },
    outcomeBadge(run))), h('div', { class: 'muted' }, formatDate(runs[0].date_submitted), ' · ', all)];
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
export async function workersPage(root) {
  const r = await get('/workers');
  if (r.status === 404 || r.status === 405) {
    return mount(root, h('h1', {}, 'Workers'), emptyState('Workers are not listed', 'This server does not report its workers yet (GET /workers).'));
  }
  if (!r.ok) return mount(root, h('h1', {}, 'Workers'), emptyState('Could not load the workers', r.error));
  const list = Array.isArray(r.body) ? r.body : (r.body && (r.body.workers || r.body.items)) || [];
  if (!list.length) return mount(root, h('h1', {}, 'Workers'), emptyState('No live workers', 'Start a worker (Roles=worker) to run tasks; each declares its queues and location.'));
  mount(root, h('h1', {}, 'Workers and vantage points'),
    h('table', { class: 'list workers' },
      h('thead', {}, h('tr', {}, ['Name', 'Location', 'Queues', 'Started', 'Last heartbeat', 'Running', 'Version'].map(t => h('th', {}, t)))),
      h('tbody', {}, list.map(w => h('tr', { dataset: { worker: w.name } },
        h('td', {}, w.name), h('td', {}, w.location || ''), h('td', {}, (w.queues || []).join(', ')),
        h('td', {}, formatDate(w.started)), h('td', {}, w.last_heartbeat ? `${durationBetween(w.last_heartbeat)} ago` : ''),
        h('td', {}, runningOf(w)), h('td', {}, w.version || ''))))),
    h('p', { class: 'hint' }, 'A queue is a vantage point: run a test there with Queue on the run form, or several at once (fra, dfw) to compare.'));
}

/** How many tasks a worker runs now, each linked to its page. */
function runningOf(w) {
  const ids = Array.isArray(w.running_tasks) ? w.running_tasks : [];
  const n = typeof w.running === 'number' ? w.running : ids.length;
  return [String(n), ids.length ? ' ' : null, ids.map((id, i) => [i ? ', ' : '', h('a', { href: `/ui/task/${encodeURIComponent(id)}` }, h('code', {}, String(id).slice(0, 8)))])];
}
