// Enrolment with the link an admin gave (#/enrol/CODE; the code stays in the fragment, never sent in a URL):
// the authenticator secret as a QR code and as text, the user's own password, the recovery codes shown once.
import { api, el, say } from './api.js';

const SVG = 'http://www.w3.org/2000/svg';

// The QR code drawn as SVG (the server encodes it; nothing is loaded from elsewhere).
function qrSvg(rows) {
  const n = rows.length, q = 4;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 ' + (n + 2 * q) + ' ' + (n + 2 * q));
  svg.setAttribute('width', '240');
  svg.setAttribute('height', '240');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'QR code of your authenticator secret');
  const bg = document.createElementNS(SVG, 'rect');
  bg.setAttribute('width', '100%'); bg.setAttribute('height', '100%'); bg.setAttribute('fill', '#fff');
  svg.append(bg);
  let d = '';
  rows.forEach((row, y) => { for (let x = 0; x < row.length; x++) if (row[x] === '1') d += 'M' + (x + q) + ' ' + (y + q) + 'h1v1h-1z'; });
  const p = document.createElementNS(SVG, 'path');
  p.setAttribute('d', d); p.setAttribute('fill', '#000');
  svg.append(p);
  return svg;
}

export function renderEnrol(root, code, done) {
  const status = el('p', { role: 'status', class: 'muted' });
  const codeIn = el('input', { id: 'en-code', value: code || '', required: true, autocomplete: 'off' });
  const step1 = el('form', { 'aria-labelledby': 'en-h' }, el('h1', { id: 'en-h', text: 'Set up your account' }),
    el('p', { class: 'muted', text: 'An administrator gave you an enrolment link or code. You will choose your password and add bulwark to an authenticator app.' }),
    el('label', { for: 'en-code', text: 'Enrolment code' }), codeIn, el('button', { type: 'submit' }, 'Continue'), status);
  root.replaceChildren(step1);
  step1.addEventListener('submit', async (e) => {
    e.preventDefault();
    let j;
    try {
      j = await api('POST', '/api/v1/enrol', { code: codeIn.value.trim() });
    } catch (x) {
      say(status, x.message, true);
      return;
    }
    const secret = (/secret=([A-Z2-7]+)/.exec(j.otpauth_uri) || [])[1] || '';
    const st2 = el('p', { role: 'status', class: 'muted' });
    const pw = el('input', { id: 'en-pw', type: 'password', autocomplete: 'new-password', required: true, minlength: '12' });
    const pw2 = el('input', { id: 'en-pw2', type: 'password', autocomplete: 'new-password', required: true });
    const otp = el('input', { id: 'en-otp', autocomplete: 'one-time-code', inputmode: 'numeric', required: true });
    const step2 = el('form', { 'aria-labelledby': 'en2-h' }, el('h1', { id: 'en2-h', text: 'Hello ' + j.username }),
      el('h2', { text: '1. Add bulwark to your authenticator app' }),
      j.qr ? qrSvg(j.qr) : '', el('p', {}, 'Or type this secret: ', el('code', { class: 'secret', text: secret })),
      el('h2', { text: '2. Choose your password' }),
      el('label', { for: 'en-pw', text: 'New password (at least 12 characters)' }), pw,
      el('label', { for: 'en-pw2', text: 'The same again' }), pw2,
      el('label', { for: 'en-otp', text: "3. The app's current 6-digit code" }), otp,
      el('button', { type: 'submit' }, 'Finish'), st2);
    root.replaceChildren(step2);
    step2.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (pw.value !== pw2.value) { say(st2, 'The two passwords differ.', true); return; }
      let k;
      try {
        k = await api('POST', '/api/v1/enrol/complete', { code: codeIn.value.trim(), password: pw.value, otp: otp.value.trim() });
      } catch (x) {
        say(st2, x.message, true);
        return;
      }
      pw.value = pw2.value = '';
      root.replaceChildren(el('section', { 'aria-labelledby': 'en3-h' }, el('h1', { id: 'en3-h', text: 'Your recovery codes' }),
        el('p', { text: 'Write these down and keep them somewhere safe: each signs you in once if you lose your authenticator. They are shown only now.' }),
        el('ul', { class: 'recovery mono' }, k.recovery_codes.map((c) => el('li', { text: c }))),
        el('button', { type: 'button', onclick: () => done(k.username) }, 'I have written them down: sign in')));
    });
  });
}
