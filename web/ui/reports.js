// Reports: anyone reports a suspicious mail (.eml) or file and later sees the outcome; analysts work the inbox.
import { api, el, when, pill, say } from './api.js';

const VERDICT_CLASS = { threat: 'threat', suspicious: 'high', clean: 'clean', spam: 'medium', pending: 'medium', failed: 'failed' };

async function mine(sec) {
  const box = sec.querySelector('.reports-mine');
  let j;
  try {
    j = await api('GET', '/api/v1/reports/mine');
  } catch (e) {
    box.replaceChildren(el('p', { class: 'error', text: e.message }));
    return;
  }
  box.replaceChildren(el('h2', { text: 'My reports' }), j.reports.length === 0 ? el('p', { class: 'muted', text: 'None yet.' }) :
    el('div', { class: 'table-wrap' }, el('table', {}, el('thead', {}, el('tr', {}, ['Report', 'Sent', 'What', 'Status', 'Verdict']
      .map((h) => el('th', { scope: 'col', text: h })))),
    el('tbody', {}, j.reports.map((r) => el('tr', { 'data-report': String(r.id) }, el('td', { text: '#' + r.id }),
      el('td', { class: 'mono', text: when(r.created_at) }), el('td', { text: r.file_name || '(a mail)' }),
      el('td', { text: r.status.replace('_', ' ') }), el('td', { class: 'verdict' }, pill(r.verdict, VERDICT_CLASS[r.verdict]))))))));
}

function uploadForm(sec) {
  const status = el('p', { role: 'status', class: 'muted' });
  const file = el('input', { id: 'rep-file', type: 'file', required: true });
  const comment = el('input', { id: 'rep-comment', name: 'comment' });
  const form = el('form', { class: 'panel', 'aria-labelledby': 'rep-h' },
    el('h2', { id: 'rep-h', text: 'Report a suspicious mail or file' }),
    el('p', { class: 'muted', text: 'A mail: save it as a file (.eml) and choose it here. Nothing you report is opened on this server; it is checked in isolation.' }),
    el('label', { for: 'rep-file', text: 'Mail (.eml) or file' }), file,
    el('label', { for: 'rep-comment', text: 'Anything we should know (optional)' }), comment,
    el('button', { type: 'submit' }, 'Report it'), status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = file.files[0];
    if (!f) return;
    const isMail = /\.eml$/i.test(f.name);
    const q = '?comment=' + encodeURIComponent(comment.value) + (isMail ? '' : '&name=' + encodeURIComponent(f.name));
    try {
      const r = await api('POST', '/api/v1/reports' + q, undefined, await f.arrayBuffer());
      say(status, 'Thank you: report #' + r.id + ' received. Its verdict shows below once it is checked.');
      form.reset();
    } catch (x) {
      say(status, x.message, true);
      return;
    }
    await mine(sec);
    poll(sec);
  });
  return form;
}

let polling = null;
function poll(sec) {
  if (polling) clearInterval(polling);
  let n = 0;
  polling = setInterval(async () => {
    await mine(sec);
    if (++n > 40 || !sec.querySelector('.reports-mine .pill.pending')) clearInterval(polling);
  }, 1500);
}

async function inbox(sec, ctx) {
  const box = sec.querySelector('.reports-inbox');
  let j;
  try {
    j = await api('GET', '/api/v1/reports?limit=200');
  } catch (e) {
    box.replaceChildren(el('p', { class: 'error', text: e.message }));
    return;
  }
  box.replaceChildren(el('h2', { text: 'Inbox' }), el('div', { class: 'table-wrap' }, el('table', {},
    el('thead', {}, el('tr', {}, ['Report', 'Received', 'Reporter', 'What', 'Status', 'Verdict', 'Score'].map((h) => el('th', { scope: 'col', text: h })))),
    el('tbody', {}, j.reports.map((r) => el('tr', {},
      el('td', {}, el('button', { type: 'button', class: 'secondary', onclick: () => open(sec, ctx, r.id) }, '#' + r.id)),
      el('td', { class: 'mono', text: when(r.created_at) }), el('td', { text: r.reporter + (r.reporter_verified ? '' : ' (unverified)') }),
      el('td', { text: r.file_name || '(a mail)' }), el('td', { text: r.status.replace('_', ' ') }),
      el('td', {}, pill(r.verdict, VERDICT_CLASS[r.verdict])), el('td', { text: String(r.score) })))))));
}

async function open(sec, ctx, id) {
  const box = sec.querySelector('.reports-detail');
  let r;
  try {
    r = await api('GET', '/api/v1/reports/' + id);
  } catch (e) {
    box.replaceChildren(el('p', { class: 'error', text: e.message }));
    return;
  }
  const t = r.triage || {};
  const status = el('p', { role: 'status', class: 'muted' });
  const may = ctx.me.roles.includes('analyst') || ctx.me.roles.includes('admin');
  const form = el('form', { onsubmit: (e) => e.preventDefault() },
    el('div', { class: 'row' },
      el('div', {}, el('label', { for: 'rd-status', text: 'Status' }), el('select', { id: 'rd-status' },
        [['', 'unchanged'], ['in_review', 'in review'], ['resolved', 'resolved']].map(([v, s]) => el('option', { value: v, text: s })))),
      el('div', {}, el('label', { for: 'rd-verdict', text: 'Verdict' }), el('select', { id: 'rd-verdict' },
        ['', 'clean', 'spam', 'suspicious', 'threat'].map((v) => el('option', { value: v, text: v || 'unchanged' }))))),
    el('label', { for: 'rd-reason', text: 'Reason (recorded in the history)' }), el('input', { id: 'rd-reason', required: true }),
    el('button', { type: 'submit' }, 'Save'), status);
  form.addEventListener('submit', async () => {
    const body = { reason: form.querySelector('#rd-reason').value };
    const s = form.querySelector('#rd-status').value, v = form.querySelector('#rd-verdict').value;
    if (s) body.status = s;
    if (v) body.verdict = v;
    try {
      await api('POST', '/api/v1/reports/' + id + '/update', body);
    } catch (e) {
      say(status, e.message, true);
      return;
    }
    await inbox(sec, ctx);
    await open(sec, ctx, id);
  });
  box.replaceChildren(el('div', { class: 'panel' },
    el('h2', { tabindex: '-1', text: 'Report #' + r.id + ': ' + (r.file_name || 'a mail') }),
    el('p', {}, pill(r.verdict, VERDICT_CLASS[r.verdict]), ' score ' + r.score + ', ' + r.status.replace('_', ' ') +
      ', reported by ' + r.reporter + (r.comment ? ': "' + r.comment + '"' : '')),
    t.failed ? el('p', { class: 'error', text: 'Triage failed: ' + t.failed }) : '',
    el('h3', { text: 'Reasons' }),
    el('ul', { class: 'reasons' }, (t.reasons || []).map((x) => el('li', {}, el('strong', { text: x.code }), ': ' + x.text,
      x.where ? el('span', { class: 'muted mono', text: ' (' + x.where + ')' }) : ''))),
    el('details', {}, el('summary', { text: 'Indicators (' + (t.indicators || []).length + ')' }),
      el('ul', {}, (t.indicators || []).map((x) => el('li', { class: 'mono', text: x.type + ': ' + x.value })))),
    el('details', {}, el('summary', { text: 'History (' + (r.history || []).length + ')' }),
      el('ul', {}, (r.history || []).map((h) => el('li', { text: when(h.at) + ' ' + h.actor + ' ' + h.kind + ' ' + h.value + ': ' + h.text })))),
    may ? form : ''));
  box.querySelector('h2').focus();
}

export default {
  id: 'reports',
  title: 'Reports',
  roles: 'any',
  render(sec, ctx) {
    sec.append(uploadForm(sec), el('div', { class: 'reports-mine' }));
    if (ctx.me.roles.some((r) => ['analyst', 'admin', 'auditor'].includes(r)))
      sec.append(el('div', { class: 'reports-inbox' }), el('div', { class: 'reports-detail' }));
    this.refresh(sec, ctx);
  },
  refresh(sec, ctx) {
    mine(sec);
    if (sec.querySelector('.reports-inbox')) inbox(sec, ctx);
  },
};
