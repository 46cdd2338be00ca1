// Your account: change your password (the current one and a code, checked like a sign-in).
import { api, el, say } from './api.js';

export default {
  id: 'account',
  title: 'Account',
  roles: 'any',
  render(sec, ctx) {
    const status = el('p', { role: 'status', class: 'muted' });
    const cur = el('input', { id: 'pw-cur', type: 'password', autocomplete: 'current-password', required: true });
    const otp = el('input', { id: 'pw-otp', autocomplete: 'one-time-code', required: true });
    const pw = el('input', { id: 'pw-new', type: 'password', autocomplete: 'new-password', required: true, minlength: '12' });
    const pw2 = el('input', { id: 'pw-new2', type: 'password', autocomplete: 'new-password', required: true });
    const form = el('form', { class: 'panel', 'aria-labelledby': 'pw-h' }, el('h2', { id: 'pw-h', text: 'Change your password' }),
      el('p', { class: 'muted', text: 'Signed in as ' + ctx.me.username + ' (' + ctx.me.roles.join(', ') + '). Changing the password ends every session and API token of yours: you sign in again.' }),
      el('label', { for: 'pw-cur', text: 'Current password' }), cur,
      el('label', { for: 'pw-otp', text: 'A code of your authenticator, or a recovery code' }), otp,
      el('label', { for: 'pw-new', text: 'New password (at least 12 characters)' }), pw,
      el('label', { for: 'pw-new2', text: 'The same again' }), pw2,
      el('button', { type: 'submit' }, 'Change it'), status);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (pw.value !== pw2.value) { say(status, 'The two new passwords differ.', true); return; }
      try {
        await api('POST', '/api/v1/me/password', { current_password: cur.value, otp: otp.value.trim(), new_password: pw.value });
      } catch (x) {
        say(status, x.message, true);
        return;
      }
      form.reset();
      say(status, 'Password changed. Sign in again with it.');
      location.hash = '#/';
      location.reload();
    });
    sec.append(form);
  },
};
