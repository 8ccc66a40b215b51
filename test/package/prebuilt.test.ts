/**
 * The prebuilt native addon that the package ships (prebuilds/linux-x64,
 * docs/packaging.md) is the one built from the sources in this checkout:
 * `npm run native:prebuild` records the SHA-256 of native/pptp_io.cc,
 * binding.gyp and the binary in prebuilds/linux-x64/SHA256SUMS, and a source
 * changed without a new prebuild fails here. The binary must also load
 * through node-gyp-build on its own (PREBUILDS_ONLY, so a local build in
 * build/Release cannot stand in for it) and offer the addon's functions.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIR = 'prebuilds/linux-x64';
const sha256 = (file: string) =>
  createHash('sha256')
    .update(readFileSync(`${ROOT}/${file}`))
    .digest('hex');

describe('prebuilt native addon', () => {
  const sums = readFileSync(`${ROOT}/${DIR}/SHA256SUMS`, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const m = /^([0-9a-f]{64}) {2}(\S+)$/.exec(line);
      assert.ok(m, `a sha256sum line: ${line}`);
      return { hash: m[1]!, file: m[2]! };
    });

  it('SHA256SUMS covers the sources and exactly the shipped binaries', () => {
    const files = sums.map((s) => s.file);
    assert.ok(files.includes('native/pptp_io.cc'));
    assert.ok(files.includes('binding.gyp'));
    assert.deepEqual(
      files.filter((f) => f.endsWith('.node')),
      [`${DIR}/pptp-ts.glibc.node`],
    );
  });

  for (const file of ['native/pptp_io.cc', 'binding.gyp', `${DIR}/pptp-ts.glibc.node`]) {
    it(`${file} is what the prebuilt was built from (else: npm run native:prebuild)`, () => {
      const recorded = sums.find((s) => s.file === file)?.hash;
      assert.equal(sha256(file), recorded, `${file} changed since the last \`npm run native:prebuild\``);
    });
  }

  it('loads through node-gyp-build from prebuilds/ alone, with the addon functions', () => {
    assert.ok(existsSync(`${ROOT}/${DIR}/pptp-ts.glibc.node`));
    const script = `
      const load = require('node-gyp-build');
      const path = load.resolve(${JSON.stringify(ROOT)});
      const addon = load(${JSON.stringify(ROOT)});
      console.log(JSON.stringify({ path, exports: Object.keys(addon).sort() }));`;
    const r = spawnSync(process.execPath, ['-e', script], {
      cwd: ROOT,
      env: { ...process.env, PREBUILDS_ONLY: '1' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { path: string; exports: string[] };
    assert.equal(out.path, `${ROOT}${DIR}/pptp-ts.glibc.node`);
    for (const name of ['Port', 'openTun', 'openRawSocket', 'openPacketSocket', 'dupFd', 'setTunOffload']) {
      assert.ok(out.exports.includes(name), `${name} in ${out.exports.join(', ')}`);
    }
  });
});
