// Interop peer: tuf-js (the TUF client npm uses) and @tufjs/models signing, against bulwark.
//   node tufjs_update.mjs update METADATA_URL TARGETS_URL ROOT.json WORKDIR NAME
//       a stock tuf-js Updater: trusts ROOT.json, refreshes (root chain, timestamp, snapshot,
//       targets), downloads NAME and prints "<sha256> <path>"; exits non-zero on any refusal.
//   node tufjs_update.mjs sign-repo OUTDIR SNAPSHOT.pub TIMESTAMP.pub FILE NAME VERSION HOSTS
//       offline signing with @tufjs/models: new root and targets keys (Node's Ed25519), a root
//       v1 delegating snapshot/timestamp to the given (bulwark server) keys, and targets v1
//       listing FILE as NAME; writes OUTDIR/root.json and OUTDIR/targets.json.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Updater } from 'tuf-js';
import { Metadata, Signature } from '@tufjs/models';
import { canonicalize } from '@tufjs/canonical-json';

const args = process.argv.slice(2);

function expiresIn(days) {
  return new Date(Date.now() + days * 86400e3).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function newKey() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url');
  const obj = { keytype: 'ed25519', keyval: { public: raw.toString('hex') }, scheme: 'ed25519' };
  const keyID = crypto.createHash('sha256').update(canonicalize(obj)).digest('hex');
  return { keyID, obj, privateKey };
}

function signer(k) {
  return (data) => new Signature({ keyID: k.keyID, sig: crypto.sign(null, data, k.privateKey).toString('hex') });
}

if (args[0] === 'update') {
  const [, metadataBaseUrl, targetBaseUrl, rootFile, work, name] = args;
  const metadataDir = path.join(work, 'metadata'), targetDir = path.join(work, 'targets');
  fs.mkdirSync(metadataDir, { recursive: true });
  fs.mkdirSync(targetDir, { recursive: true });
  if (!fs.existsSync(path.join(metadataDir, 'root.json'))) fs.copyFileSync(rootFile, path.join(metadataDir, 'root.json'));
  const updater = new Updater({ metadataBaseUrl, targetBaseUrl, metadataDir, targetDir });
  await updater.refresh();
  const info = await updater.getTargetInfo(name);
  if (!info) throw new Error('tuf-js: no target ' + name);
  const file = await updater.downloadTarget(info, path.join(targetDir, name.replaceAll('/', '_')));
  const sha = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  console.log(`${sha} ${file}`);
} else if (args[0] === 'sign-repo') {
  const [, out, snapPub, tsPub, file, name, version, hosts] = args;
  const rootKey = newKey(), targetsKey = newKey();
  const online = [snapPub, tsPub].map((f) => {
    const j = JSON.parse(fs.readFileSync(f, 'utf8'));
    const keyID = j.keyid;
    delete j.keyid;
    return { keyID, obj: j };
  });
  const keys = {};
  for (const k of [rootKey, targetsKey, ...online]) keys[k.keyID] = k.obj;
  // @tufjs/models builds the objects from their TUF JSON form, then signs them.
  const root = Metadata.fromJSON('root', {
    signed: {
      _type: 'root', spec_version: '1.0.31', version: 1, expires: expiresIn(365), consistent_snapshot: true, keys,
      roles: {
        root: { keyids: [rootKey.keyID], threshold: 1 },
        targets: { keyids: [targetsKey.keyID], threshold: 1 },
        snapshot: { keyids: [online[0].keyID], threshold: 1 },
        timestamp: { keyids: [online[1].keyID], threshold: 1 },
      },
    },
    signatures: [],
  });
  root.sign(signer(rootKey));
  const bytes = fs.readFileSync(file);
  const targets = Metadata.fromJSON('targets', {
    signed: {
      _type: 'targets', spec_version: '1.0.31', version: 1, expires: expiresIn(90),
      targets: {
        [name]: {
          length: bytes.length, hashes: { sha256: crypto.createHash('sha256').update(bytes).digest('hex') },
          custom: { version, hosts },
        },
      },
    },
    signatures: [],
  });
  targets.sign(signer(targetsKey));
  fs.writeFileSync(path.join(out, 'root.json'), JSON.stringify(root.toJSON(), null, 1));
  fs.writeFileSync(path.join(out, 'targets.json'), JSON.stringify(targets.toJSON(), null, 1));
  console.log(`tuf-js signed root ${rootKey.keyID.slice(0, 16)} and targets ${targetsKey.keyID.slice(0, 16)}`);
} else {
  console.error('usage: see the header of this file');
  process.exit(2);
}
