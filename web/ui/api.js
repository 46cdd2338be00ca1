// The JSON API, as the CLI calls it: same routes, the session cookie (HttpOnly, SameSite=Strict) instead of a token.
let onExpired = () => {};

export function whenExpired(fn) { onExpired = fn; }

export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

// One request; JSON in and out. A 401 on anything but sign-in means the session ended: the caller's page stays
// as it is (nothing typed is lost), the sign-in form comes up, and the request is refused with ApiError.
export async function api(method, path, body, raw) {
  const init = { method, credentials: 'same-origin', headers: {} };
  if (raw !== undefined) {
    init.body = raw;
    init.headers['Content-Type'] = 'application/octet-stream';
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  const r = await fetch(path, init);
  let j = null;
  try { j = await r.json(); } catch (e) { j = null; }
  if (r.status === 401 && path !== '/api/v1/login') {
    onExpired();
    throw new ApiError(401, 'your session has ended: sign in again');
  }
  if (!r.ok) throw new ApiError(r.status, (j && (j.error || j.title)) || ('HTTP ' + r.status));
  return j;
}

// Text for people: everything from the server goes through textContent, never innerHTML.
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

export function when(secs) {
  if (!secs) return '-';
  return new Date(secs * 1000).toISOString().replace('.000Z', 'Z');
}

export function pill(text, cls) { return el('span', { class: 'pill ' + (cls || text) }, text); }

// A form's fields as an object (by name).
export function fields(form) {
  const o = {};
  for (const e of form.elements) if (e.name) o[e.name] = e.value;
  return o;
}

// Shows an error (or a message) in a status line under a form.
export function say(node, text, bad) {
  node.textContent = text;
  node.classList.toggle('error', !!bad);
  node.classList.toggle('muted', !bad);
}
