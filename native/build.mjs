#!/usr/bin/env node
// Builds the pptp_io addon (binding.gyp) with node-gyp. Run by `npm install`
// (the root package's own install script) and by hand: `node native/build.mjs`.
//
// node-gyp downloads Node's headers unless it is told where local ones are,
// and the machines this project runs on reach no download site. Node
// installs its headers next to the binary (<prefix>/include/node), so point
// node-gyp there (--nodedir) when they exist and match this Node's version.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function localNodeDir() {
  const prefix = resolve(dirname(process.execPath), '..');
  const versionH = join(prefix, 'include', 'node', 'node_version.h');
  if (!existsSync(versionH)) return undefined;
  const text = readFileSync(versionH, 'utf8');
  const part = (name) => text.match(new RegExp(`#define NODE_${name}_VERSION (\\d+)`))?.[1];
  const version = `v${part('MAJOR')}.${part('MINOR')}.${part('PATCH')}`;
  return version === process.version ? prefix : undefined;
}

// npm puts its bundled node-gyp on PATH while it runs scripts; by hand, use
// the copy that ships inside npm next to this Node.
function nodeGyp() {
  const bundled = join(
    dirname(process.execPath),
    '..',
    'lib',
    'node_modules',
    'npm',
    'node_modules',
    'node-gyp',
    'bin',
    'node-gyp.js',
  );
  return existsSync(bundled) ? [process.execPath, bundled] : ['node-gyp'];
}

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
