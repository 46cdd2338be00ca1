// Users and roles (admins): invite (an enrolment link to hand over), disable, enable, reset MFA, change roles.
import { api, el, when, pill, say } from './api.js';

const ROLES = ['admin', 'approver', 'operator', 'vendor', 'auditor', 'staff', 'analyst'];

function link(reply) {
  const url = location.origin + '/#/enrol/' + reply.enrolment_code;
  return el('div', { class: 'panel enrol-link' },
    el('p', {}, 'Give ', el('strong', { text: reply.username }), ' this link over a channel you trust (it works once, until ' + when(reply.code_expires) + '):'),
    el('p', {}, el('code', { class: 'link', text: url })),
    reply.pending_roles && reply.pending_roles.length ? el('p', { class: 'muted', text: 'Roles waiting for a second admin: ' + reply.pending_roles.join(', ') }) : '');
}

async function load(sec, ctx) {
  const box = sec.querySelector('.users-list');
  let j;
  try {
    j = await api('GET', '/api/v1/users');
  } catch (e) {
    box.replaceChildren(el('p', { class: 'error', text: e.message }));
    return;
  }
  const admin = ctx.me.roles.includes('admin');
  box.replaceChildren(el('div', { class: 'table-wrap' }, el('table', {},
    el('thead', {}, el('tr', {}, ['User', 'Roles', 'State', 'Authenticator', 'Since', ''].map((h) => el('th', { scope: 'col', text: h })))),
    el('tbody', {}, j.users.map((u) => {
      const status = el('span', { role: 'status', class: 'muted' });
      async function act(method, p, body) {
        try {
          const r = await api(method, '/api/v1/users/' + encodeURIComponent(u.username) + p, body);
          await load(sec, ctx);
          if (r && r.enrolment_code) sec.querySelector('.users-detail').replaceChildren(link(r));
        } catch (e) { say(status, e.message, true); }
      }
      const boxes = ROLES.map((r) => el('label', { class: 'check-inline' }, el('input', { type: 'checkbox', value: r, checked: u.roles.includes(r),
        'aria-label': r + ' for ' + u.username }), ' ' + r));
      return el('tr', { 'data-user': u.username }, el('td', { text: u.username }),
        el('td', {}, admin ? el('details', {}, el('summary', { text: u.roles.join(', ') || '-' }), boxes,
          el('button', { type: 'button', onclick: () => act('PUT', '/roles', { roles: boxes.map((b) => b.querySelector('input')).filter((i) => i.checked).map((i) => i.value) }) }, 'Save roles'))
          : u.roles.join(', ')),
        el('td', {}, pill(u.disabled ? 'disabled' : 'active', u.disabled ? 'failed' : 'ok'), u.locked_clients ? ' locked for ' + u.locked_clients + ' client(s)' : ''),
        el('td', { text: u.mfa_enrolled ? 'enrolled' : 'not yet' }), el('td', { class: 'mono', text: when(u.created_at) }),
        el('td', {}, admin && u.username !== ctx.me.username ? [
          el('button', { type: 'button', class: 'secondary', onclick: () => act('POST', u.disabled ? '/enable' : '/disable') }, u.disabled ? 'Enable' : 'Disable'),
          el('button', { type: 'button', class: 'secondary', onclick: () => act('POST', '/reset-mfa') }, 'Reset MFA')] : '', status));
    })))));
}

export default {
  id: 'users',
  title: 'Users',
  roles: ['admin', 'auditor'],
  render(sec, ctx) {
    if (ctx.me.roles.includes('admin')) {
      const status = el('p', { role: 'status', class: 'muted' });
      const name = el('input', { id: 'inv-name', required: true, autocomplete: 'off' });
      const boxes = ROLES.map((r) => el('label', { class: 'check-inline' }, el('input', { type: 'checkbox', name: 'role', value: r }), ' ' + r));
      const form = el('form', { class: 'panel', 'aria-labelledby': 'inv-h' }, el('h2', { id: 'inv-h', text: 'Invite someone' }),
        el('label', { for: 'inv-name', text: 'Their user name' }), name,
        el('fieldset', {}, el('legend', { text: 'Roles' }), boxes), el('button', { type: 'submit' }, 'Invite'), status);
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        const roles = boxes.map((b) => b.querySelector('input')).filter((i) => i.checked).map((i) => i.value);
        try {
          const r = await api('POST', '/api/v1/users', { username: name.value.trim(), roles });
          sec.querySelector('.users-detail').replaceChildren(link(r));
          form.reset();
          say(status, '');
        } catch (x) {
          say(status, x.message, true);
          return;
        }
        await load(sec, ctx);
      });
      sec.append(form);
    }
    sec.append(el('div', { class: 'users-detail' }), el('div', { class: 'users-list' }));
    load(sec, ctx);
  },
  refresh(sec, ctx) { load(sec, ctx); },
};
