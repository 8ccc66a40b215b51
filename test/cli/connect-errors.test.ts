/**
 * `pptp-ts connect` reports why it failed once, as its last line on stderr
 * (the client's own log keeps the failure at debug level). A refused TCP
 * connection fails before anything on the host is touched.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ExitCode } from '../../src/client/exit-codes.js';

const BIN = fileURLToPath(new URL('../../bin/pptp-ts.js', import.meta.url));

/** A loopback port nobody listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('pptp-ts connect errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pptp-ts-connect-err-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const pw = join(dir, 'pw');
  writeFileSync(pw, 'secret\n', { mode: 0o600 });

  it('a refused connection: its reason once, exit 8', async () => {
    const port = await closedPort();
    const r = spawnSync(
      process.execPath,
      [BIN, 'connect', '127.0.0.1', '--port', String(port), '--user', 'alice', '--password-file', pw],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(r.status, ExitCode.ConnectFailed, r.stderr);
    const reason = `connection refused by 127.0.0.1:${port}`;
    assert.equal(r.stderr.split(reason).length - 1, 1, `the reason once:\n${r.stderr}`);
    assert.ok(r.stderr.endsWith(`pptp-ts connect: ${reason}\n`), r.stderr);
  });

  /** `pptp-ts connect 127.0.0.1` on `port` from `local`. */
  const connectFrom = (local: string, port: number) => [
    BIN,
    'connect',
    '127.0.0.1',
    '--port',
    String(port),
    '--local-address',
    local,
    '--user',
    'alice',
    '--password-file',
    pw,
  ];

  it('a --local-address the host does not have: the reason naming it once, exit 8', async () => {
    const port = await closedPort();
    // 192.0.2.0/24 (RFC 5737) is on no interface here: bind() fails with EADDRNOTAVAIL.
    const r = spawnSync(process.execPath, connectFrom('192.0.2.99', port), {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, ExitCode.ConnectFailed, r.stderr);
    assert.ok(
      r.stderr.endsWith('pptp-ts connect: cannot connect from 192.0.2.99: not an address of this host\n'),
      r.stderr,
    );
  });

  it('connects from --local-address: the server sees the connection come from it', async () => {
    const from: (string | undefined)[] = [];
    const server = createServer((s) => {
      from.push(s.remoteAddress);
      s.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const child = spawn(process.execPath, connectFrom('127.0.0.2', port), {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => child.kill(), 60_000);
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      clearTimeout(timer);
      assert.deepEqual(from, ['127.0.0.2'], stderr);
      assert.notEqual(code, 0, 'the server hung up at once');
    } finally {
      server.close();
    }
  });

  it('an unreadable password file: the reason once, no "ENOENT ENOENT"', () => {
    const missing = join(dir, 'nope');
    const r = spawnSync(
      process.execPath,
      [BIN, 'connect', '127.0.0.1', '--user', 'alice', '--password-file', missing],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    assert.equal(r.status, ExitCode.Usage);
    assert.equal(
      r.stderr,
      `pptp-ts connect: --password-file: cannot read ${missing}: no such file or directory (ENOENT)\n(see pptp-ts connect --help)\n`,
    );
  });
});
