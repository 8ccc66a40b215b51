/**
 * `pptp-ts serve` as a process, up to the point where it would need root:
 * --check validates the config and the secrets file; bad input exits 2
 * naming the key or the file line; unknown flags are refused. And the
 * server's own rules that need no network: chap-secrets server-column
 * matching and the per-session interface pattern.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
