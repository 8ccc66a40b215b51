/**
 * Where no prebuilt binary fits (another platform, an old glibc, a musl
 * system), the install script (native/install.mjs) compiles the addon as
 * native/build.mjs does, from Node's own headers, with no download
 * (docs/packaging.md). Simulated on a copy of the package without
 * prebuilds/ and with an empty HOME, so node-gyp has no header cache to
 * fall back on: the build must come from the local headers. Needs g++,
 * make and python3 (apt-get install -y build-essential python3).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('install without a usable prebuilt binary', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pptp-ts-native-fallback-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('compiles the addon from local headers, offline, and node-gyp-build then loads it', () => {
    for (const tool of ['g++', 'make', 'python3']) {
      const r = spawnSync('sh', ['-c', `command -v ${tool}`]);
      assert.equal(r.status, 0, `${tool} missing: apt-get install -y build-essential python3`);
    }
    const pkg = join(dir, 'pptp-ts');
    mkdirSync(pkg);
    for (const f of ['package.json', 'binding.gyp', 'native'])
      cpSync(join(ROOT, f), join(pkg, f), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
    const home = join(dir, 'home');
    mkdirSync(home);
    const r = spawnSync(process.execPath, [join(pkg, 'native', 'install.mjs')], {
      cwd: pkg,
      env: { ...process.env, HOME: home, npm_config_cache: join(home, '.npm') },
      encoding: 'utf8',
      timeout: 600_000,
    });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /no usable prebuilt native addon \(No native build was found/);
    assert.doesNotMatch(`${r.stdout}${r.stderr}`, /https?:\/\/\S*headers/, 'no header download');
    assert.ok(existsSync(join(pkg, 'build', 'Release', 'pptp_io.node')));
    const load = spawnSync(
      process.execPath,
      ['-e', `const a = require('node-gyp-build')(${JSON.stringify(pkg)}); console.log(typeof a.openTun)`],
      { cwd: pkg, encoding: 'utf8', timeout: 20_000 },
    );
    assert.equal(load.status, 0, load.stderr);
    assert.equal(load.stdout.trim(), 'function');
  });
});
