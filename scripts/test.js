#!/usr/bin/env node
// The project's test command. `npm test` runs, in order: the formatter/linter
// (biome), the type checker (tsc --strict), the unit tests (no root needed)
// and the system tests (root: network namespaces, TUN, raw sockets, tshark).
// The tests import the TypeScript sources through tsx, but every test that
// runs the `pptp-ts` command runs the compiled dist/ (bin/pptp-ts.js), so
// dist/ is rebuilt first whenever a source is newer than the last build.
//   node scripts/test.js            lint + typecheck + unit + system
//   node scripts/test.js unit       unit tests only
//   node scripts/test.js system     system tests only
//   node scripts/test.js interop    the interop lab (qemu VM with Linux PPTP peers)
//   node scripts/test.js FILE...    just these test files
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { buildIfStale } from './build-if-stale.js';

const root = new URL('..', import.meta.url).pathname;
process.chdir(root);

function findTests(dir) {
  const out = [];
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (p.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

function run(title, cmd, args) {
  console.log(`\n── ${title} ──`);
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`\n✗ ${title} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
}

const bin = (name) => join(root, 'node_modules', '.bin', name);

async function buildDist() {
  if (!(await buildIfStale())) {
    console.error('\n✗ build dist/ failed');
    process.exit(1);
  }
}
const nodeTest = (files, extra = []) => [
  '--import',
  'tsx',
  '--test',
  '--test-reporter=spec',
  ...extra,
  ...files,
];

// The bench lab keeps its tests beside it: bench/lab/test (unit) and bench/lab/test/system (root).
const all = [...findTests('test'), ...findTests('bench/lab/test')];
const isSystem = (f) => f.startsWith('test/system/') || f.startsWith('bench/lab/test/system/');
const isInterop = (f) => f.startsWith('test/interop/');
const unit = all.filter((f) => !isSystem(f) && !isInterop(f));
const system = all.filter(isSystem);
const interop = all.filter(isInterop);

function requireRoot(what) {
  if (process.getuid?.() !== 0) {
    console.error(`${what} need root (network namespaces, TUN, raw sockets). Run as root, as CI does.`);
    process.exit(2);
  }
}

// Every system tool the unit and system tests run (scripts/system-tools.json), checked
// before anything runs: a missing one stops here with the line that installs it.
function requireTools() {
  const { tools } = JSON.parse(readFileSync(join(root, 'scripts', 'system-tools.json'), 'utf8'));
  const missing = Object.keys(tools).filter(
    (t) =>
      spawnSync('sh', ['-c', 'command -v "$1"', 'sh', t], { stdio: 'ignore', timeout: 10_000 }).status !== 0,
  );
  if (missing.length) {
    const pkgs = [...new Set(missing.map((t) => tools[t]))].join(' ');
    console.error(`npm test needs ${missing.join(', ')}: apt-get install -y ${pkgs}`);
    process.exit(2);
  }
}

const mode = process.argv[2];
if (mode !== 'interop') requireTools();
if (mode) await buildDist();
if (mode === 'unit') {
  run('unit tests', process.execPath, nodeTest(unit));
} else if (mode === 'system') {
  requireRoot('system tests');
  run('system tests', process.execPath, nodeTest(system, ['--test-concurrency=1']));
} else if (mode === 'interop') {
  requireRoot('interop tests');
  run('interop tests', process.execPath, nodeTest(interop, ['--test-concurrency=1']));
} else if (mode) {
  run('selected tests', process.execPath, nodeTest(process.argv.slice(2), ['--test-concurrency=1']));
} else {
  run('lint and format (biome)', bin('biome'), ['check', '.']);
  run('typecheck (tsc --strict)', bin('tsc'), ['--noEmit', '-p', '.']);
  await buildDist();
  run('unit tests', process.execPath, nodeTest(unit));
  requireRoot('system tests');
  if (system.length) run('system tests', process.execPath, nodeTest(system, ['--test-concurrency=1']));
}
