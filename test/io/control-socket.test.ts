/**
 * The management socket's bounds and permissions (src/io/control-socket.ts):
 * 0600 in a 0700 directory, one JSON answer per request line, bad JSON and
 * over-long requests answered with an error, a cap on connections, a stale
 * socket file replaced and a live one refused.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  CONTROL_MAX_CLIENTS,
  CONTROL_MAX_REQUEST_BYTES,
  ControlSocketBusyError,
  controlRequest,
  listenControlSocket,
} from '../../src/io/control-socket.js';
import { createMemoryLogger } from '../../src/io/log.js';

const dir = mkdtempSync(join(tmpdir(), 'pptp-ts-ctl-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Sends raw bytes and collects what comes back until the server closes or `ms` pass. */
function raw(path: string, data: string, ms = 2000): Promise<string> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    let got = '';
    const t = setTimeout(() => {
      s.destroy();
      resolve(got);
    }, ms);
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      got += d;
    });
    s.on('close', () => {
      clearTimeout(t);
      resolve(got);
    });
    s.on('error', () => {});
    s.write(data);
  });
}

describe('control socket', () => {
  it('answers requests line by line, root only, and refuses what it cannot take', async () => {
    const path = join(dir, 'sub', 'a.sock');
    const sock = await listenControlSocket(
      path,
      (req) => {
        if (req.cmd === 'boom') throw new Error('it broke');
        return { ok: true, echo: req.cmd };
      },
      createMemoryLogger(),
    );
    try {
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.equal(statSync(join(dir, 'sub')).mode & 0o777, 0o700);
      assert.deepEqual(await controlRequest(path, { cmd: 'hello' }), { ok: true, echo: 'hello' });
      assert.deepEqual(await controlRequest(path, { cmd: 'boom' }), { ok: false, error: 'it broke' });
      const two = await raw(path, 'not json\n{"x":1}\n', 500);
      assert.deepEqual(
        two
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l)),
        [
          { ok: false, error: 'not JSON' },
          { ok: false, error: 'expected {"cmd": "..."}' },
        ],
      );
      const long = await raw(path, `{"cmd":"${'x'.repeat(CONTROL_MAX_REQUEST_BYTES + 10)}`);
      assert.match(long, /request longer than 4096 bytes/);

      // More connections than allowed: the extra one is told and closed.
      const idle = Array.from({ length: CONTROL_MAX_CLIENTS }, () =>
        createConnection(path).on('error', () => {}),
      );
      await Promise.all(idle.map((s) => new Promise((r) => s.once('connect', r))));
      await new Promise((r) => setTimeout(r, 100));
      const refused = await raw(path, '{"cmd":"hello"}\n');
      for (const s of idle) s.destroy();
      assert.match(refused, /too many management connections/);

      // A second listener on a live socket is refused.
      await assert.rejects(
        listenControlSocket(path, () => ({}), createMemoryLogger()),
        ControlSocketBusyError,
      );
    } finally {
      await sock.close();
    }
    assert.throws(() => statSync(path), 'the socket file goes at close');
  });

  it('replaces a stale socket file nobody answers', async () => {
    const path = join(dir, 'stale.sock');
    // A listener killed before it could remove its file.
    const r = spawnSync(process.execPath, [
      '-e',
      `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]);
    assert.equal(r.signal, 'SIGKILL');
    assert.ok(statSync(path).isSocket(), 'the stale socket file is there');
    const a = await listenControlSocket(path, () => ({ ok: true }), createMemoryLogger());
    try {
      assert.deepEqual(await controlRequest(path, { cmd: 'x' }), { ok: true });
    } finally {
      await a.close();
    }
  });
});
