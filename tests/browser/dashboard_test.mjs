// The dashboard in a real browser: Debian's chromium driven by playwright-core, against a real bulwark server.
// A vendor asks for a maintenance window and reports a Dream Job lure; an approver who asked for a window of their
// own cannot approve it (four eyes) but approves the vendor's; the vendor takes the certificate (checked with
// ssh-keygen); an admin acknowledges the alert of the lure after the session ended under their feet (what they
// typed is kept); an analyst sees the verdict's reasons; an audit entry verifies in the browser, a tampered proof
// and a changed log key fail. Each page is screenshotted and checked with axe-core (no serious or critical
// violations). Figures: each page's first view and one proof's check, printed; again with 10,000 audit events,
// 200 alerts and 50 hosts (a full page load each, three times).
//   node dashboard_test.mjs BULWARK WORKDIR
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { chromium } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';

const [BW, WORK] = process.argv.slice(2);
const HERE = path.dirname(new URL(import.meta.url).pathname);
const ADMIN_PW = 'admin password 123';
const failures = [];
function expect(ok, msg) { if (!ok) { failures.push(msg); console.error('FAIL: ' + msg); } }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

fs.rmSync(WORK, { recursive: true, force: true });
fs.mkdirSync(path.join(WORK, 'screens'), { recursive: true });
const data = path.join(WORK, 'data');

function totp(secret, offset = 0) {
  const args = offset ? ['--totp', '-N', 'now ' + (offset > 0 ? '+' : '') + offset + ' seconds', '-b', secret] : ['--totp', '-b', secret];
  return execFileSync('oathtool', args).toString().trim();
}

async function freePort() {
  return new Promise((res) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }); });
}

// Early in a 30 s step, so a user's codes do not straddle steps.
const into = (Date.now() / 1000) % 30;
if (into > 15) await sleep((30 - into + 0.5) * 1000);

const initOut = execFileSync(BW, ['init', '--data', data, '--origin', 'dashboard.test/log'],
  { env: { ...process.env, BULWARK_ADMIN_PASSWORD: ADMIN_PW } }).toString();
const adminSecret = /secret=([A-Z2-7]+)/.exec(initOut)[1];
const recovery = initOut.match(/^ {2}([a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4})$/gm).map((s) => s.trim());
const cert = path.join(data, 'tls/cert.pem');
const PORT = await freePort();
const URL_ = 'https://127.0.0.1:' + PORT;
const logf = fs.openSync(path.join(WORK, 'server.log'), 'w');
async function listening(port) {
  for (let i = 0; i < 200; i++) {
    const up = await new Promise((res) => { const s = net.connect(port, '127.0.0.1', () => { s.end(); res(true); }); s.on('error', () => res(false)); });
    if (up) return;
    await sleep(50);
  }
  throw new Error('nothing listens on ' + port);
}
const SERVE = ['serve', '--data', data, '--listen', '127.0.0.1:' + PORT, '--login-backoff-ms', '0', '--org-domain', 'bulwark.example'];
let srv = spawn(BW, SERVE, { stdio: ['ignore', logf, logf] });
let witness = null;
await listening(PORT);

const ca = fs.readFileSync(cert);
const agent = new https.Agent({ keepAlive: true, maxSockets: 8, ca });
function req(method, p, body, token, raw) {
  return new Promise((resolve, reject) => {
    const data_ = raw !== undefined ? raw : body === undefined ? undefined : JSON.stringify(body);
    const r = https.request(URL_ + p, { method, agent, headers: { ...(data_ ? { 'Content-Type': raw !== undefined ? 'application/octet-stream' : 'application/json' } : {}),
      ...(token ? { Authorization: 'Bearer ' + token } : {}) } }, (res) => {
      let b = '';
      res.on('data', (c) => { b += c; });
      res.on('end', () => { let j = null; try { j = JSON.parse(b); } catch (e) { j = b; } resolve({ status: res.statusCode, json: j }); });
    });
    r.on('error', reject);
    if (data_) r.write(data_);
    r.end();
  });
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-dev-shm-usage'] });
const figures = [];
let ok = false;
try {
  let r = await req('POST', '/api/v1/login', { username: 'admin', password: ADMIN_PW, otp: totp(adminSecret) });
  expect(r.status === 200, 'admin signs in through the API: ' + JSON.stringify(r.json));
  const admin = r.json.token;
  const users = {};
  for (const [name, roles] of [['vic', ['vendor']], ['ada', ['approver']], ['bob', ['vendor', 'approver']], ['ana', ['analyst']]]) {
    r = await req('POST', '/api/v1/users', { username: name, roles }, admin);
    expect(r.status === 201, 'invite ' + name + ': ' + JSON.stringify(r.json));
    const code = r.json.enrolment_code;
    r = await req('POST', '/api/v1/enrol', { code });
    const secret = /secret=([A-Z2-7]+)/.exec(r.json.otpauth_uri)[1];
    r = await req('POST', '/api/v1/enrol/complete', { code, password: 'password of ' + name, otp: totp(secret) });
    expect(r.status === 200, 'enrol ' + name + ': ' + JSON.stringify(r.json));
    users[name] = { secret, password: 'password of ' + name };
  }
  r = await req('POST', '/api/v1/hosts', { name: 'web1', address: '127.0.0.1', group: 'default', accounts: ['root', 'maint'] }, admin);
  expect(r.status === 201, 'host web1: ' + JSON.stringify(r.json));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(WORK, 'vic_key')]);
  const vicPub = fs.readFileSync(path.join(WORK, 'vic_key.pub'), 'utf8').trim();
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(WORK, 'bob_key')]);
  const bobPub = fs.readFileSync(path.join(WORK, 'bob_key.pub'), 'utf8').trim();
  const lure = execFileSync('python3', ['-c', 'import sys, lures; sys.stdout.buffer.write(lures.dream_job_mail())'],
    { env: { ...process.env, PYTHONPATH: path.join(process.env.BW_TESTS_DIR || path.join(HERE, '..'), 'integration') } });
  fs.writeFileSync(path.join(WORK, 'offer.eml'), lure);

  async function session(name, password, code) {
    const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    page.on('pageerror', (e) => expect(false, name + ': a script error: ' + e.message + ' ' + (e.stack || '').split('\n').slice(0, 3).join(' | ')));
    await page.goto(URL_ + '/');
    await page.getByLabel('User name').fill(name);
    await page.getByLabel('Password').fill(password);
    await page.getByLabel('Authenticator code, or a recovery code').fill(code);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#who').filter({ hasText: name }).waitFor();
    return { ctx, page };
  }
  async function audit(page, what) {
    const res = await new AxeBuilder({ page }).analyze();
    const bad = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(bad.length === 0, what + ': accessibility (axe-core): ' + bad.map((v) => v.id + ' (' + v.nodes.length + '): ' + v.help).join('; '));
  }
  // The server's audit answers changed on the way (a tampering server or network), then the page loaded again.
  async function rewriteAudit(page, change) {
    await page.unroute('**/api/v1/audit?*');
    await page.route('**/api/v1/audit?*', async (route) => {
      const resp = await route.fetch();
      const j = await resp.json();
      change(j);
      await route.fulfill({ response: resp, json: j });
    });
    await page.reload();
  }
  async function shot(page, name) { await page.screenshot({ path: path.join(WORK, 'screens', name + '.png'), fullPage: false }); }
  async function firstView(page, hash, ready, what) {
    const t0 = Date.now();
    await page.goto(URL_ + '/' + hash);
    await page.locator(ready).first().waitFor();
    figures.push([what, Date.now() - t0]);
  }

  // ---- the sign-in page ----
  {
    const ctx = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await ctx.newPage();
    await page.goto(URL_ + '/');
    await page.getByLabel('User name').waitFor();
    await audit(page, 'sign-in');
    await shot(page, 'signin');
    await page.getByLabel('User name').fill('vic');
    await page.getByLabel('Password').fill('wrong password');
    await page.getByLabel('Authenticator code, or a recovery code').fill('123456');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#signin-error').filter({ hasText: 'invalid credentials' }).waitFor();
    await ctx.close();
  }

  // ---- the vendor asks for a window and reports a lure ----
  const vic = await session('vic', users.vic.password, totp(users.vic.secret, 30));
  await vic.page.getByLabel('Hosts (comma-separated)').fill('web1');
  await vic.page.getByLabel('Accounts on them (comma-separated)').fill('root');
  await vic.page.getByLabel('Reason', { exact: true }).fill('replace the RAID controller firmware');
  await vic.page.getByLabel('Your SSH public key (one line: ssh-ed25519 AAAA...)').fill(vicPub);
  await vic.page.getByRole('button', { name: 'Ask for it' }).click();
  await vic.page.getByText(/Request #1 sent/).waitFor();
  await audit(vic.page, 'access (vendor)');
  await shot(vic.page, 'access-vendor');
  await vic.page.goto(URL_ + '/#/reports');
  await vic.page.getByLabel('Mail (.eml) or file').setInputFiles(path.join(WORK, 'offer.eml'));
  await vic.page.getByLabel('Anything we should know (optional)').fill('a recruiter I never wrote to');
  await vic.page.getByRole('button', { name: 'Report it' }).click();
  await vic.page.getByText(/report #1 received/).waitFor();
  await vic.page.locator('.reports-mine tr[data-report="1"] .verdict').filter({ hasText: 'threat' }).waitFor({ timeout: 60000 });
  await audit(vic.page, 'reports (staff)');
  await shot(vic.page, 'reports-staff');

  // ---- an approver with a request of their own: four eyes ----
  const bob = await session('bob', users.bob.password, totp(users.bob.secret, 30));
  await bob.page.getByLabel('Hosts (comma-separated)').fill('web1');
  await bob.page.getByLabel('Accounts on them (comma-separated)').fill('maint');
  await bob.page.getByLabel('Reason', { exact: true }).fill('rotate logs');
  await bob.page.getByLabel('Your SSH public key (one line: ssh-ed25519 AAAA...)').fill(bobPub);
  await bob.page.getByRole('button', { name: 'Ask for it' }).click();
  await bob.page.getByText(/Request #2 sent/).waitFor();
  const own = bob.page.locator('tr[data-request="2"]');
  await own.getByText('You asked for this window: another approver decides (four eyes).').waitFor();
  expect(await own.getByRole('button', { name: 'Approve' }).count() === 0, 'no approve button on your own request');

  // ---- the approver approves the vendor's request; the window counts down ----
  const ada = await session('ada', users.ada.password, totp(users.ada.secret, 30));
  const row1 = ada.page.locator('tr[data-request="1"]');
  await row1.getByLabel('Reason for request 1').fill('ticket CHG-1234, the vendor is expected');
  await audit(ada.page, 'access (approver)');
  await shot(ada.page, 'access-approver');
  await row1.getByRole('button', { name: 'Approve' }).click();
  const active = ada.page.locator('tr[data-request="1"] .countdown');
  await active.waitFor();
  const c1 = await active.textContent();
  await sleep(2100);
  const c2 = await active.textContent();
  expect(/min .* s left/.test(c1) && c1 !== c2, 'a live countdown: ' + c1 + ' then ' + c2);
  await ada.page.locator('tr[data-request="1"]').getByText('issued').waitFor();

  // ---- the vendor takes the certificate ----
  await vic.page.goto(URL_ + '/#/access');
  await vic.page.reload();
  await vic.page.locator('tr[data-request="1"]').getByRole('button', { name: 'Certificate and ssh config' }).click();
  const certText = await vic.page.locator('.cert-text').inputValue();
  fs.writeFileSync(path.join(WORK, 'vic_key-cert.pub'), certText.trim() + '\n');
  const listed = execFileSync('ssh-keygen', ['-L', '-f', path.join(WORK, 'vic_key-cert.pub')]).toString();
  expect(/Type: ssh-ed25519-cert-v01@openssh.com user certificate/.test(listed) && /root/.test(listed),
    'the downloaded certificate, read by ssh-keygen: ' + listed.slice(0, 400));
  const [dl] = await Promise.all([vic.page.waitForEvent('download'), vic.page.getByText('Download request-1.ssh_config').click()]);
  const cfg = fs.readFileSync(await dl.path(), 'utf8');
  expect(/CertificateFile/.test(cfg) && /web1/.test(cfg), 'the ssh config downloads: ' + cfg.slice(0, 300));

  // ---- the admin acknowledges the lure's alert; the session ends under their feet ----
  const adm = await session('admin', ADMIN_PW, totp(adminSecret, 30));
  await firstView(adm.page, '#/alerts', '.alert-list table', 'alerts');
  const open = adm.page.getByRole('button', { name: /Open alert \d+: .*threat/ });
  await open.first().click();
  await adm.page.locator('.matched pre.event').filter({ hasText: '"action": "report.triaged"' }).waitFor();
  await adm.page.getByLabel('Reason').fill('Dream Job lure, reported by the vendor; mailbox checked');
  await adm.ctx.clearCookies();   // the session ends (as when it expires or is revoked elsewhere)
  await adm.page.getByRole('button', { name: 'Acknowledge' }).click();
  await adm.page.getByText('Your session has ended. Sign in again: what you typed on the page is kept.').waitFor();
  await adm.page.getByLabel('User name').fill('admin');
  await adm.page.getByLabel('Password').fill(ADMIN_PW);
  await adm.page.getByLabel('Authenticator code, or a recovery code').fill(recovery[0]);
  await adm.page.getByRole('button', { name: 'Sign in' }).click();
  await adm.page.locator('#page-alerts').waitFor({ state: 'visible' });
  expect(await adm.page.getByLabel('Reason').inputValue() === 'Dream Job lure, reported by the vendor; mailbox checked',
    'after signing in again, what was typed is still there');
  await adm.page.getByRole('button', { name: 'Acknowledge' }).click();
  await adm.page.locator('.alert-detail .pill').filter({ hasText: 'acknowledged' }).waitFor();
  await audit(adm.page, 'alerts');
  await shot(adm.page, 'alerts');
  r = await req('GET', '/api/v1/alerts?state=acknowledged', undefined, admin);
  expect(r.json.alerts.some((a) => a.decided_by === 'admin'), 'the alert is acknowledged by admin: ' + JSON.stringify(r.json).slice(0, 300));

  // ---- the analyst sees the verdict with its reasons ----
  const ana = await session('ana', users.ana.password, totp(users.ana.secret, 30));
  await firstView(ana.page, '#/reports', '.reports-inbox table', 'reports');
  await ana.page.getByRole('button', { name: '#1' }).click();
  await ana.page.locator('.reasons').getByText('double_extension').waitFor();
  await audit(ana.page, 'reports (analyst)');
  await shot(ana.page, 'reports-analyst');

  // ---- the audit log, checked in the browser ----
  await firstView(adm.page, '#/audit', '.audit-list table', 'audit');
  await adm.page.locator('.pin .fingerprint').waitFor();
  const pinnedText = await adm.page.locator('.pin').textContent();
  expect(/pinned the log key on first use/.test(pinnedText), 'the key is pinned on first use: ' + pinnedText);
  const first = adm.page.locator('.audit-list tbody tr').first();
  const idx = await first.getAttribute('data-index');
  await first.getByRole('button', { name: 'Verify entry ' + idx }).click();
  await first.locator('.check .pill').filter({ hasText: 'verified' }).waitFor();
  const ms = Number(await first.locator('.check').getAttribute('data-ms'));
  figures.push(['one entry checked in the browser (proof and signature)', ms]);
  await audit(adm.page, 'audit');
  await shot(adm.page, 'audit');
  await adm.page.getByRole('button', { name: 'Verify all shown' }).click();
  await adm.page.waitForFunction(() => [...document.querySelectorAll('.audit-list .check')].every((c) => /verified|failed/.test(c.textContent)));
  expect(await adm.page.locator('.audit-list .check .pill.failed').count() === 0, 'every shown entry verifies');
  // a proof changed on the way: the check fails
  await rewriteAudit(adm.page, (j) => {
    for (const ev of j.events) if (String(ev.index) === idx && ev.proof.length) ev.proof[0] = btoa(String.fromCharCode(...new Uint8Array(32)));
  });
  const t = adm.page.locator('.audit-list tbody tr[data-index="' + idx + '"]');
  await t.getByRole('button', { name: 'Verify entry ' + idx }).click();
  await t.locator('.check').filter({ hasText: 'the inclusion proof does not lead to the signed root' }).waitFor();
  // an entry's bytes changed: fails too
  await rewriteAudit(adm.page, (j) => {
    for (const ev of j.events) if (String(ev.index) === idx) ev.entry = btoa(atob(ev.entry).replace('"result":"ok"', '"result":"no"'));
  });
  await t.getByRole('button', { name: 'Verify entry ' + idx }).click();
  await t.locator('.check .pill.failed').waitFor();
  await adm.page.unroute('**/api/v1/audit?*');
  // another log key presented: loud, and nothing verifies
  await adm.page.evaluate(() => localStorage.setItem('bulwark.log_vkey', 'other.example/log+01234567+AQ' + 'A'.repeat(42) + '='));
  await adm.page.reload();
  await adm.page.getByText(/THE LOG KEY CHANGED/).waitFor();
  await t.getByRole('button', { name: 'Verify entry ' + idx }).click();
  await t.locator('.check').filter({ hasText: 'the log key changed' }).waitFor();
  await shot(adm.page, 'audit-key-changed');

  // ---- hosts and patches ----
  await firstView(adm.page, '#/hosts', '.hosts-list table', 'hosts');
  await adm.page.locator('tr[data-host="web1"]').getByText('not enrolled').waitFor();
  await adm.page.getByText('None published yet').waitFor();
  await audit(adm.page, 'hosts');
  await shot(adm.page, 'hosts');

  // ---- an admin invites someone; they enrol with the link (QR code read by zbarimg), sign in, change password ----
  await adm.page.evaluate(() => localStorage.removeItem('bulwark.log_vkey'));
  await firstView(adm.page, '#/users', '.users-list table', 'users');
  await adm.page.getByLabel('Their user name').fill('eve');
  await adm.page.locator('form[aria-labelledby="inv-h"] .check-inline').filter({ hasText: 'staff' }).locator('input').check();
  await adm.page.getByRole('button', { name: 'Invite' }).click();
  const invite = await adm.page.locator('.enrol-link code.link').textContent();
  expect(/#\/enrol\/bwe_/.test(invite), 'an enrolment link: ' + invite);
  await audit(adm.page, 'users');
  await shot(adm.page, 'users');
  const ectx = await browser.newContext({ ignoreHTTPSErrors: true });
  const eve = await ectx.newPage();
  eve.on('pageerror', (e) => expect(false, 'eve: a script error: ' + e.message));
  await eve.goto(invite.replace(/^https:\/\/[^/]+/, URL_));
  expect(await eve.getByLabel('Enrolment code').inputValue() === invite.split('/enrol/')[1], 'the code comes from the link');
  await audit(eve, 'enrolment');
  await eve.getByRole('button', { name: 'Continue' }).click();
  const qr = eve.getByRole('img', { name: 'QR code of your authenticator secret' });
  await qr.waitFor();
  await qr.screenshot({ path: path.join(WORK, 'qr.png') });
  const decoded = execFileSync('zbarimg', ['--quiet', '--raw', path.join(WORK, 'qr.png')], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  const eveSecret = await eve.locator('code.secret').textContent();
  expect(decoded.startsWith('otpauth://totp/') && decoded.includes('secret=' + eveSecret), 'the QR code (zbarimg) is the otpauth URI with the secret shown: ' + decoded);
  await audit(eve, 'enrolment (secret)');
  await shot(eve, 'enrol');
  await eve.getByLabel('New password (at least 12 characters)').fill('eve first password');
  await eve.getByLabel('The same again').fill('eve first password');
  await eve.getByLabel("3. The app's current 6-digit code").fill(totp(eveSecret));
  await eve.getByRole('button', { name: 'Finish' }).click();
  await eve.locator('.recovery li').first().waitFor();
  const codes = await eve.locator('.recovery li').allTextContents();
  expect(codes.length === 10 && codes.every((c) => /^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/.test(c)), 'ten recovery codes, shown once: ' + codes);
  await eve.getByRole('button', { name: 'I have written them down: sign in' }).click();
  expect(await eve.getByLabel('User name').inputValue() === 'eve', 'the sign-in form knows who enrolled');
  await eve.getByLabel('Password').fill('eve first password');
  await eve.getByLabel('Authenticator code, or a recovery code').fill(totp(eveSecret, 30));
  await eve.getByRole('button', { name: 'Sign in' }).click();
  await eve.locator('#who').filter({ hasText: 'eve' }).waitFor();
  await eve.goto(URL_ + '/#/account');
  await eve.getByLabel('Current password').fill('eve first password');
  await eve.getByLabel('A code of your authenticator, or a recovery code').fill(codes[0]);
  await eve.getByLabel('New password (at least 12 characters)').fill('eve second password');
  await eve.getByLabel('The same again').fill('eve second password');
  await audit(eve, 'account');
  await eve.getByRole('button', { name: 'Change it' }).click();
  await eve.getByLabel('User name').waitFor();
  r = await req('POST', '/api/v1/login', { username: 'eve', password: 'eve second password', otp: codes[1] });
  expect(r.status === 200, 'the new password works: ' + JSON.stringify(r.json));
  await ectx.close();

  // ---- with a witness policy: the browser pins it and requires the quorum's cosignatures ----
  const wdata = path.join(WORK, 'witness');
  execFileSync(BW, ['init', '--data', wdata, '--origin', 'witness.test/log'], { env: { ...process.env, BULWARK_ADMIN_PASSWORD: ADMIN_PW } });
  const logVkey = fs.readFileSync(path.join(data, 'log', 'log.vkey'), 'utf8').trim();
  const WPORT = await freePort();
  witness = spawn(BW, ['witness', 'serve', '--data', wdata, '--listen', '127.0.0.1:' + WPORT, '--witness-log', logVkey],
    { stdio: ['ignore', logf, logf] });
  await listening(WPORT);
  const wkey = await new Promise((resolve, reject) => {
    https.get('https://127.0.0.1:' + WPORT + '/witness/key', { ca: fs.readFileSync(path.join(wdata, 'tls/cert.pem')) }, (res) => {
      let b = ''; res.on('data', (c) => { b += c; }); res.on('end', () => resolve(b.trim()));
    }).on('error', reject);
  });
  const policyFile = path.join(WORK, 'witness.policy');
  fs.writeFileSync(policyFile, 'log ' + logVkey + '\nwitness W ' + wkey + ' https://127.0.0.1:' + WPORT + '/witness\ngroup G any W\nquorum G\n');
  srv.kill('SIGTERM');
  await new Promise((res) => srv.on('exit', res));
  srv = spawn(BW, [...SERVE, '--witness-policy', policyFile, '--witness-interval-secs', '1', '--witness-cacert',
    path.join(wdata, 'tls/cert.pem')], { stdio: ['ignore', logf, logf] });
  await listening(PORT);
  for (let i = 0; i < 100; i++) {
    const cp = await req('GET', '/log/checkpoint');
    if (typeof cp.json === 'string' && cp.json.split('\u2014 ').length >= 3) break;
    await sleep(200);
  }
  await adm.page.goto(URL_ + '/#/audit');
  await adm.page.reload();
  await adm.page.locator('.policy').filter({ hasText: 'pinned the witness policy on first use' }).waitFor();
  const wrow = adm.page.locator('.audit-list tbody tr').first();
  const widx = await wrow.getAttribute('data-index');
  await wrow.getByRole('button', { name: 'Verify entry ' + widx }).click();
  await wrow.locator('.check').filter({ hasText: 'cosigned by W' }).waitFor();
  await shot(adm.page, 'audit-witnessed');
  // the cosignatures taken off on the way: the quorum is not met
  await rewriteAudit(adm.page, (j) => {
    j.checkpoint = j.checkpoint.split('\n').filter((l) => !l.startsWith('\u2014 witness.test')).join('\n');
  });
  const wrow2 = adm.page.locator('.audit-list tbody tr[data-index="' + widx + '"]');
  await wrow2.getByRole('button', { name: 'Verify entry ' + widx }).click();
  await wrow2.locator('.check').filter({ hasText: "the witnesses' quorum is not met" }).waitFor();
  // another policy presented: loud, and nothing verifies
  await rewriteAudit(adm.page, (j) => {
    if (j.witness_policy) j.witness_policy = j.witness_policy.replace('quorum G', 'quorum none');
  });
  await adm.page.getByText(/THE WITNESS POLICY CHANGED/).waitFor();
  await adm.page.unroute('**/api/v1/audit?*');

  // narrow width, keyboard only: the approver's page still works
  await ada.page.setViewportSize({ width: 390, height: 844 });
  await ada.page.goto(URL_ + '/#/access');
  await ada.page.reload();
  await ada.page.locator('#page-access table').first().waitFor();
  await ada.page.keyboard.press('Tab');
  const focused = await ada.page.evaluate(() => document.activeElement && document.activeElement.textContent);
  expect(/Skip to content/.test(focused || ''), 'the first Tab reaches "Skip to content": ' + focused);
  await shot(ada.page, 'access-narrow');
  await audit(ada.page, 'access (narrow)');
  // ---- at scale (figures, not assertions on time): 50 hosts, 200 alerts, 10,000 audit events ----
  const tScale = Date.now();
  for (let i = 0; i < 48; i++) {
    r = await req('POST', '/api/v1/hosts', { name: 'host' + String(i).padStart(2, '0'), address: '10.0.0.' + (i + 1), group: 'fleet', accounts: ['root'] }, admin);
    expect(r.status === 201, 'host ' + i + ': ' + r.status);
  }
  const staffTok = (await req('POST', '/api/v1/login', { username: 'admin', password: ADMIN_PW, otp: recovery[2] })).json.token;
  const reportsBefore = (await req('GET', '/api/v1/reports?limit=500', undefined, admin)).json.reports.length;
  for (let i = 0; i < 200; i += 8)
    await Promise.all(Array.from({ length: Math.min(8, 200 - i) }, () => req('POST', '/api/v1/reports', undefined, staffTok, lure)));
  for (let i = 0; i < 600; i++) {
    const a = (await req('GET', '/api/v1/alerts?limit=1000&state=open', undefined, admin)).json.alerts.length;
    if (a >= 200 || Date.now() - tScale > 300000) break;
    await sleep(500);
  }
  const nAlerts = (await req('GET', '/api/v1/alerts?limit=1000', undefined, admin)).json.alerts.length;
  const logSize = async () => Number((await req('GET', '/api/v1/audit?from=0&to=0', undefined, admin)).json.size);
  let size = await logSize();
  while (size < 10000 && Date.now() - tScale < 600000) {
    await Promise.all(Array.from({ length: Math.min(256, 10050 - size) }, () => req('GET', '/api/v1/reports/' + (reportsBefore + 1), undefined, admin)));
    size = await logSize();
  }
  console.log('scale: ' + size + ' audit events, ' + nAlerts + ' alerts, 50 hosts, made in ' + ((Date.now() - tScale) / 1000).toFixed(0) + ' s');
  expect(size >= 10000 && nAlerts >= 200, 'the data at scale: ' + size + ' events, ' + nAlerts + ' alerts');
  const big = await session('admin', ADMIN_PW, recovery[3]);
  for (const [hash, ready, what] of [['#/alerts', '.alert-list table', 'alerts, 200 of them'], ['#/audit', '.audit-list table', 'audit log, 10,000 events'],
    ['#/hosts', '.hosts-list table', 'hosts, 50 of them'], ['#/reports', '.reports-inbox table', 'reports, 200 of them']]) {
    for (let k = 0; k < 3; k++) {
      await big.page.goto(URL_ + '/' + hash);
      const t0 = Date.now();
      await big.page.reload();
      await big.page.locator(ready).first().waitFor();
      figures.push(['at scale: ' + what + ' (run ' + (k + 1) + ')', Date.now() - t0]);
    }
  }
  await big.page.goto(URL_ + '/#/audit');
  const brow = big.page.locator('.audit-list tbody tr').first();
  const bidx = await brow.getAttribute('data-index');
  await brow.getByRole('button', { name: 'Verify entry ' + bidx }).click();
  await brow.locator('.check .pill.verified').waitFor({ timeout: 10000 }).catch(async () => {
    expect(false, 'at scale, an entry verifies: ' + await brow.locator('.check').textContent() + ' / ' + await big.page.locator('.audit-status').textContent());
  });
  figures.push(['at scale: one entry checked in the browser (tree of ' + size + ', with the witness quorum)', Number(await brow.locator('.check').getAttribute('data-ms'))]);

  // ---- the log key rotated (server stopped, `bulwark log rotate-key`), the witness told the new key, the policy
  // left as pinned: the browser that pinned the first key follows the transition and still checks every entry ----
  srv.kill('SIGTERM');
  await new Promise((res) => srv.on('exit', res));
  const rotated = execFileSync(BW, ['log', 'rotate-key', '--data', data]).toString();
  const newVkey = (/new key:\s+(\S+)/.exec(rotated) || [])[1];
  const handover = Number((/the checkpoint of size (\d+)/.exec(rotated) || [])[1]);
  expect(newVkey && newVkey !== logVkey && handover > 0, 'rotate-key names the new key and the handover: ' + rotated);
  witness.kill('SIGTERM');
  await new Promise((res) => witness.on('exit', res));
  witness = spawn(BW, ['witness', 'serve', '--data', wdata, '--listen', '127.0.0.1:' + WPORT, '--witness-log', newVkey],
    { stdio: ['ignore', logf, logf] });
  await listening(WPORT);
  srv = spawn(BW, [...SERVE, '--witness-policy', policyFile, '--witness-interval-secs', '1', '--witness-cacert',
    path.join(wdata, 'tls/cert.pem')], { stdio: ['ignore', logf, logf] });
  await listening(PORT);
  let cosignedAfter = false;
  for (let i = 0; i < 100 && !cosignedAfter; i++) {
    const cp = await req('GET', '/log/checkpoint');
    cosignedAfter = typeof cp.json === 'string' && Number(cp.json.split('\n')[1]) > handover && cp.json.split('\u2014 ').length >= 3;
    if (!cosignedAfter) await sleep(200);
  }
  expect(cosignedAfter, 'the witness cosigns the checkpoints the new key signs');
  await big.page.goto(URL_ + '/#/audit');
  await big.page.reload();
  await big.page.locator('.pin').filter({ hasText: 'followed through 1 key transition' }).waitFor();
  const rrow = big.page.locator('.audit-list tbody tr').first();
  const ridx = await rrow.getAttribute('data-index');
  expect(Number(ridx) > handover, 'the newest entries are past the handover: ' + ridx);
  await rrow.getByRole('button', { name: 'Verify entry ' + ridx }).click();
  await rrow.locator('.check').filter({ hasText: 'cosigned by W' }).waitFor();
  await audit(big.page, 'audit after a key rotation');
  await shot(big.page, 'audit-key-rotated');
  // a transition changed on the way (its entry names another key): the key that signs now is not trusted
  await big.page.route('**/log/key-transitions', async (route) => {
    const r = await route.fetch();
    const j = await r.json();
    for (const t of j.transitions) t.proof = t.proof.replace(/^extra (\S+)$/m, (m, b) => 'extra ' + btoa(atob(b).replace('"log_key":"', '"log_key":"x')));
    await route.fulfill({ response: r, body: JSON.stringify(j) });
  });
  await big.page.reload();
  await big.page.getByText(/THE LOG KEY CHANGED/).waitFor();
  await big.page.locator('.pin').filter({ hasText: 'the key transition at size ' + handover }).waitFor();
  await big.page.unroute('**/log/key-transitions');
  ok = true;
} catch (e) {
  failures.push('exception: ' + (e.stack || e));
  console.error(e);
} finally {
  await browser.close();
  srv.kill('SIGTERM');
  if (witness) witness.kill('SIGTERM');
}
for (const [what, ms] of figures) console.log('figure: ' + what + ': ' + ms.toFixed(1) + ' ms');
if (failures.length || !ok) {
  console.error('dashboard_test: ' + failures.length + ' failure(s); screenshots in ' + path.join(WORK, 'screens'));
  process.exit(1);
}
console.log('dashboard_test: all checks passed; screenshots in ' + path.join(WORK, 'screens'));
