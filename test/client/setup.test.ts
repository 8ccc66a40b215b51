/**
 * The client's set-up steps under one AbortSignal (src/client/setup.ts):
 * a step gives up at once when the signal aborts, closes what it makes too
 * late, hands over what it made before failing, and maps each failure to
 * its exit code.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExitCode } from '../../src/client/exit-codes.js';
import type { ClientEnv, GreLease } from '../../src/client/options.js';
import {
  ClientFailure,
  connectTcp,
  openTunnel,
  resolveServer,
  unlessAborted,
} from '../../src/client/setup.js';
import type { TcpSocket } from '../../src/io/tcp.js';
import type { TunDevice } from '../../src/io/types.js';

/** A promise and the functions that settle it. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A socket that records whether it was destroyed. */
function fakeSocket(localAddress = '192.0.2.10'): TcpSocket & { destroyed: boolean } {
  const s = {
    localAddress,
    destroyed: false,
    on() {
      return s;
    },
    destroy() {
      s.destroyed = true;
    },
  };
  return s as unknown as TcpSocket & { destroyed: boolean };
}

function envWith(parts: Partial<ClientEnv>): ClientEnv {
  return parts as ClientEnv;
}

const ended = () => new Error('attempt ended');

describe('client set-up steps under one AbortSignal', () => {
  it('unlessAborted passes the value through while the signal stays quiet', async () => {
    const c = new AbortController();
    assert.equal(await unlessAborted(c.signal, Promise.resolve(42)), 42);
  });

  it('unlessAborted rejects with the reason as soon as the signal aborts, and disposes of a late value', async () => {
    const c = new AbortController();
    const d = deferred<string>();
    const disposed: string[] = [];
    const waiting = unlessAborted(c.signal, d.promise, (late) => disposed.push(late));
    const reason = ended();
    c.abort(reason);
    await assert.rejects(waiting, (err) => err === reason);
    assert.deepEqual(disposed, [], 'nothing arrived yet');
    d.resolve('late socket');
    await d.promise;
    await Promise.resolve();
    assert.deepEqual(disposed, ['late socket']);
  });

  it('unlessAborted on a signal already aborted rejects at once', async () => {
    const c = new AbortController();
    const reason = ended();
    c.abort(reason);
    await assert.rejects(unlessAborted(c.signal, new Promise(() => {})), (err) => err === reason);
  });

  it('unlessAborted: a failure after the abort is swallowed, not unhandled', async () => {
    const c = new AbortController();
    const d = deferred<number>();
    const waiting = unlessAborted(c.signal, d.promise);
    c.abort(ended());
    await assert.rejects(waiting);
    d.reject(new Error('too late to matter'));
    await d.promise.catch(() => {});
  });

  it('resolveServer: a dotted quad needs no resolver; a name without one is a connect failure', async () => {
    const signal = new AbortController().signal;
    assert.equal(await resolveServer('198.51.100.1', envWith({}), signal), '198.51.100.1');
    await assert.rejects(
      resolveServer('vpn.example', envWith({}), signal),
      (err) => err instanceof ClientFailure && err.code === ExitCode.ConnectFailed,
    );
  });

  it('connectTcp: stop during the connect closes the connection that completes afterwards', async () => {
    const c = new AbortController();
    const d = deferred<TcpSocket>();
    const made: TcpSocket[] = [];
    const env = envWith({ tcp: { connect: () => d.promise, listen: () => Promise.reject(new Error('no')) } });
    const step = connectTcp('198.51.100.1', 1723, { timeoutMs: 1000 }, env, c.signal, (s) => made.push(s));
    const reason = ended();
    c.abort(reason);
    await assert.rejects(step, (err) => err === reason);
    const late = fakeSocket();
    d.resolve(late);
    await d.promise;
    await Promise.resolve();
    assert.equal(late.destroyed, true, 'the late connection is closed by the step');
    assert.deepEqual(made, [], 'and never handed to the client');
  });

  it('connectTcp: a refused connection is a connect failure naming the server', async () => {
    const err: NodeJS.ErrnoException = new Error('connect ECONNREFUSED');
    err.code = 'ECONNREFUSED';
    const env = envWith({ tcp: { connect: () => Promise.reject(err), listen: () => Promise.reject(err) } });
    await assert.rejects(
      connectTcp('198.51.100.1', 1723, { timeoutMs: 1000 }, env, new AbortController().signal, () => {}),
      (e) =>
        e instanceof ClientFailure &&
        e.code === ExitCode.ConnectFailed &&
        e.message === 'connection refused by 198.51.100.1:1723',
    );
  });

  it('connectTcp: a connection not over IPv4 is handed over first, then refused', async () => {
    const s = fakeSocket('2001:db8::1');
    const made: TcpSocket[] = [];
    const env = envWith({
      tcp: { connect: () => Promise.resolve(s), listen: () => Promise.reject(new Error('no')) },
    });
    await assert.rejects(
      connectTcp('198.51.100.1', 1723, { timeoutMs: 1000 }, env, new AbortController().signal, (m) =>
        made.push(m),
      ),
      (e) => e instanceof ClientFailure && e.code === ExitCode.ConnectFailed,
    );
    assert.deepEqual(made, [s], 'the caller owns it, so its teardown closes it');
  });

  it('connectTcp: with a local address, connects from it and refuses a connection from another', async () => {
    const asked: (string | undefined)[] = [];
    const from = (address: string) =>
      envWith({
        tcp: {
          connect: (_h, _p, o) => {
            asked.push(o?.localAddress);
            return Promise.resolve(fakeSocket(address));
          },
          listen: () => Promise.reject(new Error('no')),
        },
      });
    const signal = new AbortController().signal;
    const how = { timeoutMs: 1000, localAddress: '198.18.1.2' };
    const r = await connectTcp('198.51.100.1', 1723, how, from('198.18.1.2'), signal, () => {});
    assert.equal(r.localAddress, '198.18.1.2');
    await assert.rejects(
      connectTcp('198.51.100.1', 1723, how, from('198.18.0.2'), signal, () => {}),
      (e) =>
        e instanceof ClientFailure &&
        e.code === ExitCode.ConnectFailed &&
        e.message === 'the connection to 198.51.100.1 comes from 198.18.0.2, not 198.18.1.2',
    );
    await connectTcp('198.51.100.1', 1723, { timeoutMs: 1000 }, from('198.18.0.2'), signal, () => {});
    assert.deepEqual(asked, ['198.18.1.2', '198.18.1.2', undefined]);
  });

  it('connectTcp: a local address the host does not have is a connect failure naming it', async () => {
    const err: NodeJS.ErrnoException = new Error('connect EADDRNOTAVAIL');
    err.code = 'EADDRNOTAVAIL';
    const env = envWith({ tcp: { connect: () => Promise.reject(err), listen: () => Promise.reject(err) } });
    const how = { timeoutMs: 1000, localAddress: '198.18.9.9' };
    await assert.rejects(
      connectTcp('198.51.100.1', 1723, how, env, new AbortController().signal, () => {}),
      (e) =>
        e instanceof ClientFailure &&
        e.code === ExitCode.ConnectFailed &&
        e.message === 'cannot connect from 198.18.9.9: not an address of this host',
    );
  });

  it('openTunnel: an interface that cannot be opened is a set-up failure, the GRE endpoint already handed over', () => {
    let started = false;
    const gre = { endpoint: { start: () => (started = true) }, release() {} } as unknown as GreLease;
    const made: string[] = [];
    const env = envWith({
      openGre: () => gre,
      openTun: () => {
        throw Object.assign(new Error('open /dev/net/tun: EPERM'), { code: 'EPERM' });
      },
    });
    assert.throws(
      () =>
        openTunnel('192.0.2.10', 'pptp%d', env, new AbortController().signal, (p) =>
          made.push('gre' in p ? 'gre' : 'tun'),
        ),
      (e) => e instanceof ClientFailure && e.code === ExitCode.Setup,
    );
    assert.equal(started, true);
    assert.deepEqual(made, ['gre']);
  });

  it('openTunnel: an attempt that ended meanwhile stops after handing over what was made', () => {
    const c = new AbortController();
    const reason = ended();
    c.abort(reason);
    const made: string[] = [];
    const env = envWith({
      openGre: () => ({ endpoint: { start() {} }, release() {} }) as unknown as GreLease,
      openTun: () => ({ name: 'pptp0' }) as unknown as TunDevice,
    });
    assert.throws(
      () => openTunnel('192.0.2.10', 'pptp%d', env, c.signal, (p) => made.push('gre' in p ? 'gre' : 'tun')),
      (e) => e === reason,
    );
    assert.deepEqual(made, ['gre', 'tun']);
  });
});
