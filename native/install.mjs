#!/usr/bin/env node
// The package's install script. When node-gyp-build finds a binary that
// loads here (a local build in build/Release, or the prebuilt one in
// prebuilds/ for linux-x64 glibc) there is nothing to do: no compiler needed.
// Otherwise (another platform, or `npm install --build-from-source`) it
// compiles the addon as native/build.mjs does, with Node's local headers
// (node-gyp-build's own fallback, a bare `node-gyp rebuild`, would download
// them). Uses node-gyp-build, the same loader src/io/native.ts uses.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

// What src/io/native.ts calls (REQUIRED_ADDON_FUNCTIONS there; a unit test keeps the
// two lists equal): a build/Release left by older sources loads but lacks some.
const REQUIRED = [
  'openTun',
  'openRawSocket',
  'openPacketSocket',
  'setTunOffload',
  'dupFd',
  'attachPptpGreFilter',
  'sdNotify',
  'setBusyPoll',
  'busyPollStats',
  'Port',
];

function loads() {
  let addon;
  try {
    addon = require('node-gyp-build')(root);
  } catch (e) {
    return String(e?.message ?? e).split('\n')[0];
  }
  const missing = REQUIRED.filter((f) => typeof addon[f] !== 'function');
  return missing.length ? `the one found is older than the sources: no ${missing.join(', ')}` : undefined;
}

const fromSource = process.env.npm_config_build_from_source === 'true';
const why = fromSource ? 'asked to build from source' : loads();
if (why !== undefined) {
  console.log(`pptp-ts: no usable prebuilt native addon (${why}); compiling it`);
  const r = spawnSync(process.execPath, [join(root, 'native', 'build.mjs')], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
