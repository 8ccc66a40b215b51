/**
 * What the `pptp-ts` command loads (docs/packaging.md, "Start-up and
 * memory"): `--version` reads package.json and loads no module of dist/;
 * each command loads only its own code, and `connect` loads the one-file
 * bundle that `npm run build` writes (scripts/bundle.js), which holds the
 * client and nothing of the server, decode, demo, library API or zod.
 * Module loads are observed with a module.register() load hook, an oracle
 * independent of the code under test. Runs on the checkout's dist/, which
 * the test runner (scripts/test.js) has just built.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'pptp-ts.js');
const BUNDLE = join(ROOT, 'dist', 'cli', 'connect.bundle.js');

describe('what the pptp-ts command loads', () => {
  let dir = '';
  let register = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), `pptp-ts-lean-${process.pid}-`));
    // Every ES module Node loads, as a `LOADED url` line on stderr (hooks run off the main thread).
    writeFileSync(
      join(dir, 'hooks.mjs'),
      "import { writeSync } from 'node:fs';\n" +
        'export async function load(url, context, next) {\n' +
        "  writeSync(2, 'LOADED ' + url + '\\n');\n" +
        '  return next(url, context);\n' +
        '}\n',
    );
    register = join(dir, 'register.mjs');
    writeFileSync(
      register,
      `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`,
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the command with the load hook; the file: modules it loaded, relative to the checkout. */
  function loaded(args: readonly string[]): { status: number | null; stdout: string; files: string[] } {
    const r = spawnSync(process.execPath, ['--import', pathToFileURL(register).href, BIN, ...args], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    const files = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('LOADED file:'))
      .map((l) => fileURLToPath(l.slice('LOADED '.length)))
      .filter((f) => f !== register)
      .map((f) => (f.startsWith(ROOT) ? f.slice(ROOT.length) : f));
    return { status: r.status, stdout: r.stdout, files };
  }

  it('--version loads the command file only, and needs nothing beside it but package.json', () => {
    const r = loaded(['--version']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^pptp-ts \d+\.\d+\.\d+/);
    assert.deepEqual(r.files, ['bin/pptp-ts.js']);
    // The same command with no dist/ at all beside it.
    const alone = join(dir, 'alone');
    mkdirSync(join(alone, 'bin'), { recursive: true });
    copyFileSync(BIN, join(alone, 'bin', 'pptp-ts.js'));
    copyFileSync(join(ROOT, 'package.json'), join(alone, 'package.json'));
    const v = spawnSync(process.execPath, [join(alone, 'bin', 'pptp-ts.js'), '--version'], {
      encoding: 'utf8',
    });
    assert.equal(v.status, 0, v.stderr);
    assert.equal(v.stdout, r.stdout);
  });

  it('--help loads the dispatcher and nothing else', () => {
    const r = loaded(['--help']);
    assert.equal(r.status, 0);
    assert.deepEqual(r.files, ['bin/pptp-ts.js', 'dist/cli/main.js']);
  });

  it('connect loads its bundle: three modules in all', () => {
    assert.ok(existsSync(BUNDLE), 'npm run build writes dist/cli/connect.bundle.js');
    const r = loaded(['connect', '--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^usage: pptp-ts connect /);
    assert.deepEqual(r.files, ['bin/pptp-ts.js', 'dist/cli/main.js', 'dist/cli/connect.bundle.js']);
  });

  it('decode loads the decoder and not the client, server or zod', () => {
    const r = loaded(['decode', '--help']);
    assert.equal(r.status, 0);
    assert.ok(r.files.includes('dist/cli/decode.js'), r.files.join('\n'));
    const stray = r.files.filter((f) =>
      /^dist\/(client|server|api)\/|^dist\/cli\/(connect|serve|demo)|node_modules\/zod\//.test(f),
    );
    assert.deepEqual(stray, []);
  });

  it('the connect bundle holds the client and none of server, decode, demo, the library API or zod', () => {
    const map = JSON.parse(readFileSync(`${BUNDLE}.map`, 'utf8')) as { sources: string[] };
    const sources = map.sources.map((s) => s.replace(/^(\.\.\/)+/, ''));
    for (const need of ['src/cli/connect.ts', 'src/client/client.ts', 'src/io/tun.ts', 'des.js/lib/des.js'])
      assert.ok(
        sources.some((s) => s.endsWith(need)),
        `${need} in the bundle`,
      );
    const stray = sources.filter((s) =>
      /src\/(server|decode|capture|api)\/|src\/cli\/(demo|serve|decode)|\/zod\//.test(s),
    );
    assert.deepEqual(stray, []);
    // Self-contained: no static import of another file of dist/ (node: built-ins and
    // node-gyp-build only); the only files loaded later are the two an option asks for
    // (--metrics: prom-client, --profile: zod), and those exist beside the bundle.
    const js = readFileSync(BUNDLE, 'utf8');
    assert.doesNotMatch(js, /\bfrom\s*["']\.\.?\//);
    const lazy = [...js.matchAll(/\bimport\(\s*["'](\.\.?\/[^"']+)["']/g)].map((m) => m[1]!);
    assert.deepEqual(lazy.sort(), ['./connect-metrics.js', './profile.js']);
    for (const f of lazy) assert.ok(existsSync(new URL(f, pathToFileURL(BUNDLE))), `${f} beside the bundle`);
  });
});
