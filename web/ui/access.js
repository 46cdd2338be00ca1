// Remote-maintenance access: vendors and operators ask for a window; approvers decide (never on their own request:
// four eyes); active windows count down and can be revoked; the requester takes the certificate and ssh config.
import { api, el, when, pill, say, fields } from './api.js';

let ticker = null;

function left(secs) {
  if (secs <= 0) return 'ended';
  const h = Math.floor(secs / 3600), m = Math.floor((secs % 3600) / 60), s = secs % 60;
  return (h ? h + ' h ' : '') + String(m).padStart(2, '0') + ' min ' + String(s).padStart(2, '0') + ' s left';
}

function tick(sec) {
  const now = Math.floor(Date.now() / 1000);
  for (const c of sec.querySelectorAll('[data-until]')) c.textContent = left(Number(c.dataset.until) - now);
}

function download(name, text) {
  const a = el('a', { href: URL.createObjectURL(new Blob([text], { type: 'text/plain' })), download: name, text: 'Download ' + name });
  return a;
}

async function certificate(id, box) {
  let j;
  try {
    j = await api('GET', '/api/v1/access/requests/' + id + '/certificate');
  } catch (e) {
    box.replaceChildren(el('p', { class: 'error', text: e.message }));
    return;
  }
  box.replaceChildren(el('div', { class: 'panel' },
    el('h2', { text: 'Certificate for request #' + id }),
    el('p', {}, download('request-' + id + '-cert.pub', j.certificate + '\n'), ' · ', download('request-' + id + '.ssh_config', j.ssh_config)),
    el('label', { for: 'cert-' + id, text: 'Certificate (save it beside your private key as KEY-cert.pub)' }),
    el('textarea', { id: 'cert-' + id, readonly: true, class: 'mono cert-text' }, j.certificate),
    el('label', { for: 'cfg-' + id, text: 'ssh client configuration' }),
    el('textarea', { id: 'cfg-' + id, readonly: true, class: 'mono' }, j.ssh_config)));
}

function row(sec, ctx, r, box) {
  const mine = r.requester === ctx.me.username;
  const approver = ctx.me.roles.includes('approver');
  const now = Math.floor(Date.now() / 1000);
  const active = r.state === 'issued' && r.valid_after <= now && r.valid_before > now;
  const reason = el('input', { id: 'reason-' + r.id, name: 'reason', 'aria-label': 'Reason for request ' + r.id });
  const status = el('span', { role: 'status', class: 'muted' });
  async function decide(what) {
    try {
      await api('POST', '/api/v1/access/requests/' + r.id + '/' + what, { reason: reason.value });
    } catch (e) {
      say(status, e.message, true);
      return;
    }
    await load(sec, ctx);
  }
  const actions = [];
  if (r.state === 'pending' && approver) {
    if (mine) {
      actions.push(el('p', { class: 'muted four-eyes', text: 'You asked for this window: another approver decides (four eyes).' }));
    } else {
      actions.push(el('label', { for: 'reason-' + r.id, text: 'Reason' }), reason,
        el('button', { type: 'button', onclick: () => decide('approve') }, 'Approve'),
        el('button', { type: 'button', class: 'danger', onclick: () => decide('deny') }, 'Deny'));
    }
  }
  if (r.state === 'issued' && r.valid_before > now && (approver || ctx.me.roles.includes('admin')))
    actions.push(el('button', { type: 'button', class: 'danger', onclick: () => decide('revoke') }, 'Revoke'));
  if (r.state === 'issued' && mine)
    actions.push(el('button', { type: 'button', class: 'secondary', onclick: () => certificate(r.id, box) }, 'Certificate and ssh config'));
  return el('tr', { 'data-request': String(r.id) },
    el('td', { text: '#' + r.id }), el('td', { text: r.requester }),
    el('td', {}, r.hosts.join(', '), el('br'), el('span', { class: 'muted', text: 'as ' + r.accounts.join(', ') })),
    el('td', { class: 'mono' }, when(r.valid_after), ' - ', when(r.valid_before),
      active ? el('div', { class: 'countdown', 'data-until': String(r.valid_before), text: left(r.valid_before - now) }) : ''),
    el('td', { text: r.reason }), el('td', { class: 'mono', text: r.key_fingerprint }),
    el('td', {}, pill(r.state, r.state === 'issued' ? 'ok' : r.state === 'pending' ? 'medium' : r.state),
      el('div', { class: 'muted', text: r.approvals + ' of ' + r.approvals_needed + ' approvals' })),
    el('td', {}, actions, status));
}

async function load(sec, ctx) {
  const list = sec.querySelector('.access-list');
  const box = sec.querySelector('.access-detail');
  let j;
  try {
    j = await api('GET', '/api/v1/access/requests');
  } catch (e) {
    list.replaceChildren(el('p', { class: 'error', text: e.message }));
    return;
  }
  const pending = j.requests.filter((r) => r.state === 'pending');
  const others = j.requests.filter((r) => r.state !== 'pending');
  const table = (rows, caption) => el('div', { class: 'table-wrap' }, el('table', {}, el('caption', { class: 'muted', text: caption }),
    el('thead', {}, el('tr', {}, ['Request', 'Requester', 'Hosts', 'Window (UTC)', 'Reason', 'Key', 'State', ''].map((h) => el('th', { scope: 'col', text: h })))),
    el('tbody', {}, rows.map((r) => row(sec, ctx, r, box)))));
  list.replaceChildren(el('h2', { text: 'Waiting for a decision (' + pending.length + ')' }), table(pending, 'Pending requests'),
    el('h2', { text: 'Decided' }), table(others, 'Issued, denied, revoked and expired requests'));
  tick(sec);
}

function requestForm(sec, ctx) {
  const status = el('p', { role: 'status', class: 'muted' });
  const now = new Date(Date.now() + 60000);
  const form = el('form', { class: 'panel', 'aria-labelledby': 'req-h' },
    el('h2', { id: 'req-h', text: 'Ask for a maintenance window' }),
    el('label', { for: 'req-hosts', text: 'Hosts (comma-separated)' }), el('input', { id: 'req-hosts', name: 'hosts', required: true }),
    el('label', { for: 'req-accounts', text: 'Accounts on them (comma-separated)' }), el('input', { id: 'req-accounts', name: 'accounts', required: true }),
    el('label', { for: 'req-hours', text: 'How long (hours, from now)' }), el('input', { id: 'req-hours', name: 'hours', type: 'number', min: '1', max: '8', value: '2', required: true }),
    el('label', { for: 'req-reason', text: 'Reason' }), el('input', { id: 'req-reason', name: 'reason', required: true }),
    el('label', { for: 'req-ticket', text: 'Ticket (optional)' }), el('input', { id: 'req-ticket', name: 'ticket' }),
    el('label', { for: 'req-key', text: 'Your SSH public key (one line: ssh-ed25519 AAAA...)' }),
    el('textarea', { id: 'req-key', name: 'public_key', class: 'mono', required: true }),
    el('button', { type: 'submit' }, 'Ask for it'), status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = fields(form);
    const after = Math.floor(now.getTime() / 1000) - 60;
    const body = { hosts: f.hosts.split(',').map((s) => s.trim()).filter(Boolean),
      accounts: f.accounts.split(',').map((s) => s.trim()).filter(Boolean), valid_after: after,
      valid_before: after + 60 + Number(f.hours) * 3600, reason: f.reason, public_key: f.public_key.trim() };
    if (f.ticket) body.ticket = f.ticket;
    try {
      const r = await api('POST', '/api/v1/access/requests', body);
      say(status, 'Request #' + r.id + ' sent: it waits for ' + r.approvals_needed + ' approval' + (r.approvals_needed === 1 ? '' : 's') + '.');
      form.reset();
    } catch (x) {
      say(status, x.message, true);
      return;
    }
    await load(sec, ctx);
  });
  return form;
}

export default {
  id: 'access',
  title: 'Access',
  roles: 'any',
  render(sec, ctx) {
    if (ctx.me.roles.includes('vendor') || ctx.me.roles.includes('operator')) sec.append(requestForm(sec, ctx));
    sec.append(el('div', { class: 'access-list' }), el('div', { class: 'access-detail' }));
    load(sec, ctx);
    if (ticker) clearInterval(ticker);
    ticker = setInterval(() => tick(sec), 1000);
  },
  refresh(sec, ctx) { load(sec, ctx); },
};
