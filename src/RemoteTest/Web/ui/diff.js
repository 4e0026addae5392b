// What changed between two runs of a task (GET /task/{id}/diff), and pinning a run as a named baseline.
import { h, mount, emptyState, formatDate } from './util.js';
import { get, post } from './api.js';

const show = v => v === null || v === undefined ? '—' : Array.isArray(v) ? v.join(', ') : String(v);

/**
 * /ui/diff/{id}?against={other_id|baseline:NAME}. Without "against": the previous successful run of the same task
 * (or the baseline picked in the chooser). Changed cells are highlighted; unchanged checks are one click away.
 */
export async function diffPage(root, id, params, navigate) {
  const against = params.get('against') || '';
  const head = h('div', {});
  const body = h('div', { class: 'diff-body' });
  mount(root, head, body);
  const task = await get(`/task/${encodeURIComponent(id)}`);
  if (!task.ok) return mount(body, emptyState(task.status === 404 ? 'No such task' : 'Could not load the task', task.error || ''));
  const chooser = await compareForm(task.body, against, navigate);
  mount(head, h('h1', {}, 'What changed ', h('small', { class: 'muted' }, task.body.task_name || '')),
    h('p', {}, 'After: ', h('a', { href: `/ui/task/${encodeURIComponent(id)}` }, h('code', {}, id.slice(0, 8))),
      task.body.date_done ? h('small', { class: 'muted' }, ` ${formatDate(task.body.date_done)}`) : null), chooser);
  if (!against) {
    const previous = await previousRun(task.body);
    if (!previous) return mount(body, emptyState('Nothing to compare with', 'No earlier successful run of this task and no baseline chosen: pick one above.'));
    return navigate(`/ui/diff/${encodeURIComponent(id)}?against=${encodeURIComponent(previous)}`, true);
  }
  const r = await get(`/task/${encodeURIComponent(id)}/diff?against=${encodeURIComponent(against)}`);
  if (!r.ok) return mount(body, emptyState('Cannot compare', r.error || ''));
  mount(body, renderDiff(r.body));
}

/** The newest successful run of the same task submitted before this one, or null. */
async function previousRun(s) {
  const q = new URLSearchParams({ task_name: s.task_name || '', state: 'SUCCESS', limit: '5' });
  if (s.date_submitted) q.set('until', s.date_submitted);
  const r = await get(`/task?${q}`);
  const list = r.ok && r.body ? r.body.tasks || [] : [];
  const found = list.find(t => t.task_id !== s.task_id);
  return found ? found.task_id : null;
}

/** A select of the caller's baselines of this task (and the previous run), and a box for any task id. */
async function compareForm(s, current, navigate) {
  const r = await get('/baselines');
  const baselines = (r.ok && r.body ? r.body.baselines || [] : []).filter(b => b.task_name === s.task_name && b.task_id !== s.task_id);
  const select = h('select', { name: 'against', dataset: { against: '1' } },
    h('option', { value: '' }, 'the previous run'),
    baselines.map(b => h('option', { value: `baseline:${b.name}` }, `baseline ${b.name}`)));
  const other = h('input', { name: 'other', placeholder: 'or a task id', size: 38 });
  if (current.startsWith('baseline:')) select.value = current; else if (current) other.value = current;
  // Picking from the list replaces a typed (or shown) task id.
  select.addEventListener('change', () => { other.value = ''; });
  const form = h('form', { class: 'filters', dataset: { compare: '1' } }, h('label', {}, 'Compare with ', select), other, h('button', { type: 'submit' }, 'Compare'));
  form.addEventListener('submit', ev => {
    ev.preventDefault();
    const target = other.value.trim() || select.value;
    navigate(`/ui/diff/${encodeURIComponent(s.task_id)}${target ? `?against=${encodeURIComponent(target)}` : ''}`);
  });
  return form;
}

/** The diff document as a table: one row per field, changed cells highlighted, unchanged checks hidden until asked. */
export function renderDiff(d) {
  const s = d.summary || {};
  const toggle = h('input', { type: 'checkbox', dataset: { showUnchanged: '1' } });
  const rows = [];
  for (const c of d.checks || []) {
    const fields = c.status === 'added' || c.status === 'removed' ? [{ field: '', from: c.status === 'added' ? null : 'present', to: c.status === 'added' ? 'present' : null, changed: true }] : c.fields || [];
    fields.forEach((f, i) => rows.push(h('tr', { class: `diff-${c.status}${c.status === 'unchanged' ? ' hidden' : ''}`, dataset: { check: c.key, field: f.field, status: c.status } },
      i === 0 ? h('th', { scope: 'row', rowspan: fields.length }, c.target, ' ', h('span', { class: `chip status-${c.status}` }, c.status)) : null,
      h('td', {}, f.field || (c.status === 'added' ? 'added' : 'removed')),
      h('td', { class: f.changed ? 'cell-changed before' : 'before' }, show(f.from)),
      h('td', { class: f.changed ? 'cell-changed after' : 'after' }, show(f.to)))));
  }
  const table = h('table', { class: 'grid diff' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Check'), h('th', {}, 'Field'),
      h('th', {}, d.baseline ? `Before (baseline ${d.baseline})` : 'Before'), h('th', {}, 'After'))),
    h('tbody', {}, rows));
  toggle.addEventListener('change', () => table.querySelectorAll('tr.diff-unchanged').forEach(tr => tr.classList.toggle('hidden', !toggle.checked)));
  return h('div', {},
    h('p', { class: `verdict ${d.changed ? 'verdict-bad' : 'verdict-ok'}`, dataset: { changed: String(!!d.changed) } },
      d.changed ? 'Something changed.' : 'Nothing changed.'),
    h('div', { class: 'summary' }, ['changed', 'unchanged', 'added', 'removed'].map(k => h('span', { class: 'chip', dataset: { key: k } }, h('b', {}, k), ' ', String(s[k] ?? 0)))),
    h('p', {}, 'Before: ', h('a', { href: `/ui/task/${encodeURIComponent(d.against)}` }, h('code', {}, String(d.against).slice(0, 8))),
      d.before && d.before.date_done ? h('small', { class: 'muted' }, ` ${formatDate(d.before.date_done)}`) : null),
    h('label', {}, toggle, ' Show unchanged checks'),
    table);
}

/** The task page's compare and pin controls for a finished task. */
export function compareControls(s, navigate) {
  const name = h('input', { name: 'baseline', placeholder: 'pre-cutover', size: 16, pattern: '[A-Za-z0-9][A-Za-z0-9._-]{0,63}' });
  const note = h('small', { class: 'notice', role: 'status', dataset: { pinNote: '1' } });
  const pin = h('form', { class: 'inline', dataset: { pin: '1' } }, h('label', {}, 'Pin as baseline ', name), h('button', { type: 'submit' }, 'Pin'), ' ', note);
  pin.addEventListener('submit', async ev => {
    ev.preventDefault();
    const r = await post(`/task/${encodeURIComponent(s.task_id)}/baseline`, { name: name.value.trim() });
    mount(note, r.ok ? `Pinned as ${r.body.name}.` : r.error);
    note.className = `notice ${r.ok ? '' : 'notice-bad'}`;
  });
  return h('div', { class: 'compare' },
    h('a', { href: `/ui/diff/${encodeURIComponent(s.task_id)}`, dataset: { diff: s.task_id } }, 'Compare with an earlier run or a baseline'), ' ', pin);
}
