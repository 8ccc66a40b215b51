/**
 * The library's examples (docs/examples/*.ts, shown in docs/api.md): each
 * is type-checked with tsc in strict mode against the library as
 * docs/examples/tsconfig.json maps 'pptp-ts', docs/api.md shows each file
 * exactly, and the decode example runs on a capture and prints what
 * `pptp-ts decode --json` decodes. (The client, server and error examples
 * need namespaces: test/system/api-examples.test.ts runs them.)
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { runDecode } from '../../src/cli/decode.js';
import { decode } from '../../src/index.js';
import { fullSession } from '../decode/fixtures.js';
import { EXAMPLE_ENV, EXAMPLES, exampleArgv, ROOT, TSCONFIG } from './examples.js';

function run(
  argv: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const [cmd, ...args] = argv;
  return new Promise((res) => {
    execFile(
      cmd!,
      args,
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 120_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        res({ code, stdout, stderr });
      },
    );
  });
}

describe('library examples (docs/examples)', () => {
  const names = readdirSync(EXAMPLES)
    .filter((f) => f.endsWith('.ts') && !f.startsWith('zz-bad-'))
    .map((f) => f.slice(0, -3))
    .sort();
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), `pptp-ts-examples-${process.pid}-`));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('has an example for connect, createServer, decode and the errors', () => {
    assert.deepEqual(names, ['connect', 'decode', 'errors', 'server']);
  });

  it('type-checks every example with tsc --strict against the library', async () => {
    const config = readFileSync(TSCONFIG, 'utf8');
    assert.match(config, /"extends": "..\/..\/tsconfig.json"/, 'strict comes from the project config');
    const r = await run([
      join(ROOT, 'node_modules', '.bin', 'tsc'),
      '-p',
      TSCONFIG,
      '--strict',
      '--listFiles',
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const n of names) assert.ok(r.stdout.includes(join(EXAMPLES, `${n}.ts`)), `${n}.ts checked`);
    // Whatever the tsconfig maps 'pptp-ts' to (the sources, or a package's .d.ts) was what got checked.
    const target = /"pptp-ts":\s*\[\s*"([^"]+)"/.exec(config)?.[1];
    assert.ok(target, "docs/examples/tsconfig.json maps 'pptp-ts'");
    assert.ok(r.stdout.includes(resolve(EXAMPLES, target)), `'pptp-ts' resolved to ${target}`);
  });

  it('tsc rejects an example that misuses the API (the check has teeth)', async () => {
    const bad = join(EXAMPLES, `zz-bad-${process.pid}.ts`);
    writeFileSync(bad, "import { connect } from 'pptp-ts';\nconnect({ server: 'x', user: 'u' });\n");
    try {
      const r = await run([join(ROOT, 'node_modules', '.bin', 'tsc'), '-p', TSCONFIG]);
      assert.notEqual(r.code, 0);
      assert.match(r.stdout, /zz-bad-\d+\.ts\(2,9\): error TS2345[\s\S]*'password' is missing/);
    } finally {
      rmSync(bad, { force: true });
    }
  });

  it('docs/api.md shows every example file exactly', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'api.md'), 'utf8');
    for (const n of names) {
      const code = readFileSync(join(EXAMPLES, `${n}.ts`), 'utf8').trimEnd();
      assert.ok(
        doc.includes(`\`\`\`ts\n${code}\n\`\`\``),
        `docs/api.md does not show docs/examples/${n}.ts as it is`,
      );
    }
  });

  it('the decode example prints every packet that decode --json prints', async () => {
    const file = join(dir, 'session.pcap');
    writeFileSync(file, fullSession().pcap('ethernet'));
    const r = await run(exampleArgv('decode', [file]), EXAMPLE_ENV);
    assert.equal(r.code, 0, r.stderr);

    // The CLI's --json output, independently.
    const stdout = new PassThrough();
    const chunks: Buffer[] = [];
    stdout.on('data', (b: Buffer) => chunks.push(b));
    assert.equal(await runDecode(['--json', file], { stdout, stderr: new PassThrough() }), 0);
    const cli = Buffer.concat(chunks)
      .toString()
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { frame: number; time: string; layers: { layer: string }[] });
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('frame '));
    assert.deepEqual(
      lines,
      cli.map((p) => `frame ${p.frame} ${p.time}: ${p.layers.map((l) => l.layer).join(' / ')}`),
    );
    assert.match(r.stdout, /^ {2}PPTP SCCRQ callId=-$/m);
    assert.match(r.stdout, /^ {2}PPTP OCRQ callId=16385$/m);
    assert.match(r.stdout, new RegExp(`^\\d+ frames, ${cli.length} shown, 15 PPTP messages`, 'm'));
  });

  it('the decode example reports a file that is not a capture', async () => {
    const file = join(dir, 'not.pcap');
    writeFileSync(file, 'hello, world, this is not a capture');
    const r = await run(exampleArgv('decode', [file]), EXAMPLE_ENV);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^not a capture: /m);
  });

  it('decode() returns exactly the objects decode --json prints', async () => {
    const pcap = fullSession().pcap('sll');
    const file = join(dir, 'sll.pcap');
    writeFileSync(file, pcap);
    const stdout = new PassThrough();
    const chunks: Buffer[] = [];
    stdout.on('data', (b: Buffer) => chunks.push(b));
    assert.equal(
      await runDecode(['--json', '--all', '--password', 'clientPass', file], {
        stdout,
        stderr: new PassThrough(),
      }),
      0,
    );
    const cli = Buffer.concat(chunks)
      .toString()
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    const result = decode(pcap, { all: true, password: 'clientPass' });
    assert.equal(result.format, 'pcap');
    assert.equal(result.error, undefined);
    assert.deepEqual(JSON.parse(JSON.stringify(result.packets)), cli);
    assert.equal(result.stats.shown, cli.length);
    const cut = decode(pcap.subarray(0, pcap.length - 10));
    assert.equal(cut.error?.code, 'ERR_PPTP_CAPTURE');
    assert.ok(cut.packets.length > 0);
  });
});
