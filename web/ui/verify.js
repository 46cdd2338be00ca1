// Checking the audit log in the browser, trusting nothing the server says but the key pinned on first use:
// an entry's leaf hash (RFC 6962: SHA-256 of 0x00 and its bytes), its inclusion proof up to the root
// (RFC 9162 2.1.3.2), and the checkpoint's Ed25519 signature (C2SP signed note) under the pinned log key.
const enc = new TextEncoder();

export function fromB64(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function concat(...parts) {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

async function sha256(bytes) { return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)); }

function equal(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

export function hex(bytes) { return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(''); }

export async function leafHash(entry) { return sha256(concat(new Uint8Array([0]), entry)); }

// RFC 9162 2.1.3.2: true when proof leads from leaf (index of size) to root.
export async function inclusionOk(index, size, leaf, proof, root) {
  let fn = BigInt(index), sn = BigInt(size) - 1n, r = leaf;
  if (BigInt(index) >= BigInt(size)) return false;
  for (const p of proof) {
    if (p.length !== 32 || sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      r = await sha256(concat(new Uint8Array([1]), p, r));
      if ((fn & 1n) === 0n) while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else {
      r = await sha256(concat(new Uint8Array([1]), r, p));
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && equal(r, root);
}

// "name+keyid+base64(0x01 || key)": an Ed25519 verifier key of a signed note.
export async function parseVkey(vkey) {
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(vkey || '');
  if (!m) throw new Error('the log key is not a note verifier key');
  const data = fromB64(m[3]);
  if (data.length !== 33 || data[0] !== 1) throw new Error('the log key is not an Ed25519 key');
  const id = await sha256(concat(enc.encode(m[1] + '\n'), data));
  if (hex(id.slice(0, 4)) !== m[2]) throw new Error("the log key's id does not match its key");
  return { name: m[1], keyid: id.slice(0, 4), pub: data.slice(1) };
}

// The checkpoint's size and root when a signature of key verifies; throws saying why not.
export async function checkpointOk(note, key) {
  const cut = note.indexOf('\n\n');
  if (cut < 0) throw new Error('the checkpoint is not a signed note');
  const text = note.slice(0, cut + 1);
  const lines = text.split('\n');
  if (lines[0] !== key.name) throw new Error('the checkpoint is of log ' + lines[0] + ', not of the pinned ' + key.name);
  if (!/^[0-9]+$/.test(lines[1])) throw new Error("the checkpoint's size is not a number");
  const root = fromB64(lines[2]);
  if (root.length !== 32) throw new Error("the checkpoint's root is not a SHA-256 hash");
  const pub = await crypto.subtle.importKey('raw', key.pub, { name: 'Ed25519' }, false, ['verify']);
  for (const line of note.slice(cut + 2).split('\n')) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m || m[1] !== key.name) continue;
    const sig = fromB64(m[2]);
    if (sig.length !== 68 || !equal(sig.slice(0, 4), key.keyid)) continue;
    if (await crypto.subtle.verify({ name: 'Ed25519' }, pub, sig.slice(4), enc.encode(text)))
      return { size: BigInt(lines[1]), root };
  }
  throw new Error('no signature of the pinned log key verifies on the checkpoint');
}

// A fingerprint of a key to compare out of band: SHA-256 of the key text, in groups.
export async function fingerprint(vkey) {
  return hex((await sha256(enc.encode(vkey))).slice(0, 16)).match(/.{4}/g).join(' ');
}


// ---- key transitions: a later log key is trusted only through its transition from the key pinned ----

// A c2sp.org/tlog-proof@v1 file: {extra (bytes or null), index, proof (hashes), note (the checkpoint)}.
function parseProofFile(text) {
  const lines = String(text).split('\n');
  if (lines[0] !== 'c2sp.org/tlog-proof@v1') throw new Error('not a tlog-proof');
  let i = 1;
  let extra = null;
  if ((lines[i] || '').startsWith('extra ')) extra = fromB64(lines[i++].slice(6));
  const m = /^index (0|[1-9][0-9]*)$/.exec(lines[i++] || '');
  if (!m) throw new Error('the tlog-proof has no index line');
  const proof = [];
  while (i < lines.length && lines[i] !== '') proof.push(fromB64(lines[i++]));
  if (i >= lines.length) throw new Error('the tlog-proof has no checkpoint');
  return { extra, index: BigInt(m[1]), proof, note: lines.slice(i + 1).join('\n') };
}

// The log's keys from the one pinned, [{vkey, key, from}], each later one added by its transition in answer
// (GET /log/key-transitions): the log.key_transition entry, in the handover checkpoint signed by the key before it
// and by the key it names. Throws naming the transition that does not hold.
export async function followTransitions(pinnedVkey, answer) {
  const chain = [{ vkey: pinnedVkey, key: await parseVkey(pinnedVkey), from: 0n }];
  for (const t of (answer && Array.isArray(answer.transitions)) ? answer.transitions : []) {
    const last = chain[chain.length - 1];
    try {
      if (!Number.isSafeInteger(t.size) || t.size < 1) throw new Error('it has no size');
      const size = BigInt(t.size);
      if (size <= last.from) continue;
      const pf = parseProofFile(t.proof);
      const cp = await checkpointOk(pf.note, last.key);
      if (cp.size !== size || pf.index !== size - 1n) throw new Error('its entry is not the last of its handover checkpoint');
      if (!pf.extra || !(await inclusionOk(pf.index, cp.size, await leafHash(pf.extra), pf.proof, cp.root)))
        throw new Error('its entry is not in the handover checkpoint');
      const ev = JSON.parse(new TextDecoder().decode(pf.extra));
      if (ev.action !== 'log.key_transition' || !ev.details || typeof ev.details.log_key !== 'string')
        throw new Error('its entry is not a log.key_transition');
      const next = await parseVkey(ev.details.log_key);
      if (next.name !== last.key.name) throw new Error('it names a key of another log');
      if (chain.length === 1 && chain[0].from === 0n && equal(next.pub, last.key.pub)) {
        chain[0].from = size;   // the key pinned is a later one: it signs from this handover on
        continue;
      }
      if (chain.some((c) => equal(c.key.pub, next.pub))) throw new Error('it names a key the log had before');
      await checkpointOk(pf.note, next);
      chain.push({ vkey: ev.details.log_key, key: next, from: size });
    } catch (e) {
      throw new Error('the key transition at size ' + t.size + ': ' + e.message);
    }
  }
  return chain;
}

// The keys that may sign a checkpoint of size: its epoch's, and at a handover the one before it too.
export function keysFor(chain, size) {
  let i = chain.length - 1;
  while (i > 0 && chain[i].from > size) i--;
  return i > 0 && chain[i].from === size ? [chain[i].key, chain[i - 1].key] : [chain[i].key];
}

// checkpointOk with the key(s) of the chain for the checkpoint's size.
export async function checkpointOkChain(note, chain) {
  const size = /^[0-9]+$/.test(note.split('\n')[1] || '') ? BigInt(note.split('\n')[1]) : -1n;
  let why = null;
  for (const key of keysFor(chain, size)) {
    try {
      return await checkpointOk(note, key);
    } catch (e) {
      why = why || e;
    }
  }
  throw chain.length > 1 ? new Error(why.message + ' (size ' + size + ': the key of that epoch)') : why;
}

// One event of an /api/v1/audit page with proofs, under the chain of log keys: verified, or an Error saying why not.
export async function entryOkChain(ev, checkpoint, chain) {
  const cp = await checkpointOkChain(checkpoint, chain);
  if (!ev.entry || !ev.proof) throw new Error('the server gave no entry bytes or proof');
  const leaf = await leafHash(fromB64(ev.entry));
  if (!(await inclusionOk(ev.index, cp.size, leaf, ev.proof.map(fromB64), cp.root)))
    throw new Error('the inclusion proof does not lead to the signed root');
  return true;
}

// ---- witnesses: a C2SP tlog-policy and the cosignatures (cosignature/v1) a checkpoint carries ----

async function parseCosigner(vkey) {
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(vkey || '');
  if (!m) throw new Error('a witness key is not a note verifier key');
  const data = fromB64(m[3]);
  if (data.length !== 33 || data[0] !== 4) throw new Error("a witness's key is not of type 0x04 (cosignature/v1)");
  const id = await sha256(concat(enc.encode(m[1] + '\n'), data));
  if (hex(id.slice(0, 4)) !== m[2]) throw new Error("a witness key's id does not match its key");
  return { name: m[1], keyid: id.slice(0, 4), pub: data.slice(1) };
}

// The policy's witnesses, groups and quorum (lines "log", "witness NAME VKEY [URL]", "group NAME N|any|all MEMBER...",
// "quorum NAME|none"; '#' comments). Throws naming the line.
export async function parsePolicy(text) {
  const p = { witnesses: new Map(), groups: new Map(), quorum: null };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i].replace(/#.*/, '').trim().split(/[ \t]+/).filter(Boolean);
    if (t.length === 0 || t[0] === 'log') continue;
    if (t[0] === 'witness' && (t.length === 3 || t.length === 4)) p.witnesses.set(t[1], await parseCosigner(t[2]));
    else if (t[0] === 'group' && t.length >= 4) {
      const members = t.slice(3);
      const k = t[2] === 'any' ? 1 : t[2] === 'all' ? members.length : Number(t[2]);
      if (!Number.isInteger(k) || k < 1 || k > members.length) throw new Error('policy line ' + (i + 1) + ': a bad threshold');
      for (const m of members) if (!p.witnesses.has(m) && !p.groups.has(m)) throw new Error('policy line ' + (i + 1) + ': ' + m + ' is not defined above');
      p.groups.set(t[1], { k, members });
    } else if (t[0] === 'quorum' && t.length === 2) p.quorum = t[1];
    else throw new Error('policy line ' + (i + 1) + ': not understood');
  }
  if (!p.quorum) throw new Error('the policy has no quorum');
  if (p.quorum !== 'none' && !p.witnesses.has(p.quorum) && !p.groups.has(p.quorum)) throw new Error('the quorum names nothing defined');
  return p;
}

// The witnesses whose cosignature on note verifies, and whether they make the policy's quorum; throws when not.
export async function quorumOk(note, policy) {
  const cut = note.indexOf('\n\n');
  const text = note.slice(0, cut + 1);
  const signed = new Set();
  for (const line of note.slice(cut + 2).split('\n')) {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m) continue;
    for (const [wname, w] of policy.witnesses) {
      if (w.name !== m[1] || signed.has(wname)) continue;
      const sig = fromB64(m[2]);
      if (sig.length !== 76 || !equal(sig.slice(0, 4), w.keyid)) continue;
      let ts = 0n;
      for (let i = 4; i < 12; i++) ts = (ts << 8n) | BigInt(sig[i]);
      const pub = await crypto.subtle.importKey('raw', w.pub, { name: 'Ed25519' }, false, ['verify']);
      if (await crypto.subtle.verify({ name: 'Ed25519' }, pub, sig.slice(12), enc.encode('cosignature/v1\ntime ' + ts + '\n' + text)))
        signed.add(wname);
    }
  }
  const met = (name) => {
    if (policy.witnesses.has(name)) return signed.has(name);
    const g = policy.groups.get(name);
    return g.members.filter(met).length >= g.k;
  };
  if (policy.quorum !== 'none' && !met(policy.quorum))
    throw new Error("the witnesses' quorum is not met (cosigned by " + (signed.size ? [...signed].join(', ') : 'none') + ')');
  return [...signed];
}
