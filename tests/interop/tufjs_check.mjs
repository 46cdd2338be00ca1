// Interop peer: @tufjs/models (the TUF metadata library of tuf-js, the client npm uses)
// checks TUF metadata that bulwark produced.
//   node tufjs_check.mjs ROOT.json           verifies root's own threshold signatures
//   node tufjs_check.mjs --canonical FILE     prints @tufjs/canonical-json of FILE's JSON
//   node tufjs_check.mjs --rotation OLD NEW   checks a root rotation (both thresholds)
//   node tufjs_check.mjs --targets ROOT TARGETS FILE NAME   checks targets signatures and the file
import fs from 'node:fs';
import { Metadata } from '@tufjs/models';
import { canonicalize } from '@tufjs/canonical-json';

const args = process.argv.slice(2);
if (args[0] === '--online') {
  // root, snapshot, timestamp, targets: the online roles' signatures and the chain of meta entries
  const root = Metadata.fromJSON('root', JSON.parse(fs.readFileSync(args[1], 'utf8')));
  const snapBytes = fs.readFileSync(args[2]);
  const snap = Metadata.fromJSON('snapshot', JSON.parse(snapBytes.toString('utf8')));
  const ts = Metadata.fromJSON('timestamp', JSON.parse(fs.readFileSync(args[3], 'utf8')));
  const targets = Metadata.fromJSON('targets', JSON.parse(fs.readFileSync(args[4], 'utf8')));
  root.verifyDelegate('timestamp', ts);
  root.verifyDelegate('snapshot', snap);
  ts.signed.snapshotMeta.verify(snapBytes); // length and sha256 of snapshot.json
  if (ts.signed.snapshotMeta.version !== snap.signed.version) throw new Error('snapshot version mismatch');
  if (snap.signed.meta['targets.json'].version !== targets.signed.version) throw new Error('targets version mismatch');
  console.log(`tuf-js verified timestamp v${ts.signed.version} -> snapshot v${snap.signed.version} -> targets v${targets.signed.version}`);
} else if (args[0] === '--targets') {
  const root = Metadata.fromJSON('root', JSON.parse(fs.readFileSync(args[1], 'utf8')));
  const targets = Metadata.fromJSON('targets', JSON.parse(fs.readFileSync(args[2], 'utf8')));
  root.verifyDelegate('targets', targets); // the targets threshold of the root's targets keys
  const tf = targets.signed.targets[args[4]];
  if (!tf) throw new Error('target not listed: ' + args[4]);
  await tf.verify(fs.createReadStream(args[3])); // length and sha256 of the file
  console.log(`tuf-js verified targets version ${targets.signed.version} and ${args[4]} (${tf.length} bytes)`);
} else if (args[0] === '--rotation') {
  const oldRoot = Metadata.fromJSON('root', JSON.parse(fs.readFileSync(args[1], 'utf8')));
  const newRoot = Metadata.fromJSON('root', JSON.parse(fs.readFileSync(args[2], 'utf8')));
  oldRoot.verifyDelegate('root', newRoot); // the old root's threshold signed the new one
  newRoot.verifyDelegate('root', newRoot); // and the new root's own threshold
  if (newRoot.signed.version !== oldRoot.signed.version + 1) throw new Error('not the next version');
  console.log(`tuf-js accepted the rotation to root version ${newRoot.signed.version}`);
} else if (args[0] === '--canonical') {
  process.stdout.write(canonicalize(JSON.parse(fs.readFileSync(args[1], 'utf8'))));
} else {
  const root = Metadata.fromJSON('root', JSON.parse(fs.readFileSync(args[0], 'utf8')));
  root.verifyDelegate('root', root); // throws unless the root threshold of signatures verifies
  console.log(`tuf-js verified root version ${root.signed.version} ` +
              `(threshold ${root.signed.roles.root.threshold} of ${root.signed.roles.root.keyIDs.length})`);
}
