// Hosts and patches: each host with its agent's last contact and counters; published targets and which hosts
// installed them (or failed, or refused, with the reason).
import { api, el, when, pill } from './api.js';

function counters(hb) {
  if (!hb || !hb.counters) return '-';
  return Object.entries(hb.counters).map(([k, v]) => k + ' ' + v).join(', ');
}

async function load(sec, ctx) {
  const box = sec.querySelector('.hosts-list');
  let j;
  try {
    j = await api('GET', '/api/v1/hosts');
  } catch (e) {
    box.replaceChildren(el('p', { class: 'error', text: e.message }));
    return;
  }
  box.replaceChildren(el('h2', { text: 'Hosts (' + j.hosts.length + ')' }), el('div', { class: 'table-wrap' }, el('table', {},
    el('thead', {}, el('tr', {}, ['Host', 'Address', 'Group', 'Accounts', 'Agent', 'Last contact', 'Clock', 'Counters'].map((h) => el('th', { scope: 'col', text: h })))),
    el('tbody', {}, j.hosts.map((h) => {
      const hb = h.heartbeat;
      return el('tr', { 'data-host': h.name }, el('td', { text: h.name }), el('td', { class: 'mono', text: h.address }),
        el('td', { text: h.group }), el('td', { text: (h.accounts || []).join(', ') }),
        el('td', {}, h.agent === undefined ? '-' : h.agent === null ? pill('not enrolled', 'medium') : pill(hb && hb.state === 'silent' ? 'silent' : 'enrolled',
          hb && hb.state === 'silent' ? 'failed' : 'ok')),
        el('td', { class: 'mono', text: hb ? when(hb.at) : (h.agent ? when(h.agent.last_seen) : '-') }),
        el('td', { text: hb ? (hb.skew_ms >= 0 ? '+' : '') + hb.skew_ms + ' ms' : '-' }),
        el('td', { class: 'mono', text: counters(hb) }));
    })))));
  if (!ctx.me.roles.some((r) => ['admin', 'operator', 'auditor'].includes(r))) return;
  const pbox = sec.querySelector('.patch-list');
  let p;
  try {
    p = await api('GET', '/api/v1/patch/status');
  } catch (e) {
    pbox.replaceChildren(el('p', { class: 'error', text: e.message }));
    return;
  }
  pbox.replaceChildren(el('h2', { text: 'Published patches (' + p.targets.length + ')' }),
    p.targets.length === 0 ? el('p', { class: 'muted', text: 'None published yet (bulwark patch publish).' }) :
      el('div', { class: 'table-wrap' }, el('table', {},
        el('thead', {}, el('tr', {}, ['Target', 'Version', 'SHA-256', 'Bytes', 'Published', 'Log index', 'Hosts'].map((h) => el('th', { scope: 'col', text: h })))),
        el('tbody', {}, p.targets.map((t) => {
          const reps = p.hosts.filter((r) => r.target === t.name);
          return el('tr', { 'data-target': t.name }, el('td', { text: t.name }), el('td', { text: t.version }),
            el('td', { class: 'mono', text: t.sha256.slice(0, 16) + '...' }), el('td', { text: String(t.length) }),
            el('td', { class: 'mono', text: when(t.published_at) }), el('td', { class: 'mono', text: String(t.log_index) }),
            el('td', {}, reps.length === 0 ? el('span', { class: 'muted', text: 'no host reported yet' }) :
              el('ul', {}, reps.map((r) => el('li', {}, r.host + ': ', pill(r.result, r.result === 'installed' ? 'ok' : 'failed'),
                r.reason ? ' ' + r.reason : '', el('span', { class: 'muted mono', text: ' ' + when(r.at) }))))));
        })))));
}

export default {
  id: 'hosts',
  title: 'Hosts',
  roles: ['admin', 'operator', 'auditor', 'approver'],
  render(sec, ctx) {
    sec.append(el('div', { class: 'hosts-list' }), el('div', { class: 'patch-list' }));
    load(sec, ctx);
  },
  refresh(sec, ctx) { load(sec, ctx); },
};
