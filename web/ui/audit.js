// The audit log: browse and filter events; each one checked in this browser against the log key pinned on first use.
import { api, el, when, pill, say } from './api.js';
import { entryOkChain, followTransitions, fingerprint, parsePolicy, quorumOk } from './verify.js';

const PAGE = 50;
const PIN = 'bulwark.log_vkey';
const POLICY = 'bulwark.witness_policy';
let current = null;   // the page shown: {from, to, size, checkpoint, log_vkey, events}, and chain: the log's keys from the one pinned

async function pinned(sec, vkey) {
  const box = sec.querySelector('.pin');
  const have = localStorage.getItem(PIN);
  const fp = await fingerprint(vkey);
  current.chain = null;
  if (have && have !== vkey) {
    // a rotated log key is trusted only through its transitions from the key pinned, each checked here
    let chain = null;
    let why = 'the server gave no key transition leading to it';
    try {
      const r = await fetch('/log/key-transitions', { credentials: 'same-origin' });
      chain = await followTransitions(have, await r.json());
    } catch (e) {
      why = e.message;
      chain = null;
    }
    if (chain && chain.length > 1 && chain[chain.length - 1].vkey === vkey) {
      current.chain = chain;
      box.className = 'pin panel';
      box.replaceChildren(el('p', {}, 'Checked against the log key pinned in this browser (fingerprint ',
        el('strong', { class: 'mono fingerprint', text: await fingerprint(have) }), '), followed through ' + (chain.length - 1) +
        ' key transition' + (chain.length > 2 ? 's' : '') + ' (at size ' + chain.slice(1).map((c) => String(c.from)).join(', ') +
        ', each checked here) to the key that signs now: fingerprint ', el('strong', { class: 'mono', text: fp }), '.'));
      return true;
    }
    box.className = 'pin notice bad';
    box.replaceChildren(el('p', { text: 'THE LOG KEY CHANGED. This browser pinned ' + have + '; the server now presents ' + vkey +
      ' (fingerprint ' + fp + '), and ' + why + '. Entries are not checked against a key that changed: ask your administrator whether the log key was rotated.' }),
    el('button', { type: 'button', class: 'danger', onclick: () => {
      if (confirm('Forget the pinned log key and pin the one this server presents now?')) { localStorage.removeItem(PIN); show(sec, current.from); }
    } }, 'Forget the pinned key'));
    return false;
  }
  current.chain = await followTransitions(vkey, null);
  if (!have) {
    localStorage.setItem(PIN, vkey);
    box.className = 'pin panel';
    box.replaceChildren(el('p', {}, 'This browser pinned the log key on first use: ', el('code', { text: vkey })),
      el('p', {}, 'Fingerprint ', el('strong', { class: 'mono fingerprint', text: fp }),
        '. Compare it with the one your administrator has (bulwark init printed the key) before you trust a check.'));
    return true;
  }
  box.className = 'pin panel';
  box.replaceChildren(el('p', {}, 'Checked against the log key pinned in this browser: fingerprint ',
    el('strong', { class: 'mono fingerprint', text: fp }), '.'));
  return true;
}

// The witness policy, pinned on first use like the key: with one, every check needs the witnesses' quorum.
async function policyPinned(sec, served) {
  const box = sec.querySelector('.policy');
  const have = localStorage.getItem(POLICY);
  if (!have && !served) { box.replaceChildren(); box.className = 'policy'; return { ok: true, policy: null }; }
  if (have && served !== have) {
    box.className = 'policy notice bad';
    box.replaceChildren(el('p', { text: served ? 'THE WITNESS POLICY CHANGED. Entries are not checked under a policy that changed: ask your administrator.'
      : 'THE WITNESS POLICY IS GONE: this browser pinned one, the server now presents none. Entries are not checked without the witnesses.' }),
    el('button', { type: 'button', class: 'danger', onclick: () => {
      if (confirm('Forget the pinned witness policy?')) { localStorage.removeItem(POLICY); show(sec, current && current.from); }
    } }, 'Forget the pinned policy'));
    return { ok: false, policy: null };
  }
  let policy;
  try {
    policy = await parsePolicy(served);
  } catch (e) {
    box.className = 'policy notice bad';
    box.replaceChildren(el('p', { text: 'The witness policy cannot be read: ' + e.message }));
    return { ok: false, policy: null };
  }
  if (!have) localStorage.setItem(POLICY, served);
  box.className = 'policy panel';
  box.replaceChildren(el('p', {}, (have ? 'Checked' : 'This browser pinned the witness policy on first use; checked') +
    ' against the checkpoint its witnesses cosigned: ' + [...policy.witnesses.keys()].join(', ') + ', quorum ' + policy.quorum + '.'));
  return { ok: true, policy };
}

async function verify(sec, ev, cell) {
  cell.replaceChildren(pill('checking', 'medium'));
  if (!current.chain) {
    cell.replaceChildren(pill('failed'), ' the log key changed');
    return false;
  }
  if (!current.policyOk) {
    cell.replaceChildren(pill('failed'), ' the witness policy changed');
    return false;
  }
  try {
    const t0 = performance.now();
    await entryOkChain(ev, current.checkpoint, current.chain);
    const by = current.policy ? await quorumOk(current.checkpoint, current.policy) : null;
    const ms = performance.now() - t0;
    cell.replaceChildren(pill('verified'), el('span', { class: 'muted', text: ' in tree of ' + current.size +
      (by ? ', cosigned by ' + by.join(', ') : '') + ' (' + ms.toFixed(1) + ' ms)' }));
    cell.dataset.ms = String(ms);
    return true;
  } catch (e) {
    cell.replaceChildren(pill('failed'), ' ' + e.message);
    return false;
  }
}

function matches(ev, q) {
  if (!q) return true;
  const e = ev.event || {};
  return [e.action, e.actor, e.target, e.result, e.source].some((v) => typeof v === 'string' && v.toLowerCase().includes(q));
}

function render(sec) {
  const q = sec.querySelector('#audit-filter').value.trim().toLowerCase();
  const rows = current.events.filter((ev) => matches(ev, q)).reverse();
  const body = el('tbody', {}, rows.map((ev) => {
    const e = ev.event || {};
    const cell = el('td', { class: 'check' });
    return el('tr', { 'data-index': String(ev.index) },
      el('td', { class: 'mono', text: String(ev.index) }), el('td', { class: 'mono', text: e.time || '' }),
      el('td', { text: e.action || '' }), el('td', { text: e.actor || '' }), el('td', { class: 'mono', text: e.target || '' }),
      el('td', {}, pill(e.result || '?', e.result === 'ok' ? 'ok' : e.result === 'alert' ? 'high' : 'medium')),
      el('td', {}, el('button', { type: 'button', class: 'secondary', 'aria-label': 'Verify entry ' + ev.index,
        onclick: () => verify(sec, ev, cell) }, 'Verify')), cell);
  }));
  sec.querySelector('.audit-list').replaceChildren(el('div', { class: 'table-wrap' }, el('table', {},
    el('thead', {}, el('tr', {}, ['Index', 'Time', 'Action', 'Actor', 'Target', 'Result', '', 'Check'].map((h) => el('th', { scope: 'col', text: h })))),
    body)));
  say(sec.querySelector('.audit-status'), 'Entries ' + current.from + ' to ' + (current.to - 1) + ' of ' + current.size +
    (q ? ' (' + rows.length + ' matching)' : ''));
}

async function show(sec, from) {
  const status = sec.querySelector('.audit-status');
  const given = from !== undefined;
  try {
    let size = 0;
    if (!given) {
      const r = await fetch('/log/checkpoint', { credentials: 'same-origin' });
      size = Number((await r.text()).split('\n')[1]) || 0;
      from = Math.max(0, size - PAGE);
    }
    let page = await api('GET', '/api/v1/audit?from=' + from + '&to=' + (from + PAGE) + '&proofs=1');
    const pol = await policyPinned(sec, page.witness_policy);
    if (pol.policy) {
      // with witnesses: the entries under the latest checkpoint they cosigned in the quorum
      const cosigned = (q) => api('GET', '/api/v1/audit?' + q + '&checkpoint=cosigned').catch((e) => {
        throw new Error(e.status === 404 ? 'the witnesses have not cosigned a checkpoint yet' : e.message);
      });
      const head = await cosigned('from=0&to=0');
      from = given ? Math.min(from, Math.max(0, head.size - 1)) : Math.max(0, head.size - PAGE);
      page = await cosigned('from=' + from + '&to=' + (from + PAGE) + '&proofs=1');
    }
    current = page;
    current.policy = pol.policy;
    current.policyOk = pol.ok;
  } catch (e) {
    say(status, e.message, true);
    return;
  }
  await pinned(sec, current.log_vkey);
  render(sec);
}

export default {
  id: 'audit',
  title: 'Audit log',
  roles: ['admin', 'auditor'],
  render(sec) {
    const filter = el('input', { id: 'audit-filter', type: 'search' });
    filter.addEventListener('input', () => current && render(sec));
    sec.append(el('p', { class: 'muted', text: 'Each entry is checked here, in your browser: its bytes hashed, its inclusion proof walked up to ' +
      "the root of the log's signed checkpoint, and that checkpoint's signature verified with the log key this browser pinned the first " +
      'time. A server that changed or hid an entry cannot make that check pass without the log key. When the server has a ' +
      'witness policy, the browser pins it too and requires its quorum of witness cosignatures on the checkpoint: then a ' +
      'server that showed you a history the witnesses did not see fails the check as well.' }),
    el('div', { class: 'pin' }), el('div', { class: 'policy' }),
    el('div', { class: 'row' }, el('div', {}, el('label', { for: 'audit-filter', text: 'Filter (action, actor, target, result)' }), filter)),
    el('div', {},
      el('button', { type: 'button', class: 'secondary', onclick: () => current && current.prev && show(sec, current.prev.from) }, 'Older'),
      el('button', { type: 'button', class: 'secondary', onclick: () => current && current.next && show(sec, current.next.from) }, 'Newer'),
      el('button', { type: 'button', onclick: async () => {
        for (const tr of sec.querySelectorAll('tbody tr')) {
          const ev = current.events.find((x) => String(x.index) === tr.dataset.index);
          await verify(sec, ev, tr.querySelector('.check'));
        }
      } }, 'Verify all shown')),
    el('p', { class: 'audit-status muted', role: 'status' }), el('div', { class: 'audit-list' }));
    const want = sessionStorage.getItem('bulwark.audit.index');
    sessionStorage.removeItem('bulwark.audit.index');
    show(sec, want !== null ? Math.max(0, Number(want) - (Number(want) % PAGE)) : undefined);
  },
  refresh(sec) {
    const want = sessionStorage.getItem('bulwark.audit.index');
    sessionStorage.removeItem('bulwark.audit.index');
    if (want !== null) show(sec, Math.max(0, Number(want) - (Number(want) % PAGE)));
  },
};
