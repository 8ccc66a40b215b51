/**
 * The sd_notify protocol of src/io/sd-notify.ts against a real unix datagram
 * socket bound by python3: what arrives, in which order, for a path and an
 * abstract socket; the watchdog keep-alives at half WATCHDOG_USEC; the
 * environment cleaned for child processes; a missing socket logged once,
 * never thrown.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SdNotifier } from '../../src/io/sd-notify.js';
import { NotifyReceiver } from '../helpers/notify-socket.js';
import { CapturingLogger } from '../ppp/auth/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'pptp-ts-notify-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('sd_notify over a real unix datagram socket', () => {
  for (const kind of ['path', 'abstract'] as const) {
    it(`READY=1 with STATUS, STATUS, STOPPING=1 arrive in order (${kind} socket)`, async () => {
      const path = kind === 'path' ? join(dir, 'notify.sock') : `@pptp-ts-test-${process.pid}`;
      const rx = await NotifyReceiver.start(path);
      const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: path, OTHER: 'kept' };
      const n = new SdNotifier({ env });
      assert.equal(n.enabled, true);
      assert.deepEqual(env, { OTHER: 'kept' }, 'NOTIFY_SOCKET is not passed on to children');
      n.ready('listening on 0.0.0.0:1723');
      n.status('2 sessions\n(2 up)');
      n.stopping('shutting down');
      n.close();
      await rx.waitFor(/^STOPPING=1$/);
      assert.deepEqual(rx.datagrams, [
        'READY=1\nSTATUS=listening on 0.0.0.0:1723',
        'STATUS=2 sessions (2 up)',
        'STOPPING=1\nSTATUS=shutting down',
      ]);
      rx.close();
    });
  }

  it('sends WATCHDOG=1 every half WATCHDOG_USEC once ready, and stops on close', async () => {
    const path = join(dir, 'watchdog.sock');
    const rx = await NotifyReceiver.start(path);
    const n = new SdNotifier({ env: { NOTIFY_SOCKET: path, WATCHDOG_USEC: '200000' } });
    assert.equal(n.watchdogIntervalMs, 100);
    n.ready('up');
    await rx.waitFor(/^WATCHDOG=1$/, 5000);
    n.close();
    await new Promise((r) => setTimeout(r, 300));
    const count = rx.lines().filter((l) => l === 'WATCHDOG=1').length;
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(rx.lines().filter((l) => l === 'WATCHDOG=1').length, count, 'keep-alives after close');
    rx.close();
  });

  it('ignores WATCHDOG_USEC meant for another process (WATCHDOG_PID)', () => {
    const env = { NOTIFY_SOCKET: '/nonexistent', WATCHDOG_USEC: '200000', WATCHDOG_PID: '1' };
    assert.equal(new SdNotifier({ env, pid: 4242 }).watchdogIntervalMs, undefined);
  });

  it('does nothing without NOTIFY_SOCKET, and logs a failed send once without throwing', () => {
    const sent: string[] = [];
    const off = new SdNotifier({ env: {}, send: (_p, m) => sent.push(m) });
    off.ready('x');
    assert.deepEqual(sent, []);
    const log = new CapturingLogger();
    const n = new SdNotifier({ env: { NOTIFY_SOCKET: join(dir, 'nobody-listens.sock') }, log });
    n.ready('x');
    n.status('y');
    n.stopping('z');
    n.close();
    assert.equal(log.lines.length, 1);
    assert.match(log.lines[0]!, /^warn .*systemd notification not sent.*ENOENT/);
  });
});
