/**
 * What `npm pack` puts in the tarball (package.json `files`,
 * docs/packaging.md): the compiled dist/ with its declarations and source
 * maps, the command, the native sources, the prebuilt binary, README,
 * LICENSE and docs, and nothing from test/, bench/, src/ or the build
 * directories. Runs `npm pack --dry-run --json --ignore-scripts` on the
 * checkout, whose dist/ the test runner (scripts/test.js) has just built.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('npm pack', () => {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  const files = (): string[] => {
    assert.equal(r.status, 0, r.stderr);
    const [pack] = JSON.parse(r.stdout) as [{ files: { path: string }[] }];
    return pack.files.map((f) => f.path).sort();
  };

  it('ships nothing from test/, bench/, src/, build/ or scripts/, and no tsc build info', () => {
    const bad = files().filter((f) => /^(test|bench|src|build|scripts|node_modules)\//.test(f));
    assert.deepEqual(bad, []);
    assert.ok(!files().some((f) => f.endsWith('.tsbuildinfo')));
  });

  it('ships the command, the library with types and maps, the native sources and the prebuilt binary', () => {
    const got = new Set(files());
    for (const f of [
      'package.json',
      'README.md',
      'LICENSE',
      'bin/pptp-ts.js',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/index.js.map',
      'dist/cli/main.js',
      'dist/cli/connect.bundle.js',
      'dist/io/native.js',
      'binding.gyp',
      'native/pptp_io.cc',
      'native/install.mjs',
      'native/build.mjs',
      'native/nodedir.mjs',
      'prebuilds/linux-x64/pptp-ts.glibc.node',
      'prebuilds/linux-x64/SHA256SUMS',
      'docs/packaging.md',
    ]) {
      assert.ok(got.has(f), `${f} in the tarball`);
    }
    for (const doc of readdirSync(`${ROOT}/docs`, { recursive: true, withFileTypes: true })) {
      if (!doc.isFile()) continue;
      const f = relative(ROOT, join(doc.parentPath, doc.name));
      assert.ok(got.has(f), f);
    }
  });

  it('has a compiled .js, .d.ts and .js.map for every source file', () => {
    const got = new Set(files());
    const walk = (dir: string): string[] =>
      readdirSync(`${ROOT}/${dir}`, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(`${dir}/${e.name}`) : [`${dir}/${e.name}`],
      );
    const sources = walk('src').filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
    assert.ok(sources.length > 50);
    const missing = sources.flatMap((src) => {
      const base = `dist/${src.slice('src/'.length, -'.ts'.length)}`;
      return [`${base}.js`, `${base}.d.ts`, `${base}.js.map`].filter((f) => !got.has(f));
    });
    assert.deepEqual(missing, [], 'dist/ is out of date: npm run build');
  });

  it('package.json: exports with types, bin, an install script that needs no compiler when a prebuilt loads', () => {
    const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8'));
    assert.deepEqual(pkg.exports['.'], { types: './dist/index.d.ts', default: './dist/index.js' });
    assert.equal(pkg.types, './dist/index.d.ts');
    assert.equal(pkg.bin['pptp-ts'], 'bin/pptp-ts.js');
    assert.equal(pkg.scripts.install, 'node native/install.mjs');
    assert.ok(pkg.dependencies['node-gyp-build']);
    assert.ok(!pkg.dependencies.tsx, 'tsx is a development dependency only');
    assert.ok(pkg.devDependencies.tsx);
  });
});
