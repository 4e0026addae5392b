// "Run a test": one form per task, or a JSON payload in the original's format. Field errors come from the
// API's 400 {"error", "field"} answers and are shown next to the input that produced the field.
import { h, mount, listOf, portsOf, portsText } from './util.js';
import { post, taskList, get } from './api.js';
import { taskArguments, FORM_OF, isMasked } from './share.js';

const DEFAULT_APPS = ['OpenClientServer', 'BWCallCenter', 'BWReceptionist', 'OCIOverSoap', 'Xsi-Actions', 'Xsi-Events',
  'PublicReporting', 'BroadworksDms', 'OCIFiles', 'BWCallSettingsWeb', 'AuthenticationService', 'CommPilot',
  'ModeratorClientApp', 'NotificationPushServer', 'SipOptions'];

const FORMS = {
  ports: { label: 'Ports & TLS', task: 'porttest.run', build: portsForm },
  dns: { label: 'DNS states', task: 'dns.check_records', build: dnsForm },
  apps: { label: 'Applications', task: 'apptest.run', build: appsForm },
  trace: { label: 'Path trace', task: 'path.trace', build: traceForm },
  json: { label: 'JSON payload', task: null, build: jsonForm },
};

/**
 * The run page; <kind> is the tab (ports, dns, apps, trace, json). ?again={task id} pre-fills the form from that
 * task's stored arguments ("Run again"); otherwise the form comes back as the user left it (Back keeps it).
 */
export async function runPage(root, kind, navigate) {
  const known = await taskList();
  const again = new URLSearchParams(location.search).get('again');
  let source = null;
  if (again) {
    const r = await get(`/task/${encodeURIComponent(again)}`);
    if (r.ok && r.body) {
      source = { status: r.body, args: await taskArguments(r.body) };
      if (!kind) kind = FORM_OF[r.body.task_name] || 'json';
    }
  }
  kind = FORMS[kind] ? kind : 'ports';
  const tabs = h('div', { class: 'tabs', role: 'tablist' }, Object.entries(FORMS).map(([k, f]) =>
    h('a', { href: `/ui/run/${k}`, role: 'tab', class: k === kind ? 'active' : '', 'aria-selected': String(k === kind), dataset: { tab: k } },
      f.label, f.task && !known.task_names.includes(f.task) ? h('small', { class: 'muted' }, ' (not on this server)') : null)));
  const form = h('form', { class: 'run', novalidate: true, dataset: { form: kind } });
  const note = again ? h('p', { class: 'prefill', role: 'status', id: 'prefill-note' }) : null;
  mount(root, h('h1', {}, 'Run a test'), tabs, note, form);
  FORMS[kind].build(form, known);
  form.append(queueRow(), h('div', { class: 'form-error', role: 'alert' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Run')));
  fillQueues(form);
  const storeKey = `remotetest.form.${kind}`;
  if (again && !source) {
    mount(note, `Task ${again} could not be loaded: the form is empty.`);
  } else if (source && !source.args) {
    mount(note, `Task ${again}'s arguments are not available (it expired, or this server does not list history): the form is empty.`);
  } else if (source) {
    const secrets = FORMS[kind].fill(form, source.args, source.status);
    const s = source.status;
    const queue = s.children ? Object.keys(s.children).join(', ') : s.queue && s.queue !== 'default' ? s.queue : '';
    form.querySelector('[name=queue]').value = queue;
    mount(note, 'Pre-filled from task ', h('a', { href: `/ui/task/${encodeURIComponent(again)}` }, h('code', {}, again.slice(0, 8))),
      ': change what you need, then Run.',
      secrets ? h('span', { class: 'secret-note', dataset: { secretNote: '1' } }, ' Passwords are never stored, so the password fields are empty: type them again.') : null);
    saveForm(form, storeKey);
  } else {
    restoreForm(form, storeKey);
  }
  // Every change is kept for this tab's session, so Back (or a reload) returns the form as it was left.
  form.addEventListener('input', () => saveForm(form, storeKey));
  form.addEventListener('change', () => saveForm(form, storeKey));
  form.addEventListener('click', ev => { if (ev.target.closest('.add, .remove')) setTimeout(() => saveForm(form, storeKey)); });
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    clearErrors(form);
    let payload;
    try {
      payload = FORMS[kind].payload(form);
    } catch (e) {
      return showError(form, e.field || '', e.message);
    }
    const queue = form.querySelector('[name=queue]').value.trim();
    if (queue && payload.queue === undefined) {
      if (queue.includes(',') || queue === '*') payload.queues = queue === '*' ? '*' : listOf(queue);
      else payload.queue = queue;
    }
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    const r = await post('/task', payload);
    button.disabled = false;
    if (r.status === 202 && r.body && r.body.task_id) return navigate(`/ui/task/${encodeURIComponent(r.body.task_id)}`);
    showError(form, r.field || '', r.error || 'the server refused the task');
  });
}

// ---------- keeping the form (sessionStorage) ----------

/** The form as data: how many rows each "+ Add" list has, and every field's value in document order. Never a password. */
function snapshot(form) {
  return {
    rows: [...form.querySelectorAll('.rows')].map(l => l.children.length),
    values: [...form.querySelectorAll('input, select, textarea')].map(el =>
      el.type === 'password' || el.type === 'file' ? null : el.type === 'checkbox' ? el.checked : el.value),
  };
}

function saveForm(form, key) {
  try { sessionStorage.setItem(key, JSON.stringify(snapshot(form))); } catch { /* storage full or off: nothing kept */ }
}

function restoreForm(form, key) {
  let snap;
  try { snap = JSON.parse(sessionStorage.getItem(key) || 'null'); } catch { snap = null; }
  if (!snap || !Array.isArray(snap.rows) || !Array.isArray(snap.values)) return;
  // Lists are matched in document order; adding a row may add lists inside it, so the lists are looked up again.
  for (let i = 0; i < snap.rows.length && i < 200; i++) {
    const list = form.querySelectorAll('.rows')[i];
    if (!list) break;
    while (list.children.length < snap.rows[i] && list.children.length < 500) list.add();
    while (list.children.length > snap.rows[i]) list.lastElementChild.remove();
  }
  const fields = [...form.querySelectorAll('input, select, textarea')];
  if (fields.length !== snap.values.length) return;
  fields.forEach((el, i) => {
    const v = snap.values[i];
    if (v === null || v === undefined) return;
    if (el.type === 'checkbox') el.checked = !!v; else el.value = v;
    el.dispatchEvent(new Event('input'));
  });
}

// ---------- pre-filling (Run again) ----------

function setValue(form, name, value) {
  const el = form.querySelector(`[name=${name}]`);
  if (!el || value === undefined || value === null) return;
  if (el.type === 'checkbox') el.checked = !!value;
  else el.value = Array.isArray(value) ? value.join(', ') : String(value);
  el.dispatchEvent(new Event('input'));
}

/** The n-th row of the form's first "+ Add" list (or of <list>), added when missing. */
function rowAt(list, n) {
  while (list.children.length <= n) list.add();
  return list.children[n];
}

function setIn(row, name, value) {
  const el = row.querySelector(`[name=${name}]`);
  if (!el) return;
  el.value = value;
  el.dispatchEvent(new Event('input'));
}

class FormError extends Error { constructor(field, message) { super(message); this.field = field; } }

// ---------- field paths ----------

/** 'data["a.example"].ports[2]' → ['data', 'a.example', 'ports', 2]; 'data.kwargs.timeout' → ['timeout']. */
export function parseField(field) {
  const tokens = [];
  const re = /\[\s*"((?:[^"\\]|\\.)*)"\s*\]|\[\s*'([^']*)'\s*\]|\[(\d+)\]|\.?([^.[\]]+)/g;
  let m;
  while ((m = re.exec(field || '')) !== null) {
    if (m[1] !== undefined) tokens.push(m[1].replace(/\\(.)/g, '$1'));
    else if (m[2] !== undefined) tokens.push(m[2]);
    else if (m[3] !== undefined) tokens.push(Number(m[3]));
    else if (m[4] !== undefined) tokens.push(m[4]);
  }
  // The API may name a keyword argument as data.kwargs.X and a positional one as data.args[i].
  if (tokens[0] === 'data' && tokens[1] === 'kwargs') return tokens.slice(2);
  return tokens;
}

/** Marks the input whose data-path is the longest prefix of the error's field; else shows it above the button. */
export function showError(form, field, message) {
  const want = parseField(field);
  let best = null, bestLen = 0;
  for (const input of form.querySelectorAll('[data-path]')) {
    const path = JSON.parse(input.dataset.path);
    let n = 0;
    // "*" in a data-path stands for any one key: an input shared by every host (the apps form's test user).
    while (n < path.length && n < want.length && (path[n] === '*' || String(path[n]) === String(want[n]))) n++;
    if (n === path.length && n > bestLen) { best = input; bestLen = n; }
  }
  // The JSON tab has one input for the whole payload: every field of it is shown there, with its path.
  if (!best && field && form.querySelector('[data-fallback]')) {
    best = form.querySelector('[data-fallback]');
    message = `${field}: ${message}`;
  }
  if (!best) {
    mount(form.querySelector('.form-error'), field ? `${field}: ${message}` : message);
    return;
  }
  best.classList.add('invalid');
  best.setAttribute('aria-invalid', 'true');
  const note = h('div', { class: 'field-error', role: 'alert', dataset: { field } }, message);
  (best.matches('fieldset') ? best : best.closest('.field') || best.parentElement).append(note);
  best.focus();
}

export function clearErrors(form) {
  form.querySelectorAll('.field-error').forEach(e => e.remove());
  form.querySelectorAll('.invalid').forEach(e => { e.classList.remove('invalid'); e.removeAttribute('aria-invalid'); });
  mount(form.querySelector('.form-error'));
}

const path = (...tokens) => JSON.stringify(tokens);

function field(label, input, hint) {
  return h('label', { class: 'field' }, h('span', { class: 'label' }, label), input, hint ? h('small', { class: 'hint' }, hint) : null);
}

function queueRow() {
  return h('fieldset', { class: 'options' }, h('legend', {}, 'Where to run'),
    field('Queue (vantage point)', h('input', { name: 'queue', list: 'queue-list', placeholder: 'default', dataset: { path: path('queue') } }),
      'Empty: the default queue. Several, comma separated, or * for every location: run from each and compare.'),
    h('datalist', { id: 'queue-list' }));
}

/** Offers the queues of live workers, when the server lists them. */
async function fillQueues(form) {
  const r = await get('/workers');
  const list = r.ok && r.body ? (Array.isArray(r.body) ? r.body : r.body.workers || []) : [];
  const queues = [...new Set(list.flatMap(w => w.queues || []))].sort();
  const datalist = form.querySelector('#queue-list');
  if (datalist) mount(datalist, queues.map(q => h('option', { value: q })));
}

/** Rows that the user adds and removes ("+ Add host"). */
function repeater(container, makeRow, addLabel, initial = 1) {
  const list = h('div', { class: 'rows' });
  const add = () => { const row = makeRow(); row.append(h('button', { type: 'button', class: 'link remove', 'aria-label': 'Remove this row', onclick: () => row.remove() }, '×')); list.append(row); return row; };
  list.add = add;
  container.append(list, h('button', { type: 'button', class: 'link add', onclick: () => add() }, addLabel));
  for (let i = 0; i < initial; i++) add();
  return { list, add };
}

/** Re-points the data-path of the row's inputs at the key the user typed (the host or domain is the JSON key). */
function keyed(input, inputsOf) {
  const update = () => inputsOf().forEach(([el, make]) => { el.dataset.path = make(input.value.trim()); });
  input.addEventListener('input', update);
  update();
}

function number(name, value, step, p) {
  return h('input', { name, type: 'number', value, step, min: 0, dataset: { path: path(p || name) } });
}

// ---------- porttest.run ----------
function portsForm(form) {
  const hosts = h('fieldset', {}, h('legend', {}, 'Hosts and ports'));
  repeater(hosts, () => {
    const host = h('input', { name: 'host', placeholder: 'sbc.example.com or 192.0.2.10', autocomplete: 'off' });
    const ports = h('input', { name: 'ports', placeholder: '80, 443, 5060-5070' });
    const closed = h('input', { name: 'expect_closed', placeholder: 'e.g. 23, 8080', size: 14 });
    keyed(host, () => [[host, v => path('data', v)], [ports, v => path('data', v, 'ports')], [closed, v => path('data', v, 'expect_closed')]]);
    return h('div', { class: 'row' }, field('Host', host), field('Ports', ports), field('Expect closed', closed));
  }, '+ Add host');
  const ca = h('textarea', { name: 'ca_pem', rows: 3, spellcheck: 'false', placeholder: '-----BEGIN CERTIFICATE-----', dataset: { path: path('ca_pem') } });
  const caFile = h('input', { type: 'file', name: 'ca_file', accept: '.pem,.crt,.cer' });
  caFile.addEventListener('change', async () => { if (caFile.files[0]) { ca.value = await caFile.files[0].text(); ca.dispatchEvent(new Event('input', { bubbles: true })); } });
  const options = h('fieldset', { class: 'options' }, h('legend', {}, 'Options'),
    h('p', { class: 'hint' }, 'Ports: numbers or ranges like 5060-5070 (at most 1024 in a range), comma or space separated. Expect closed: ports that pass only when closed (a firewall rule).'),
    field('TLS ports', h('input', { name: 'tls_ports', value: '443, 2209, 8012', dataset: { path: path('tls_ports') } }),
      'Open ports in this list also get a TLS handshake and certificate check.'),
    field('Timeout (s)', number('timeout', '5', '0.5')),
    field('Server name (SNI)', h('input', { name: 'sni', placeholder: 'the host', autocomplete: 'off', dataset: { path: path('sni') } }),
      'Sent in the TLS handshake and checked against the certificate, instead of the host.'),
    field('Extra CA certificates (PEM)', ca, 'Trusted besides the system\'s (a private CA).'),
    field('…or a CA file', caFile),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'verify_ssl', checked: true, dataset: { path: path('verify_ssl') } }), ' Verify certificates'),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'all_addresses', dataset: { path: path('all_addresses') } }), ' All addresses (check every A/AAAA address behind a name)'),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'trace_failed', dataset: { path: path('trace_failed') } }),
      ' Trace ports that time out (TCP traceroute to the port: where it is dropped)'));
  form.append(hosts, options);
}
FORMS.ports.payload = form => {
  const data = {};
  for (const row of form.querySelectorAll('.rows .row')) {
    const host = row.querySelector('[name=host]').value.trim();
    const ports = portsOf(row.querySelector('[name=ports]').value);
    const closed = portsOf(row.querySelector('[name=expect_closed]').value);
    if (!host && !ports.length && !closed.length) continue;
    if (!host) throw new FormError('', 'a row has ports but no host');
    const entry = data[host] || (data[host] = { ports: [] });
    entry.ports.push(...ports);
    if (closed.length) entry.expect_closed = [...(entry.expect_closed || []), ...closed];
  }
  if (!Object.keys(data).length) throw new FormError('', 'add at least one host with its ports');
  const kwargs = { timeout: num(form, 'timeout'), verify_ssl: form.querySelector('[name=verify_ssl]').checked, tls_ports: portsOf(form.querySelector('[name=tls_ports]').value) };
  if (form.querySelector('[name=trace_failed]').checked) kwargs.trace_failed = true;
  if (form.querySelector('[name=all_addresses]').checked) kwargs.all_addresses = true;
  const sni = form.querySelector('[name=sni]').value.trim();
  if (sni) kwargs.sni = sni;
  const ca = form.querySelector('[name=ca_pem]').value.trim();
  if (ca) kwargs.ca_pem = ca;
  return { task_name: 'porttest.run', data: { args: [data], kwargs } };
};
FORMS.ports.fill = (form, a) => {
  const list = form.querySelector('.rows');
  Object.entries(a.data || {}).forEach(([host, v], i) => {
    const row = rowAt(list, i);
    setIn(row, 'host', host);
    setIn(row, 'ports', portsText([...((v && v.ports) || []), ...((v && v.expect_open) || [])]));
    setIn(row, 'expect_closed', portsText((v && v.expect_closed) || []));
  });
  if (Array.isArray(a.tls_ports)) setValue(form, 'tls_ports', portsText(a.tls_ports));
  setValue(form, 'timeout', a.timeout);
  setValue(form, 'verify_ssl', a.verify_ssl !== false);
  setValue(form, 'sni', a.sni);
  setValue(form, 'ca_pem', a.ca_pem);
  setValue(form, 'all_addresses', !!a.all_addresses);
  setValue(form, 'trace_failed', !!a.trace_failed);
  return false;
};

// ---------- path.trace ----------
function traceForm(form) {
  const targets = h('fieldset', {}, h('legend', {}, 'Targets'),
    field('Host:port list', h('input', { name: 'targets', size: 48, autocomplete: 'off', placeholder: 'sbc.example.com:5061, 192.0.2.10:443, [2001:db8::1]:443',
      dataset: { path: path('data') } }), 'Comma or space separated; ICMP needs no port. Each port is traced to (TCP SYN or UDP), so a firewall shows where it drops.'));
  const options = h('fieldset', { class: 'options' }, h('legend', {}, 'Options'),
    field('Protocol', h('select', { name: 'protocol', dataset: { path: path('protocol') } },
      ['tcp', 'udp', 'icmp'].map(p => h('option', { value: p }, p.toUpperCase())))),
    field('Count (MTR rounds)', number('count', '1', '1'), 'More than 1: per-hop loss and RTT statistics, like mtr --report.'),
    field('Max hops', number('max_hops', '30', '1')),
    field('Timeout (s)', number('timeout', '2', '0.5'), 'How long to wait for each probe\'s answer.'));
  form.append(targets, options);
}
FORMS.trace.payload = form => {
  const protocol = form.querySelector('[name=protocol]').value;
  const data = {};
  for (const item of form.querySelector('[name=targets]').value.split(/[\s,]+/).filter(Boolean)) {
    // host:port, [v6]:port, or a bare host (ICMP); a bare IPv6 address has more than one colon.
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(item) || /^([^:]+):(\d+)$/.exec(item) || [item, item, undefined];
    const host = m[1];
    const entry = data[host] || (data[host] = { ports: [] });
    if (m[2] !== undefined) entry.ports.push(Number(m[2]));
    else if (protocol !== 'icmp') throw new FormError('data', `${item}: add the port to trace to (host:port)`);
  }
  if (!Object.keys(data).length) throw new FormError('data', 'add at least one host:port to trace');
  const kwargs = { protocol, count: num(form, 'count'), max_hops: num(form, 'max_hops'), timeout: num(form, 'timeout') };
  return { task_name: 'path.trace', data: { args: [data], kwargs } };
};

FORMS.trace.fill = (form, a) => {
  const icmp = a.protocol === 'icmp';
  const items = Object.entries(a.data || {}).flatMap(([host, v]) => {
    const h6 = host.includes(':') ? `[${host}]` : host;
    const ports = (v && v.ports) || [];
    return icmp || !ports.length ? [icmp && host.includes(':') ? host : h6] : ports.map(p => `${h6}:${p}`);
  });
  setValue(form, 'targets', items.join(', '));
  setValue(form, 'protocol', a.protocol);
  setValue(form, 'count', a.count);
  setValue(form, 'max_hops', a.max_hops);
  setValue(form, 'timeout', a.timeout);
  return false;
};

function num(form, name) {
  const v = form.querySelector(`[name=${name}]`).value.trim();
  return v === '' ? undefined : (isNaN(Number(v)) ? v : Number(v));
}

// ---------- dns.check_records ----------
function dnsForm(form) {
  const domains = h('fieldset', {}, h('legend', {}, 'Domains and their states'),
    h('p', { class: 'hint' }, 'For each domain, name the states it can be in (e.g. original, 13056) and the records of each. ' +
      'A domain starting with _ is looked up as SRV ("IN SRV 10 5 5061 sbc.example.com"), any other as A.'));
  repeater(domains, () => {
    const domain = h('input', { name: 'domain', placeholder: 'sip.example.com', autocomplete: 'off' });
    const states = h('div', { class: 'states' });
    const block = h('div', { class: 'row domain' }, field('Domain', domain), states);
    const stateRows = [];
    repeater(states, () => {
      const name = h('input', { name: 'state', placeholder: 'original', size: 10 });
      const values = h('input', { name: 'values', placeholder: '192.0.2.10, 192.0.2.11' });
      const row = h('div', { class: 'row state-row' }, field('State', name), field('Records', values));
      const repath = () => { values.dataset.path = path('dns_data', domain.value.trim(), name.value.trim()); name.dataset.path = values.dataset.path; };
      name.addEventListener('input', repath); domain.addEventListener('input', repath); repath();
      stateRows.push(row);
      return row;
    }, '+ Add state', 2);
    keyed(domain, () => [[domain, v => path('dns_data', v)]]);
    return block;
  }, '+ Add domain');
  const options = h('fieldset', { class: 'options' }, h('legend', {}, 'Options'),
    field('Nameservers', h('input', { name: 'nameservers', placeholder: 'system resolvers', dataset: { path: path('nameservers') } }),
      'Optional: IP or IP:PORT, comma separated, or a resolver set\'s name (public); with several, each one\'s answer is compared.'),
    field('Record type', h('select', { name: 'record_type', dataset: { path: path('record_type') } },
      ['', 'A', 'AAAA', 'CNAME', 'MX', 'TXT', 'NS', 'SRV', 'NAPTR', 'PTR', 'SOA', 'CAA', 'TLSA', 'DS', 'DNSKEY', 'SIP'].map(t =>
        h('option', { value: t }, t || 'automatic (SRV for _names, PTR for addresses, else A)'))),
      'SIP: the RFC 3263 resolution (NAPTR → SRV → addresses); states list targets as "udp 192.0.2.10:5060".'),
    field('Authoritative', h('input', { type: 'checkbox', name: 'authoritative', dataset: { path: path('authoritative') } }),
      'Also ask every authoritative server of each zone directly (answer, SOA serial).'),
    field('Timeout (s)', number('timeout', '3', '0.5')));
  form.append(domains, options);
}
FORMS.dns.payload = form => {
  const data = {};
  for (const block of form.querySelectorAll('.row.domain')) {
    const domain = block.querySelector('[name=domain]').value.trim();
    const states = {};
    for (const row of block.querySelectorAll('.state-row')) {
      const name = row.querySelector('[name=state]').value.trim();
      const values = row.querySelector('[name=values]').value;
      if (!name && !values.trim()) continue;
      // SRV values contain spaces: split records on commas and new lines only.
      states[name] = values.split(/[,\n]+/).map(v => v.trim()).filter(Boolean);
    }
    if (!domain && !Object.keys(states).length) continue;
    data[domain] = states;
  }
  if (!Object.keys(data).length) throw new FormError('', 'add at least one domain with its states');
  const kwargs = { timeout: num(form, 'timeout'), include_text: true };
  const ns = listOf(form.querySelector('[name=nameservers]').value);
  // One word that is no address (no dot, no colon) names a resolver set.
  if (ns.length === 1 && !/[.:]/.test(ns[0])) kwargs.nameservers = ns[0];
  else if (ns.length) kwargs.nameservers = ns;
  const type = form.querySelector('[name=record_type]').value;
  if (type) kwargs.record_type = type;
  if (form.querySelector('[name=authoritative]').checked) kwargs.authoritative = true;
  return { task_name: 'dns.check_records', data: { args: [data], kwargs } };
};

FORMS.dns.fill = (form, a) => {
  const list = form.querySelector('.rows');
  Object.entries(a.dns_data || {}).forEach(([domain, states], i) => {
    const block = rowAt(list, i);
    setIn(block, 'domain', domain);
    const stateList = block.querySelector('.rows');
    Object.entries(states || {}).forEach(([name, values], j) => {
      const row = rowAt(stateList, j);
      setIn(row, 'state', name);
      setIn(row, 'values', [].concat(values || []).join(', '));
    });
  });
  if (Array.isArray(a.nameservers)) setValue(form, 'nameservers', a.nameservers.join(', '));
  else if (typeof a.nameservers === 'string') setValue(form, 'nameservers', a.nameservers);
  setValue(form, 'record_type', a.record_type || '');
  setValue(form, 'authoritative', !!a.authoritative);
  setValue(form, 'timeout', a.timeout);
  return false;
};

// ---------- apptest.run ----------
function appsForm(form, known) {
  const names = appNames(known);
  const hosts = h('fieldset', {}, h('legend', {}, 'Hosts'));
  repeater(hosts, () => {
    const host = h('input', { name: 'host', placeholder: 'xsp1.example.com', autocomplete: 'off' });
    keyed(host, () => [[host, v => path('data', v)]]);
    return h('div', { class: 'row' }, field('Host', host));
  }, '+ Add host');
  const appsBox = h('fieldset', { class: 'apps', dataset: { path: path('data', '*', 'applications') } }, h('legend', {}, 'Applications'),
    names.map(n => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'app', value: n }), ' ', n)));
  const user = h('fieldset', { class: 'options' }, h('legend', {}, 'Test user'),
    field('User id', h('input', { name: 'user_id', autocomplete: 'off', placeholder: 'user@example.com', dataset: { path: path('data', '*', 'test_data', 'user_id') } })),
    field('Password', h('input', { name: 'password', type: 'password', autocomplete: 'new-password', dataset: { path: path('data', '*', 'test_data', 'password') } }),
      'Sent once to run the checks; stored encrypted and shown as ****** afterwards.'),
    field('DMS URL', h('input', { name: 'dms_url', placeholder: 'dms/path (BroadworksDms only)', dataset: { path: path('data', '*', 'test_data', 'dms_url') } })),
    field('DMS device user', h('input', { name: 'dms_user', autocomplete: 'off', placeholder: 'optional: answers the Digest challenge', dataset: { path: path('data', '*', 'test_data', 'dms_user') } })),
    field('DMS device password', h('input', { name: 'dms_password', type: 'password', autocomplete: 'new-password', dataset: { path: path('data', '*', 'test_data', 'dms_password') } }),
      'Optional; a secret like the password.'),
    field('More test data (JSON)', h('input', { name: 'extra', size: 48, placeholder: '{"ports": {"oci": 2208, "https": 8443}, "context_paths": {...}}',
      dataset: { path: path('data', '*', 'test_data') } }), 'Optional: merged into test_data (non-standard ports, context paths, schemes).'),
    field('Timeout (s)', number('timeout', '5', '0.5')),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'verify_ssl', checked: true, dataset: { path: path('verify_ssl') } }), ' Verify certificates'));
  form.append(hosts, appsBox, user);
}

/** Application names the server knows, from its argument schema when it lists them; else the original's. */
function appNames(known) {
  const task = (known.tasks || []).find(t => t.name === 'apptest.run');
  const found = new Set();
  const walk = n => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n.enum) && n.enum.every(v => typeof v === 'string')) n.enum.forEach(v => found.add(v));
    Object.values(n).forEach(walk);
  };
  walk(task && task.args_schema);
  return found.size ? [...found] : DEFAULT_APPS;
}

const APP_FIELDS = ['user_id', 'password', 'dms_url', 'dms_user', 'dms_password'];

/** Pre-fills hosts, applications and the test user; a stored password is masked, so its field stays empty (returns true). */
FORMS.apps.fill = (form, a) => {
  const list = form.querySelector('.rows');
  const hosts = Object.entries(a.data || {});
  hosts.forEach(([host], i) => setIn(rowAt(list, i), 'host', host));
  const first = hosts.length ? hosts[0][1] || {} : {};
  const apps = new Set(first.applications || []);
  form.querySelectorAll('[name=app]').forEach(c => { c.checked = apps.has(c.value); });
  const td = first.test_data || {};
  let secrets = false;
  for (const k of APP_FIELDS) {
    if (td[k] === undefined || td[k] === null) continue;
    if (k.endsWith('password') || isMasked(td[k])) { secrets = true; continue; }
    setValue(form, k, td[k]);
  }
  const extra = Object.fromEntries(Object.entries(td).filter(([k]) => !APP_FIELDS.includes(k)));
  if (Object.keys(extra).length) setValue(form, 'extra', JSON.stringify(extra));
  setValue(form, 'timeout', a.timeout);
  setValue(form, 'verify_ssl', a.verify_ssl !== false);
  if (secrets) form.querySelectorAll('input[type=password]').forEach(p => p.setAttribute('placeholder', 'not stored: type it again'));
  return secrets;
};

FORMS.apps.payload = form => {
  const applications = [...form.querySelectorAll('[name=app]:checked')].map(c => c.value);
  let testData = {};
  const extra = form.querySelector('[name=extra]').value.trim();
  if (extra) {
    try { testData = JSON.parse(extra); } catch (e) { throw new FormError('data["*"].test_data', `not valid JSON: ${e.message}`); }
    if (!testData || typeof testData !== 'object' || Array.isArray(testData)) throw new FormError('data["*"].test_data', 'must be a JSON object');
  }
  for (const k of ['user_id', 'password', 'dms_url', 'dms_user', 'dms_password']) {
    const v = form.querySelector(`[name=${k}]`).value;
    if (v) testData[k] = k.endsWith('password') ? v : v.trim();
  }
  const data = {};
  for (const input of form.querySelectorAll('[name=host]')) {
    const host = input.value.trim();
    if (host) data[host] = { applications, test_data: testData };
  }
  if (!Object.keys(data).length) throw new FormError('', 'add at least one host');
  if (!applications.length) throw new FormError('data["*"].applications', 'pick at least one application');
  return { task_name: 'apptest.run', data: { args: [data], kwargs: { timeout: num(form, 'timeout'), verify_ssl: form.querySelector('[name=verify_ssl]').checked } } };
};

// ---------- JSON payload ----------
function jsonForm(form, known) {
  const select = h('select', { name: 'task_name', dataset: { path: path('task_name') } },
    known.task_names.map(n => h('option', { value: n }, n)));
  const text = h('textarea', { name: 'payload', rows: 16, spellcheck: 'false', dataset: { path: path('data'), fallback: '1' },
    placeholder: '{"sbc.example.com": {"ports": [5060, 5061]}}  — or a whole {"task_name": ..., "data": ...} payload' });
  const file = h('input', { type: 'file', name: 'file', accept: '.json,application/json' });
  file.addEventListener('change', async () => { if (file.files[0]) text.value = await file.files[0].text(); });
  form.append(h('fieldset', {}, h('legend', {}, 'Payload'),
    field('Task', select, 'Used when the JSON is the task\'s data alone (the original\'s {host: {...}} or dns_data).'),
    field('JSON', text), field('…or upload a file', file)));
}
FORMS.json.fill = (form, a, status) => {
  const body = { task_name: status.task_name, data: { kwargs: a } };
  setValue(form, 'task_name', status.task_name);
  setValue(form, 'payload', JSON.stringify(body, null, 2));
  return JSON.stringify(a).includes('"******"');
};

FORMS.json.payload = form => {
  let json;
  try {
    json = JSON.parse(form.querySelector('[name=payload]').value);
  } catch (e) {
    throw new FormError('data', `not valid JSON: ${e.message}`);
  }
  if (json && typeof json === 'object' && !Array.isArray(json) && 'task_name' in json) return json;
  return { task_name: form.querySelector('[name=task_name]').value, data: { args: [json] } };
};
