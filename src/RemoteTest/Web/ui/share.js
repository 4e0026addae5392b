// Repeat and share a task: its stored arguments (secrets masked by the server), "Run again" on the right form,
// and the same test as a curl command or a `remotetest` CLI command. Never a token or a password: the commands
// read $REMOTETEST_TOKEN (and the app test's $REMOTETEST_APP_PASSWORD) from the shell.
import { get } from './api.js';
import { MASK, portsText } from './util.js';

/** The run form (tab) that re-creates each task; anything else opens the JSON tab. */
export const FORM_OF = { 'porttest.run': 'ports', 'dns.check_records': 'dns', 'apptest.run': 'apps', 'path.trace': 'trace' };

/**
 * The task's stored arguments by parameter name ({data, timeout, ...}), secrets masked. GET /task/{id} has no
 * arguments; the history listing has them, and a task is found there by its submission millisecond (one request).
 */
export async function taskArguments(status) {
  if (status.args && typeof status.args === 'object') return status.args;
  let id = status.task_id, submitted = status.date_submitted;
  // A fan-out group: every location ran the same arguments; ask for one of its children.
  const child = Object.values(status.children || {}).find(c => c && c.task_id);
  if (child) { id = child.task_id; submitted = child.date_submitted || submitted; }
  if (!submitted) return null;
  const since = new Date(submitted);
  if (isNaN(since)) return null;
  const until = new Date(since.getTime() + 1);
  const q = new URLSearchParams({ since: since.toISOString(), until: until.toISOString(), limit: '500' });
  if (status.task_name) q.set('task_name', status.task_name);
  const r = await get(`/task?${q}`);
  const found = r.ok && r.body && (r.body.tasks || []).find(t => t.task_id === id);
  return found && found.args && typeof found.args === 'object' ? found.args : null;
}

/** True when a stored value is a masked secret (the server never gives secrets back). */
export const isMasked = v => v === MASK || (typeof v === 'string' && /^\*{4,}$/.test(v));

/** A copy with every masked secret replaced by a placeholder the user fills in. */
function withPlaceholders(value) {
  if (Array.isArray(value)) return value.map(withPlaceholders);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, isMasked(v) ? `<${k}>` : withPlaceholders(v)]));
  return value;
}

function hasMasked(value) {
  if (Array.isArray(value)) return value.some(hasMasked);
  if (value && typeof value === 'object') return Object.values(value).some(v => isMasked(v) || hasMasked(v));
  return false;
}

/** POSIX shell single-quoting. */
export const sh = s => /^[A-Za-z0-9_@%+=:,./-]+$/.test(String(s)) ? String(s) : `'${String(s).replace(/'/g, `'\\''`)}'`;

/** The POST /task body that re-runs the task: every argument as a keyword argument. */
export function payloadOf(status, args) {
  const body = { task_name: status.task_name, data: { kwargs: withPlaceholders(args || {}) } };
  if (status.queue && status.queue !== 'default' && !status.children) body.queue = status.queue;
  if (status.children) body.queues = Object.keys(status.children);
  return body;
}

/** curl, with the token from $REMOTETEST_TOKEN (never written into the command). */
export function curlOf(status, args, origin = location.origin) {
  const body = JSON.stringify(payloadOf(status, args));
  const lines = [];
  if (hasMasked(args)) lines.push('# Secrets are never stored: replace each <...> placeholder (e.g. <password>) before running.');
  lines.push(`curl -sS -X POST ${sh(origin + '/task')} -H "Authorization: Bearer $REMOTETEST_TOKEN" -H 'Content-Type: application/json' \\\n  --data-binary ${sh(body)}`);
  return lines.join('\n');
}

const hostPort = host => host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;

/**
 * The JSON written to a file first, then the command naming it: works in any POSIX shell (a lone "-" for standard
 * input is not taken by every CLI version's argument parser).
 */
const withFile = (name, json, command) => `cat > ${name} <<'JSON'\n${JSON.stringify(json, null, 2)}\nJSON\n${command}`;

/** The `remotetest` command that runs the same test; falls back to `remotetest run -` with the payload. */
export function cliOf(status, args, origin = location.origin) {
  const a = args || {};
  const common = [`--server ${sh(origin)}`];
  if (status.children) common.push(`--queues ${sh(Object.keys(status.children).join(','))}`);
  else if (status.queue && status.queue !== 'default') common.push(`-q ${sh(status.queue)}`);
  if (typeof a.timeout === 'number') common.push(`--timeout ${a.timeout}`);
  const run = () => {
    const body = payloadOf(status, a);
    delete body.queue; delete body.queues;
    return (hasMasked(a) ? '# Secrets are never stored: replace each <...> placeholder before running.\n' : '') +
      withFile('payload.json', body, `remotetest run payload.json ${common.join(' ')}`);
  };
  const data = a.data && typeof a.data === 'object' && !Array.isArray(a.data) ? a.data : null;
  switch (status.task_name) {
    case 'porttest.run': {
      if (!data) return run();
      const hosts = Object.entries(data);
      const closed = [...new Set(hosts.map(([, v]) => portsText((v && v.expect_closed) || [])))];
      // Per-host options the CLI cannot say (expect_open, a host's own SNI, different expect_closed): the JSON form.
      // The CLI also needs ports on every host and at least one TLS port when --tls-ports is given.
      if (hosts.some(([, v]) => !v || v.expect_open || v.sni || !(v.ports || []).length) || closed.length > 1
        || (Array.isArray(a.tls_ports) && !a.tls_ports.length)) return run();
      const targets = hosts.map(([h, v]) => `${hostPort(h)}:${portsText(v.ports || []).replace(/, /g, ',')}`);
      const opts = [];
      if (closed[0]) opts.push(`--expect-closed ${closed[0].replace(/, /g, ',')}`);
      if (Array.isArray(a.tls_ports)) opts.push(`--tls-ports ${portsText(a.tls_ports).replace(/, /g, ',')}`);
      if (a.verify_ssl === false) opts.push('--insecure');
      if (a.sni) opts.push(`--sni ${sh(a.sni)}`);
      if (a.ca_pem) opts.push('--ca-file ca.pem');
      if (a.all_addresses) opts.push('--all-addresses');
      if (a.trace_failed) return run();
      return `${a.ca_pem ? '# Save the CA certificates (ca_pem) as ca.pem first.\n' : ''}remotetest port ${targets.map(sh).join(' ')} ${[...opts, ...common].join(' ')}`;
    }
    case 'path.trace': {
      if (!data) return run();
      const proto = a.protocol || 'tcp';
      const targets = Object.entries(data).map(([h, v]) => proto === 'icmp' || !(v && v.ports && v.ports.length) ? hostPort(h) : `${hostPort(h)}:${portsText(v.ports).replace(/, /g, ',')}`);
      const opts = [];
      if (proto === 'udp') opts.push('--udp');
      if (proto === 'icmp') opts.push('--icmp');
      if (typeof a.count === 'number') opts.push(`-c ${a.count}`);
      if (typeof a.max_hops === 'number') opts.push(`--max-hops ${a.max_hops}`);
      return `remotetest trace ${targets.map(sh).join(' ')} ${[...opts, ...common].join(' ')}`;
    }
    case 'dns.check_records': {
      if (!a.dns_data || typeof a.dns_data !== 'object') return run();
      const opts = [];
      if (Array.isArray(a.nameservers)) a.nameservers.forEach(n => opts.push(`--nameserver ${sh(n)}`));
      else if (typeof a.nameservers === 'string') opts.push(`--resolver-set ${sh(a.nameservers)}`);
      if (a.record_type) opts.push(`--record-type ${sh(a.record_type)}`);
      if (a.authoritative) opts.push('--authoritative');
      return withFile('dns-data.json', a.dns_data, `remotetest dns check dns-data.json ${[...opts, ...common].join(' ')}`);
    }
    case 'apptest.run': {
      if (!data) return run();
      // The password comes from $REMOTETEST_APP_PASSWORD (stdin carries the hosts): never in the command.
      const hosts = {};
      let user = null;
      for (const [h, v] of Object.entries(data)) {
        const td = { ...((v && v.test_data) || {}) };
        if (td.user_id && !isMasked(td.user_id)) user = user ?? td.user_id;
        delete td.user_id; delete td.password;
        hosts[h] = { ...v, test_data: withPlaceholders(td) };
      }
      const opts = [];
      if (user) opts.push(`--user ${sh(user)}`);
      if (a.verify_ssl === false) opts.push('--insecure');
      return `# The password is never stored: export REMOTETEST_APP_PASSWORD first${hasMasked(hosts) ? ', and replace each <...> placeholder' : ''}.\n` +
        withFile('hosts.json', hosts, `remotetest app hosts.json ${[...opts, ...common].join(' ')}`);
    }
    default:
      return run();
  }
}
