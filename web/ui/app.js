// bulwark's dashboard: sign-in, then one page per capability the signed-in roles can use.
import { api, whenExpired, el } from './api.js';
import alerts from './alerts.js';
import access from './access.js';
import reports from './reports.js';
import audit from './audit.js';
import users from './users.js';
import account from './account.js';
import hosts from './hosts.js';
import { renderEnrol } from './enrol.js';

const pages = [access, alerts, reports, hosts, audit, users, account];
const $ = (id) => document.getElementById(id);
let me = null;
const shown = new Map();   // page id -> its section (kept while signed in: nothing typed is lost)

function allowed(page) {
  return page.roles === 'any' || page.roles.some((r) => me.roles.includes(r));
}

function showSignin(message) {
  $('signin').hidden = false;
  $('pages').hidden = true;
  $('nav').hidden = true;
  $('signout').hidden = true;
  $('who').textContent = '';
  const n = $('notice');
  n.hidden = !message;
  n.textContent = message || '';
  $('si-user').focus();
}

function route() {
  if (!me) return;
  const want = location.hash.replace(/^#\/?/, '') || '';
  const usable = pages.filter(allowed);
  const page = usable.find((p) => p.id === want) || usable[0];
  for (const a of $('nav').querySelectorAll('a')) {
    if (a.dataset.page === page.id) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  for (const [id, sec] of shown) sec.hidden = id !== page.id;
  let sec = shown.get(page.id);
  if (!sec) {
    sec = el('section', { 'aria-labelledby': page.id + '-h', id: 'page-' + page.id });
    sec.append(el('h1', { id: page.id + '-h', text: page.title }));
    $('pages').append(sec);
    shown.set(page.id, sec);
    page.render(sec, { me });
  } else if (page.refresh) {
    page.refresh(sec, { me });
  }
  document.title = page.title + ' - bulwark';
}

// #/enrol/CODE: the invitation's page, before any sign-in (the code never leaves in a URL: it is the fragment).
function enrolment() {
  const m = /^#\/enrol(?:\/(.*))?$/.exec(location.hash);
  if (!m) return false;
  $('signin').hidden = true;
  $('nav').hidden = true;
  let box = $('enrol');
  if (!box) { box = el('section', { id: 'enrol' }); $('main').append(box); }
  box.hidden = false;
  renderEnrol(box, m[1] ? decodeURIComponent(m[1]) : '', (username) => {
    box.hidden = true;
    box.replaceChildren();
    history.replaceState(null, '', '/#/');
    showSignin('Welcome, ' + username + ': sign in with your new password and your app\'s code.');
    $('si-user').value = username;
    $('si-pass').focus();
  });
  return true;
}

async function start() {
  if (enrolment()) return;
  try {
    me = await api('GET', '/api/v1/me');
  } catch (e) {
    me = null;
  }
  if (!me) return showSignin('');
  $('signin').hidden = true;
  $('notice').hidden = true;
  $('pages').hidden = false;
  $('who').textContent = me.username + ' (' + me.roles.join(', ') + ')';
  $('signout').hidden = false;
  const nav = $('nav');
  nav.replaceChildren(...pages.filter(allowed).map((p) => el('a', { href: '#/' + p.id, 'data-page': p.id, text: p.title })));
  nav.hidden = false;
  route();
}

whenExpired(() => {
  // the session ended (expired, revoked, signed out elsewhere): sign in again; the pages keep what was typed
  const keep = me;
  showSignin('Your session has ended. Sign in again: what you typed on the page is kept.');
  me = keep;
});

$('signin-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const err = $('signin-error');
  err.textContent = '';
  const body = { username: $('si-user').value, password: $('si-pass').value, otp: $('si-otp').value.trim() };
  try {
    await api('POST', '/api/v1/login', body);
  } catch (x) {
    err.textContent = x.message;
    return;
  }
  $('si-pass').value = '';
  $('si-otp').value = '';
  const before = me;
  me = null;
  await start();
  if (before && me && before.username !== me.username) {
    // another person signed in: nothing of the one before stays on screen
    for (const sec of shown.values()) sec.remove();
    shown.clear();
    route();
  }
});

$('signout').addEventListener('click', async () => {
  try { await api('POST', '/api/v1/logout'); } catch (e) { /* gone already */ }
  me = null;
  for (const sec of shown.values()) sec.remove();
  shown.clear();
  showSignin('Signed out.');
});

window.addEventListener('hashchange', route);
start();
