/**
 * What a user does with the package (docs/packaging.md): `npm pack` the
 * checkout (its `prepare` script compiles dist/), install the tarball
 * globally into a scratch prefix with a PATH on which no compiler or make
 * exists (only node, npm and the few tools the commands run: sh, env, ip),
 * then run the installed `pptp-ts`: --version, `decode` on a capture, and a
 * real tunnel between the installed `pptp-ts serve` and `pptp-ts connect` in
 * two network namespaces, with a ping through it.
 *
 * The install must take the prebuilt native addon (no build/ directory
 * appears, nothing could have compiled it) and must not bring tsx: the
 * installed command runs compiled JavaScript only. npm fetches the runtime
 * dependencies from its cache or the registry as for any user.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fullSession } from '../decode/fixtures.js';
import { createLab, listNamespaces } from '../helpers/netns.js';
import { requireRoot } from '../helpers/tools.js';
import {
  ROOT,
  SERVER_IP,
  TUNNEL_LOCAL,
  waitExit,
  waitUp,
  writePassword,
  writeServerConfig,
} from './tunnel-lab.js';

/** The tools the restricted PATH offers: npm runs scripts with sh; the server runs ip through sh. */
const TOOLS = ['node', 'npm', 'sh', 'env', 'ip'];
const HIDDEN = ['g++', 'gcc', 'cc', 'c++', 'make'];

/** Absolute path of `name` on the current PATH, or undefined. */
function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, name);
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

describe('the packed tarball, installed globally without a compiler', () => {
  before(() => requireRoot());
  const scratch = join(tmpdir(), `pptp-ts-package-${process.pid}`);
  const prefix = join(scratch, 'prefix');
  const tools = join(scratch, 'tools');
  const installed = join(prefix, 'lib', 'node_modules', 'pptp-ts');
  const pptpTs = join(prefix, 'bin', 'pptp-ts');
  const PATH = [join(prefix, 'bin'), tools].join(delimiter);
  const env = { ...process.env, PATH };
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  let tarball = '';
  const exampleDir = join(scratch, 'examples');

  /** tsc (the repository's) on the scratch examples project, listing the files it read. */
  function tscExamples(...extra: string[]) {
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    return spawnSync(
      process.execPath,
      [tsc, '-p', join(exampleDir, 'tsconfig.json'), '--listFiles', ...extra],
      {
        cwd: exampleDir,
        env,
        encoding: 'utf8',
        timeout: 180_000,
      },
    );
  }

  before(() => {
    rmSync(scratch, { recursive: true, force: true });
    mkdirSync(tools, { recursive: true });
    for (const t of TOOLS) {
      const p = which(t);
      if (!p) throw new Error(`${t} is not on PATH (apt-get install -y iproute2 for ip)`);
      symlinkSync(p, join(tools, t));
    }
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('the restricted PATH has no compiler or make', () => {
    for (const h of HIDDEN) {
      const r = spawnSync('sh', ['-c', `command -v ${h}`], { env, encoding: 'utf8' });
      assert.notEqual(r.status, 0, `${h} found on the restricted PATH: ${r.stdout}`);
    }
  });

  it('npm pack builds dist/ and writes the tarball', () => {
    const r = spawnSync('npm', ['pack', '--json', '--pack-destination', scratch], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 300_000,
    });
    assert.equal(r.status, 0, r.stderr);
    // prepare's output (tsc) comes before the JSON on stdout.
    const json = JSON.parse(r.stdout.slice(r.stdout.indexOf('[\n'))) as [{ filename: string }];
    tarball = join(scratch, json[0].filename);
    assert.ok(existsSync(tarball), tarball);
  });

  it('npm install -g TARBALL --prefix SCRATCH needs no compiler and brings no tsx', () => {
    assert.ok(tarball, 'packed');
    const r = spawnSync(
      'npm',
      ['install', '-g', tarball, '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund'],
      { env, encoding: 'utf8', timeout: 300_000 },
    );
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.ok(existsSync(pptpTs), `${pptpTs} installed`);
    assert.equal(existsSync(join(installed, 'build')), false, 'nothing was compiled at install');
    assert.ok(existsSync(join(installed, 'prebuilds', 'linux-x64', 'pptp-ts.glibc.node')));
    // `connect` runs from its one-file bundle (scripts/bundle.js), which the tarball must carry.
    assert.ok(existsSync(join(installed, 'dist', 'cli', 'connect.bundle.js')), 'the connect bundle');
    assert.equal(existsSync(join(installed, 'node_modules', 'tsx')), false, 'tsx is not installed');
    assert.equal(existsSync(join(prefix, 'lib', 'node_modules', 'tsx')), false, 'tsx is not installed');
    for (const dir of ['test', 'bench', 'src']) assert.equal(existsSync(join(installed, dir)), false, dir);
  });

  it('pptp-ts --version prints the package version', () => {
    const r = spawnSync(pptpTs, ['--version'], { env, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `pptp-ts ${pkg.version}\n`);
  });

  it("import 'pptp-ts' resolves through exports to the compiled library with its types", () => {
    const app = join(scratch, 'app');
    mkdirSync(join(app, 'node_modules'), { recursive: true });
    symlinkSync(installed, join(app, 'node_modules', 'pptp-ts'));
    const r = spawnSync(
      'node',
      ['--input-type=module', '-e', "console.log(import.meta.resolve('pptp-ts')); await import('pptp-ts');"],
      { cwd: app, env, encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), `file://${join(installed, 'dist', 'index.js')}`);
    assert.ok(existsSync(join(installed, 'dist', 'index.d.ts')));
  });

  it('pptp-ts decode reads a capture as the sources do', () => {
    const pcap = join(scratch, 'session.pcap');
    writeFileSync(pcap, fullSession().pcap('ethernet'));
    const r = spawnSync(pptpTs, ['decode', '--json', pcap], { env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.ok(lines.length > 20, `${lines.length} packets`);
    assert.match(r.stdout, /"Start-Control-Connection-Request"|SCCRQ/);
    assert.match(r.stdout, /"layer":"PPP"/);
    // The same objects as the TypeScript sources print (run through tsx from the checkout).
    const src = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'decode', '--json', pcap],
      { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(src.status, 0, src.stderr);
    assert.equal(r.stdout, src.stdout);
  });

  it('every docs/examples/*.ts type-checks with tsc --strict against the installed .d.ts', () => {
    // A scratch project as a user would have: node_modules/pptp-ts is the installed package (no
    // `paths` mapping, nothing from src/), NodeNext resolution through its `exports`, and the
    // shipped .d.ts checked too (skipLibCheck off). The emitted JavaScript is what runs below.
    const examples = join(ROOT, 'docs', 'examples');
    const names = readdirSync(examples)
      .filter((f) => f.endsWith('.ts') && !f.startsWith('zz-bad-'))
      .sort();
    assert.deepEqual(names, ['connect.ts', 'decode.ts', 'errors.ts', 'server.ts']);
    mkdirSync(join(exampleDir, 'node_modules', '@types'), { recursive: true });
    symlinkSync(installed, join(exampleDir, 'node_modules', 'pptp-ts'));
    symlinkSync(
      join(ROOT, 'node_modules', '@types', 'node'),
      join(exampleDir, 'node_modules', '@types', 'node'),
    );
    for (const n of names) copyFileSync(join(examples, n), join(exampleDir, n));
    writeFileSync(join(exampleDir, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
    writeFileSync(
      join(exampleDir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          target: 'ES2022',
          lib: ['ES2023'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          types: ['node'],
          skipLibCheck: false,
          rootDir: '.',
          outDir: 'out',
        },
        include: ['*.ts'],
      }),
    );
    const r = tscExamples();
    assert.equal(r.status, 0, r.stdout + r.stderr);
    for (const n of names) assert.ok(r.stdout.includes(join(exampleDir, n)), `${n} checked`);
    assert.ok(r.stdout.includes(join(installed, 'dist', 'index.d.ts')), "'pptp-ts' is the installed .d.ts");
    assert.ok(!r.stdout.includes(join(ROOT, 'src')), 'nothing from the sources was checked');
    for (const n of names) assert.ok(existsSync(join(exampleDir, 'out', n.replace(/\.ts$/, '.js'))), n);
  });

  it('tsc against the installed .d.ts rejects an example that misuses the API', () => {
    const bad = join(exampleDir, 'zz-bad.ts');
    writeFileSync(bad, "import { connect } from 'pptp-ts';\nconnect({ server: 'x', user: 'u' });\n");
    try {
      const r = tscExamples('--noEmit');
      assert.notEqual(r.status, 0);
      assert.match(r.stdout, /zz-bad\.ts\(2,9\): error TS2345[\s\S]*'password' is missing/);
    } finally {
      rmSync(bad, { force: true });
    }
  });

  it('the decode example, compiled, runs on plain node against the installed package', () => {
    const out = join(exampleDir, 'out', 'decode.js');
    assert.ok(existsSync(out), 'compiled by the type-check step');
    const pcap = join(scratch, 'example.pcap');
    writeFileSync(pcap, fullSession().pcap('ethernet'));
    const r = spawnSync('node', [out, pcap], { cwd: exampleDir, env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    // The installed CLI's --json output is the oracle for the frames the example lists.
    const cli = spawnSync(pptpTs, ['decode', '--json', pcap], { env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(cli.status, 0, cli.stderr);
    const packets = cli.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { frame: number; time: string; layers: { layer: string }[] });
    assert.deepEqual(
      r.stdout.split('\n').filter((l) => l.startsWith('frame ')),
      packets.map((p) => `frame ${p.frame} ${p.time}: ${p.layers.map((l) => l.layer).join(' / ')}`),
    );
    assert.match(r.stdout, /^ {2}PPTP OCRQ callId=16385$/m);
    assert.match(r.stdout, new RegExp(`^\\d+ frames, ${packets.length} shown, 15 PPTP messages`, 'm'));
    // Really the installed package: the example's import resolved into the scratch prefix.
    const where = spawnSync(
      'node',
      ['--input-type=module', '-e', "console.log(import.meta.resolve('pptp-ts'))"],
      {
        cwd: exampleDir,
        env,
        encoding: 'utf8',
      },
    );
    assert.equal(where.stdout.trim(), `file://${join(installed, 'dist', 'index.js')}`);
  });

  describe('a tunnel between the installed serve and connect', () => {
    const lab = createLab('pkg');
    const confDir = join(scratch, 'conf');

    it('comes up, pings, and both exit 0 on SIGTERM', async () => {
      assert.ok(existsSync(pptpTs), 'installed');
      mkdirSync(confDir, { recursive: true });
      const server = await lab.addNamespace('srv');
      const client = await lab.addNamespace('cli');
      await lab.addVeth(server, 'vsrv', client, 'vcli');
      await lab.exec(server, ['ip', 'addr', 'add', `${SERVER_IP}/24`, 'dev', 'vsrv']);
      await lab.exec(client, ['ip', 'addr', 'add', '198.51.100.2/24', 'dev', 'vcli']);

      // `ip netns exec NS env PATH=... pptp-ts ...`: the installed command, the restricted PATH.
      const installedCmd = ['env', `PATH=${PATH}`, pptpTs];
      const srv = lab.spawn(server, [...installedCmd, 'serve', '--config', writeServerConfig(confDir)]);
      await srv.waitFor(/listening on /, 30_000);
      const cli = lab.spawn(client, [
        ...installedCmd,
        'connect',
        SERVER_IP,
        '--user',
        'alice',
        '--password-file',
        writePassword(confDir, 'correct horse'),
        '--mppe',
        'required,128',
      ]);
      const up = await waitUp(cli, 30_000);
      assert.equal(up.remote, TUNNEL_LOCAL);
      assert.equal(up.auth, 'MS-CHAP-v2');
      assert.equal(up.mppe, '128-bit stateless');

      // Both are the installed command run by plain node, with no loader.
      for (const p of [srv, cli]) {
        const argv = readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').split('\0');
        assert.equal(argv[1], join(prefix, 'bin', 'pptp-ts'), argv.join(' '));
        assert.ok(!argv.some((a) => /tsx|--import|--loader/.test(a)), argv.join(' '));
        const maps = readFileSync(`/proc/${p.pid}/maps`, 'utf8');
        assert.ok(maps.includes(join(installed, 'prebuilds', 'linux-x64', 'pptp-ts.glibc.node')), 'prebuilt');
      }

      const ping = await lab.exec(client, ['ping', '-c', '3', '-i', '0.2', '-W', '2', TUNNEL_LOCAL]);
      assert.match(ping.stdout, /3 received/);

      await cli.kill();
      const cexit = await waitExit(cli);
      assert.equal(cexit.code, 0, cexit.stderr);
      await srv.kill();
      const sexit = await waitExit(srv);
      assert.equal(sexit.code, 0, sexit.stderr);
    });

    it('leaves no namespace behind', async () => {
      await lab.cleanup();
      assert.deepEqual(
        (await listNamespaces()).filter((n) => n.startsWith(lab.prefix)),
        [],
      );
    });
  });

  it('the scratch prefix is removable and holds only what npm installed', () => {
    assert.deepEqual(readdirSync(prefix).sort(), ['bin', 'lib']);
  });
});
