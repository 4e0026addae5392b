// The UI's router: /ui/run[/kind], /ui/task/{id}, /ui/diff/{id}[?against=], /ui/history, /ui/schedules, /ui/workers. Links inside the
// UI are followed without a page load; every URL also works when opened directly (the server answers the page).
import { h, mount, emptyState } from './util.js';
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
      case 'history': return await historyPage(root, new URLSearchParams(location.search), navigate);
      case 'schedules': return await schedulesPage(root, navigate);
      case 'workers': return await workersPage(root);
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

document.getElementById('token-button').addEventListener('click', () => {
  const t = prompt('API token (kept in this browser; empty to remove)', getToken() ? '******' : '');
  if (t !== null && t !== '******') setToken(t.trim());
});

get('/').then(r => {
  if (r.ok && r.body) mount(document.getElementById('footer'), `${r.body.name || 'RemoteTest'} ${r.body.version || ''}`,
    r.body.roles ? h('span', { class: 'muted' }, ` · roles: ${[].concat(r.body.roles).join(', ')}`) : null);
});

route();
