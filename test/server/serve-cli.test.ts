/**
 * `pptp-ts serve` as a process, up to the point where it would need root:
 * --check validates the config and the secrets file; bad input exits 2
 * naming the key or the file line; unknown flags are refused. And the
 * server's own rules that need no network: chap-secrets server-column
 * matching and the per-session interface pattern.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ExitCode } from '../../src/client/exit-codes.js';
import { perSessionPattern } from '../../src/server/server.js';
import { serverConfig, World } from '../e2e/world.js';

const BIN = fileURLToPath(new URL('../../bin/pptp-ts.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pptp-ts-serve-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function serve(...args: string[]) {
  return spawnSync(process.execPath, [BIN, 'serve', ...args], { encoding: 'utf8', timeout: 30_000 });
}

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('pptp-ts serve', () => {
  const secrets = write('secrets', 'alice * pw *\nbob * pw2 10.9.0.50\n');
  const good = { 'local-ip': '10.9.0.1', pool: '10.9.0.10-10.9.0.20', secrets };

  it('--check accepts a valid config and secrets file', () => {
    const r = serve('--config', write('ok.json', JSON.stringify(good)), '--check');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /ok\.json: OK \(2 secrets\)/);
  });

  it('a bad config key exits 2 and names the key', () => {
    const r = serve(
      '--config',
      write('bad.json', JSON.stringify({ ...good, ppp: { 'lcp-echo-intervall': 5 } })),
    );
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown key "ppp\.lcp-echo-intervall"/);
    const r2 = serve('--config', write('bad2.json', JSON.stringify({ ...good, 'local-ip': 'ten' })));
    assert.equal(r2.status, 2);
    assert.match(r2.stderr, /local-ip: not an IPv4 address/);
  });

  it('a bad secrets file exits 2 and names the line', () => {
    const s = write('bad-secrets', 'alice * pw *\nbob * pw2 host.example\n');
    const r = serve('--config', write('s.json', JSON.stringify({ ...good, secrets: s })), '--check');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /bad-secrets:2: 'host\.example' is not an IPv4 address/);
  });

  it('--check rejects what would fail at run time, one line each, exit 2', () => {
    const cases: [string, object, string, RegExp][] = [
      [
        'empty-pool',
        { pool: '10.9.0.1' },
        'alice * pw *\n',
        /^pptp-ts serve: pool: '10\.9\.0\.1' holds only local-ip 10\.9\.0\.1; no address is left for clients\n$/,
      ],
      [
        'fixed-local',
        {},
        'alice * pw 10.9.0.1\n',
        /^pptp-ts serve: \S+fixed-local\.secrets:1: fixed address 10\.9\.0\.1 is local-ip, the server's own end of every tunnel\n$/,
      ],
      [
        'fixed-twice',
        {},
        'alice * pw 10.9.0.60\nbob * pw 10.9.0.60\n',
        /^pptp-ts serve: \S+fixed-twice\.secrets:2: fixed address 10\.9\.0\.60 is already given on line 1\n$/,
      ],
      [
        'nomppe',
        { ppp: { nomppe: true, 'require-mppe-128': true } },
        'alice * pw *\n',
        /^pptp-ts serve: \S+nomppe\.json: ppp: "nomppe": true contradicts "require-mppe-128": true \(MPPE cannot be off and required\)\n\(see pptp-ts serve --help\)\n$/,
      ],
    ];
    for (const [name, over, secretsText, want] of cases) {
      const sp = write(`${name}.secrets`, secretsText);
      chmodSync(sp, 0o600);
      const r = serve(
        '--config',
        write(`${name}.json`, JSON.stringify({ ...good, secrets: sp, ...over })),
        '--check',
      );
      assert.equal(r.status, 2, `${name}: ${r.stderr}`);
      assert.equal(r.stdout, '', name);
      assert.match(r.stderr, want, name);
    }
  });

  it('--check warns, as pppd does, about a secrets file with group or world access, and still passes', () => {
    const sp = write('open.secrets', 'alice * pw *\n');
    chmodSync(sp, 0o644);
    const r = serve('--config', write('open.json', JSON.stringify({ ...good, secrets: sp })), '--check');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stderr,
      `pptp-ts serve: warning: ${sp} has group and/or world access (mode 644): chmod 600 ${sp}\n`,
    );
    chmodSync(sp, 0o600);
    const q = serve('--config', join(dir, 'open.json'), '--check');
    assert.equal(q.stderr, '');
  });

  it('usage errors exit 2; --help exits 0', () => {
    assert.equal(serve().status, 2);
    const r = serve('--config', 'x', '--frobnicate');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /Unknown option '--frobnicate'/);
    const h = serve('--help');
    assert.equal(h.status, 0);
    assert.match(h.stdout, /SIGUSR1/);
  });

  it('per-session interfaces are numbered from the configured name', () => {
    assert.equal(perSessionPattern('pptps0'), 'pptps%d');
    assert.equal(perSessionPattern('vpn'), 'vpn%d');
    assert.equal(perSessionPattern('ppp%d'), 'ppp%d');
  });

  it("chap-secrets: an entry naming this server beats a wildcard one, and another server's is ignored", async () => {
    const w = new World({
      config: serverConfig({ name: 'gw1' }),
      secrets: 'dave gw2 other-server *\ndave * wildcard *\ndave gw1 exact 10.99.0.42\n',
    });
    await w.start();
    const wrong = w.startClient({ user: 'dave', password: 'wildcard' });
    assert.equal((await w.wait(wrong.outcome)).code, ExitCode.AuthFailed);
    const other = w.startClient({ user: 'dave', password: 'other-server' });
    assert.equal((await w.wait(other.outcome)).code, ExitCode.AuthFailed);
    const ok = w.startClient({ user: 'dave', password: 'exact' });
    assert.equal((await w.wait(ok.up)).localAddress, '10.99.0.42');
    ok.client.stop();
    await w.wait(ok.outcome);
    await w.wait(w.server.shutdown());
  });
});
