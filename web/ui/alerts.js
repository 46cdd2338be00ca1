// Alerts: the queue (most severe, most recent first), filters, acknowledge and resolve with a reason.
import { api, el, when, pill, say } from './api.js';

const LEVELS = ['critical', 'high', 'medium', 'low', 'informational'];

async function load(sec, ctx) {
  const list = sec.querySelector('.alert-list');
  const state = sec.querySelector('#alert-state').value;
  const level = sec.querySelector('#alert-level').value;
  const status = sec.querySelector('.alert-status');
  let j;
  try {
    j = await api('GET', '/api/v1/alerts?limit=500' + (state ? '&state=' + state : ''));
  } catch (e) {
    say(status, e.message, true);
    return;
  }
  const rows = j.alerts.filter((a) => !level || a.level === level);
  say(status, rows.length + ' alert' + (rows.length === 1 ? '' : 's'));
  const body = el('tbody', {}, rows.map((a) => el('tr', {},
    el('td', {}, pill(a.level)), el('td', {}, el('button', { class: 'secondary', type: 'button',
      'aria-label': 'Open alert ' + a.id + ': ' + a.rule, onclick: () => open(sec, ctx, a.id) }, '#' + a.id)),
    el('td', { text: a.rule }), el('td', {}, pill(a.state, a.state === 'open' ? 'high' : 'ok')),
    el('td', { text: String(a.count) }), el('td', { class: 'mono', text: when(a.last_seen) }))));
  list.replaceChildren(el('div', { class: 'table-wrap' }, el('table', {},
    el('thead', {}, el('tr', {}, ['Level', 'Alert', 'Rule', 'State', 'Events', 'Last seen'].map((h) => el('th', { scope: 'col', text: h })))),
    body)));
}

async function open(sec, ctx, id) {
  const box = sec.querySelector('.alert-detail');
  let a;
  try {
    a = await api('GET', '/api/v1/alerts/' + id);
  } catch (e) {
    box.replaceChildren(el('p', { class: 'error', text: e.message }));
    return;
  }
  const may = ctx.me.roles.includes('admin') || ctx.me.roles.includes('operator');
  const status = el('p', { role: 'status', class: 'muted' });
  const reason = el('textarea', { id: 'alert-reason', name: 'reason' });
  const resolution = el('select', { id: 'alert-resolution' },
    ['true_positive', 'false_positive', 'benign'].map((r) => el('option', { value: r, text: r.replace('_', ' ') })));
  async function act(path, body) {
    try {
      await api('POST', '/api/v1/alerts/' + id + path, body);
    } catch (e) {
      say(status, e.message, true);
      return;
    }
    await load(sec, ctx);
    await open(sec, ctx, id);
    say(box.querySelector('[role=status]'), 'Done.');
  }
  box.replaceChildren(el('div', { class: 'panel' },
    el('h2', { tabindex: '-1', text: 'Alert #' + a.id + ': ' + a.rule }),
    el('p', {}, pill(a.level), ' ', pill(a.state, a.state === 'open' ? 'high' : 'ok'),
      ' ' + a.count + ' matching event' + (a.count === 1 ? '' : 's') + ' in the ' + a.log + ' log, first at index ',
      el('span', { class: 'mono', text: String(a.first_index) }), ', last at ',
      el('span', { class: 'mono', text: String(a.last_index) }),
      a.log === 'audit' ? el('a', { href: '#/audit', 'data-index': String(a.last_index), class: 'audit-link',
        onclick: () => sessionStorage.setItem('bulwark.audit.index', String(a.last_index)) }, ' (see it in the audit log)') : ''),
    el('p', { class: 'muted', text: 'Rule ' + a.rule_id + '; group ' + (a.group || '-') + '; first seen ' + when(a.first_seen) +
      (a.decided_by ? '; decided by ' + a.decided_by + ': ' + (a.resolution || a.state) + ' (' + a.reason + ')' : '') }),
    may && a.state !== 'resolved' ? el('form', { onsubmit: (e) => e.preventDefault() },
      el('label', { for: 'alert-reason', text: 'Reason' }), reason,
      el('label', { for: 'alert-resolution', text: 'Resolution (to resolve)' }), resolution,
      el('div', {},
        a.state === 'open' ? el('button', { type: 'button', onclick: () => act('/ack', { reason: reason.value }) }, 'Acknowledge') : '',
        el('button', { type: 'button', onclick: () => act('/resolve', { resolution: resolution.value, reason: reason.value }) }, 'Resolve'))) : '',
    el('div', { class: 'matched' }), status));
  box.querySelector('h2').focus();
  // the matched event itself, for those who may read the audit log
  if (a.log === 'audit' && ctx.me.roles.some((r) => r === 'admin' || r === 'auditor')) {
    try {
      const j = await api('GET', '/api/v1/audit?from=' + a.last_index + '&to=' + (a.last_index + 1));
      const ev = j.events[0];
      if (ev) box.querySelector('.matched').replaceChildren(el('details', { open: true },
        el('summary', { text: 'The last matching event (audit log index ' + ev.index + ')' }),
        el('pre', { class: 'mono event', tabindex: '0', text: JSON.stringify(ev.event, null, 2) })));
    } catch (e) { /* shown without it */ }
  }
}

export default {
  id: 'alerts',
  title: 'Alerts',
  roles: ['admin', 'approver', 'operator', 'auditor'],
  render(sec, ctx) {
    const state = el('select', { id: 'alert-state' }, [['open', 'Open'], ['acknowledged', 'Acknowledged'], ['resolved', 'Resolved'], ['', 'All']]
      .map(([v, t]) => el('option', { value: v, text: t })));
    const level = el('select', { id: 'alert-level' }, el('option', { value: '', text: 'Any level' }),
      LEVELS.map((l) => el('option', { value: l, text: l })));
    state.addEventListener('change', () => load(sec, ctx));
    level.addEventListener('change', () => load(sec, ctx));
    sec.append(el('div', { class: 'row' },
      el('div', {}, el('label', { for: 'alert-state', text: 'State' }), state),
      el('div', {}, el('label', { for: 'alert-level', text: 'Level' }), level)),
    el('p', { class: 'alert-status muted', role: 'status' }), el('div', { class: 'alert-list' }), el('div', { class: 'alert-detail' }));
    load(sec, ctx);
  },
  refresh(sec, ctx) { load(sec, ctx); },
};
