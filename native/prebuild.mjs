#!/usr/bin/env node
// `npm run native:prebuild`: rebuilds the prebuilt binary that the package
// ships, prebuilds/<platform>-<arch>/pptp-ts.<libc>.node, with prebuildify
// --napi (no ABI tag: Node-API), stripped, tagged with the C library so that
// a musl system compiles its own instead of loading a glibc one. (Not
// `npm run prebuild`: npm would run a script of that name before every
// `npm run build`.) Node-API (NAPI_VERSION in binding.gyp)
// makes one binary serve every Node >= 20; the target given to prebuildify
// is this Node, whose headers are installed next to it (native/nodedir.mjs).
//
// Then it writes prebuilds/<platform>-<arch>/SHA256SUMS (sha256sum format)
// over the sources and the binary; test/native/prebuilt.test.ts fails when
// native/pptp_io.cc or binding.gyp no longer match the committed binary.
// `sha256sum -c prebuilds/linux-x64/SHA256SUMS` checks it by hand.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { localNodeDir, nodeGyp } from './nodedir.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join('prebuilds', `${platform()}-${arch()}`);
const SOURCES = ['native/pptp_io.cc', 'binding.gyp'];

const env = { ...process.env };
const nodedir = localNodeDir();
if (nodedir) env.npm_config_nodedir = nodedir;
const [gyp, ...gypPre] = nodeGyp();
// prebuildify spawns one executable; npm's bundled node-gyp.js has a shebang.
if (gypPre.length) env.PREBUILD_NODE_GYP = gypPre[0];
else env.PREBUILD_NODE_GYP = gyp;

rmSync(join(root, dir), { recursive: true, force: true });
const args = [
  join(root, 'node_modules', 'prebuildify', 'bin.js'),
  '--napi',
  '--strip',
  '--tag-libc',
  `--target=${process.version}`,
];
console.log(`pptp-ts: prebuilding the native addon: prebuildify ${args.slice(1).join(' ')}`);
const r = spawnSync(process.execPath, args, { cwd: root, env, stdio: 'inherit' });
if (r.status !== 0) {
  console.error('pptp-ts: prebuildify failed (it needs a C++ compiler, make, python3 and strip)');
  process.exit(r.status ?? 1);
}

const binaries = readdirSync(join(root, dir))
  .filter((f) => f.endsWith('.node'))
  .map((f) => join(dir, f));
const sha256 = (file) =>
  createHash('sha256')
    .update(readFileSync(join(root, file)))
    .digest('hex');
const sums = [...SOURCES, ...binaries].map((f) => `${sha256(f)}  ${f}\n`).join('');
writeFileSync(join(root, dir, 'SHA256SUMS'), sums);
process.stdout.write(`pptp-ts: wrote ${join(dir, 'SHA256SUMS')}:\n${sums}`);
