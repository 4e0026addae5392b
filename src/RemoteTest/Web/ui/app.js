// The UI's router: /ui/run[/kind], /ui/task/{id}, /ui/diff/{id}[?against=], /ui/history, /ui/schedules, /ui/workers. Links inside the
// UI are followed without a page load; every URL also works when opened directly (the server answers the page).
import { h, mount, emptyState, timeZoneMode, setTimeZoneMode } from './util.js';
import { get, getToken, setToken } from './api.js';
import { runPage } from './forms.js';
import { taskPage, historyPage, schedulesPage, workersPage } from './pages.js';
import { diffPage } from './diff.js';

const root = document.getElementById('app');
let generation = 0;

function navigate(url, replace = false) {
  replace ? history.replaceState(null, '', url) : history.pushState(null, '', url);
  route();
}

async function route() {
  const mine = ++generation;
  const alive = () => mine === generation;
  const parts = location.pathname.replace(/^\/ui\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const page = parts[0] || 'run';
  document.querySelectorAll('[data-nav]').forEach(a => a.classList.toggle('active', a.dataset.nav === page));
  document.title = `RemoteTest · ${page}`;
  try {
    switch (page) {
      case 'run': return await runPage(root, parts[1], navigate);
      case 'task': return parts[1] ? await taskPage(root, parts[1], alive, navigate) : navigate('/ui/history', true);
      case 'diff': return parts[1] ? await diffPage(root, parts[1], new URLSearchParams(location.search), navigate) : navigate('/ui/history', true);
      case 'history': return await historyPage(root, new URLSearchParams(location.search), navigate, alive);
      case 'schedules': return await schedulesPage(root, navigate, alive, parts[1]);
      case 'workers': return await workersPage(root, alive);
      default: return mount(root, emptyState('Page not found', `There is no page ${location.pathname}.`));
    }
  } catch (e) {
    if (alive()) mount(root, emptyState('Something went wrong', e.message));
  } finally {
    if (alive()) root.dataset.ready = page;
  }
}

document.addEventListener('click', ev => {
  const a = ev.target.closest('a[href^="/ui"]');
  if (!a || ev.ctrlKey || ev.metaKey || ev.shiftKey || a.target || a.hasAttribute('download')) return;
  ev.preventDefault();
  navigate(a.getAttribute('href'));
});
window.addEventListener('popstate', route);

// The API token, entered in a modal <dialog> (focus trapped, Escape closes, a password field: never shown back).
const dialog = document.getElementById('token-dialog');
const tokenInput = document.getElementById('token-input');
document.getElementById('token-button').addEventListener('click', () => {
  tokenInput.value = '';
  mount(document.getElementById('token-status'), getToken() ? 'A token is set for this browser. Type a new one to replace it, or remove it.' : 'No token set: requests go without one.');
  document.getElementById('token-remove').hidden = !getToken();
  dialog.showModal();
  tokenInput.focus();
});
dialog.addEventListener('close', () => {
  if (dialog.returnValue === 'save' && tokenInput.value.trim()) setToken(tokenInput.value.trim());
  else if (dialog.returnValue === 'remove') setToken('');
  tokenInput.value = '';
  if (dialog.returnValue === 'save' || dialog.returnValue === 'remove') route();
});

// Times are UTC unless the user asks for local time; the choice is kept in this browser and redraws the page.
const zoneButton = document.getElementById('zone-button');
const showZone = () => { zoneButton.textContent = `Times: ${timeZoneMode() === 'utc' ? 'UTC' : 'local'}`; zoneButton.setAttribute('aria-pressed', String(timeZoneMode() === 'local')); };
const toggleZone = () => { setTimeZoneMode(timeZoneMode() === 'utc' ? 'local' : 'utc'); showZone(); route(); };
zoneButton.addEventListener('click', toggleZone);
showZone();

// The skip link moves focus to the page's content (past the navigation).
document.getElementById('skip-link').addEventListener('click', ev => { ev.preventDefault(); root.focus(); });

// Keyboard shortcuts, never while typing in a field or with a modifier: / search, r run again, n new test, h history, t zone.
document.addEventListener('keydown', ev => {
  if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.defaultPrevented || dialog.open) return;
  const t = ev.target;
  if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
  const click = sel => { const el = document.querySelector(sel); if (el) { ev.preventDefault(); el.click(); } return !!el; };
  switch (ev.key) {
    case '/': {
      const box = document.querySelector('[data-search]');
      if (box) { ev.preventDefault(); box.focus(); box.select && box.select(); }
      return;
    }
    case 'r': return click('[data-run-again]');
    case 'n': ev.preventDefault(); return navigate('/ui/run');
    case 'h': ev.preventDefault(); return navigate('/ui/history');
    case 't': ev.preventDefault(); return toggleZone();
  }
});

// Stacked tables on small screens label each cell with its column's header (CSS shows it before the value).
const labelTables = () => {
  for (const table of root.querySelectorAll('table.grid, table.list')) {
    const heads = [...table.querySelectorAll(':scope > thead > tr > th')].map(th => th.textContent.trim());
    if (!heads.length) continue;
    for (const tr of table.querySelectorAll(':scope > tbody > tr')) {
      [...tr.children].forEach((cell, i) => { if (heads[i] && !cell.dataset.label) cell.dataset.label = heads[i]; });
    }
  }
};
let labelPending = false;
new MutationObserver(() => {
  if (labelPending) return;
  labelPending = true;
  requestAnimationFrame(() => { labelPending = false; labelTables(); });
}).observe(root, { childList: true, subtree: true });

get('/').then(r => {
  if (r.ok && r.body) mount(document.getElementById('footer'), `${r.body.name || 'RemoteTest'} ${r.body.version || ''}`,
    r.body.roles ? h('span', { class: 'muted' }, ` · roles: ${[].concat(r.body.roles).join(', ')}`) : null);
});

route();
