#!/usr/bin/env node
// Builds the pptp_io addon (binding.gyp) with node-gyp into build/Release.
// Run by `npm install` (native/install.mjs) when no prebuilt binary in
// prebuilds/ loads on this machine, and by hand: `node native/build.mjs`.
// A build in build/Release takes precedence over prebuilds/ (node-gyp-build's
// order), so a changed native/pptp_io.cc is what a checkout runs after this.
// Node's headers come from this Node's own install (native/nodedir.mjs).
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { localNodeDir, nodeGyp } from './nodedir.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const nodedir = localNodeDir();
const [cmd, ...pre] = nodeGyp();
const args = [...pre, 'rebuild', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
console.log(`pptp-ts: building the native addon: ${[cmd, ...args].join(' ')}`);
const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  console.error(
    'pptp-ts: the native addon (TUN, raw GRE socket) did not build. It needs a C++ compiler, make and python3; ' +
      'the in-memory parts of pptp-ts work without it.',
  );
  process.exit(r.status ?? 1);
}
