/**
 * How real `pptp-ts connect` and `pptp-ts serve` processes fail, each with
 * its reason and exit code, and what the server frees: server down, wrong
 * password, MPPE refused, a client killed with SIGKILL (TCP closes with the
 * process), a client frozen with SIGSTOP (only the echo time-outs can tell),
 * and a control connection cut under both sides (`ss -K`).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createLab, listNamespaces } from '../helpers/netns.js';
import { requireRoot } from '../helpers/tools.js';
import {
  eventually,
  hostState,
  serverStatus,
  startClient,
  startServer,
  statusCounter,
  TUNNEL_LOCAL,
  tempDir,
  twoHosts,
  waitExit,
  waitUp,
  writePassword,
  writeServerConfig,
} from './tunnel-lab.js';

describe('tunnel failures, with real processes', () => {
  before(() => requireRoot('ip', 'ss', 'ping'));
  const lab = createLab('tunfail');
  const dir = tempDir('fail');
  let ns: { server: string; client: string };
  let alicePw = '';
  let bobPw = '';

  before(async () => {
    ns = await twoHosts(lab);
    alicePw = writePassword(dir, 'correct horse');
    bobPw = writePassword(dir, 'hunter2');
  });

  it('server down: exit code 8, connection refused', async () => {
    const c = startClient(lab, ns.client, ['--user', 'alice', '--password-file', alicePw]);
    const r = await waitExit(c);
    assert.equal(r.code, 8, r.stderr);
    assert.match(r.stderr, /pptp-ts connect: connection refused by 198\.51\.100\.1:1723/);
  });

  it("wrong password: exit code 19 with the server's message; MPPE refused: exit code 21", async () => {
    const server = await startServer(lab, ns.server, writeServerConfig(dir));
    try {
      const before = await hostState(lab, ns.client);
      const c = startClient(lab, ns.client, [
        '--user',
        'alice',
        '--password-file',
        writePassword(dir, 'nope'),
      ]);
      const r = await waitExit(c);
      assert.equal(r.code, 19, r.stderr);
      assert.match(
        r.stderr,
        /pptp-ts connect: authentication failed, wrong-password \(E=691\): Authentication failed/,
      );
      assert.deepEqual(await hostState(lab, ns.client), before);
    } finally {
      await server.kill();
    }

    const before = await hostState(lab, ns.client);
    const plain = await startServer(lab, ns.server, writeServerConfig(dir, { ppp: { nomppe: true } }));
    try {
      const c2 = startClient(lab, ns.client, ['--user', 'alice', '--password-file', alicePw]);
      const r2 = await waitExit(c2);
      assert.equal(r2.code, 21, r2.stderr);
      assert.match(r2.stderr, /MPPE required/);
      assert.deepEqual(await hostState(lab, ns.client), before);
    } finally {
      await plain.kill();
    }
  });

  it('a client killed with SIGKILL: the server frees its address and call; the user can come back', async () => {
    const server = await startServer(
      lab,
      ns.server,
      writeServerConfig(dir, { pptp: { 'echo-interval': 3 } }),
    );
    try {
      const freeBefore = statusCounter(await serverStatus(server), 'pool-free');
      const c = startClient(lab, ns.client, ['--user', 'bob', '--password-file', bobPw, '--no-host-route']);
      const up = await waitUp(c);
      assert.equal(up.local, '10.88.0.77', "bob's fixed address from chap-secrets");
      const callLine = (await serverStatus(server)).find((l) => l.startsWith('session '));
      const callId = /call=(\d+)/.exec(callLine ?? '')?.[1];
      assert.ok(callId, callLine);
      process.kill(c.pid, 'SIGKILL');
      await waitExit(c);
      // The kernel closes the dead process's TCP connection: the server ends the session at once.
      await server.waitFor(
        new RegExp(`session end .*callId=${callId} .*user=bob address=10\\.88\\.0\\.77`),
        20_000,
      );
      await eventually(
        async () => !(await serverStatus(server)).some((l) => l.startsWith('session ')),
        10_000,
        'no session',
      );
      const status = await serverStatus(server);
      assert.equal(statusCounter(status, 'connections'), 0);
      assert.equal(statusCounter(status, 'pool-free'), freeBefore);
      // The fixed address is free again: bob reconnects and gets it.
      const c2 = startClient(lab, ns.client, ['--user', 'bob', '--password-file', bobPw, '--no-host-route']);
      assert.equal((await waitUp(c2)).local, '10.88.0.77');
      const again = (await serverStatus(server)).find((l) => l.startsWith('session '));
      assert.ok(again && !again.includes(`call=${callId} `), 'a fresh Call ID (the old one is quarantined)');
      await c2.kill();
      assert.equal((await waitExit(c2)).code, 0);
    } finally {
      await server.kill();
    }
  });

  it('a frozen client (SIGSTOP): the server notices through the echo time-outs alone', async () => {
    const server = await startServer(
      lab,
      ns.server,
      writeServerConfig(dir, {
        pptp: { 'echo-interval': 2 },
        ppp: { 'lcp-echo-interval': 1, 'lcp-echo-failure': 3 },
      }),
    );
    const c = startClient(lab, ns.client, ['--user', 'alice', '--password-file', alicePw, '--no-host-route']);
    try {
      await waitUp(c);
      const t0 = Date.now();
      process.kill(c.pid, 'SIGSTOP');
      try {
        await server.waitFor(
          /session end .*user=alice .*reason="(no response to \d+ echo-requests|no Echo-Reply in time)"/,
          30_000,
        );
        const waited = Date.now() - t0;
        assert.ok(waited >= 2000, `noticed after ${waited} ms: only a time-out can tell`);
        await eventually(
          async () => statusCounter(await serverStatus(server), 'connections') === 0,
          15_000,
          'connection closed',
        );
      } finally {
        process.kill(c.pid, 'SIGKILL');
        await waitExit(c);
      }
    } finally {
      await c.kill();
      await server.kill();
    }
  });

  it('a control connection cut mid-session ends both sides cleanly', async () => {
    const server = await startServer(lab, ns.server, writeServerConfig(dir));
    const before = await hostState(lab, ns.client);
    const c = startClient(lab, ns.client, ['--user', 'alice', '--password-file', alicePw]);
    try {
      await waitUp(c);
      const ping = await lab.exec(ns.client, ['ping', '-c', '1', '-W', '2', TUNNEL_LOCAL]);
      assert.match(ping.stdout, /1 received/);
      // Kill the TCP connection in the kernel (SOCK_DESTROY): the client's socket fails, the server gets a reset.
      await lab.exec(ns.client, ['ss', '-K', 'dst', '198.51.100.1', 'dport', '=', '1723']);
      const r = await waitExit(c);
      assert.equal(r.code, 16, r.stderr);
      assert.match(r.stderr, /control connection/);
      assert.deepEqual(await hostState(lab, ns.client), before, 'nothing left on the client');
      await server.waitFor(/session end .*user=alice/, 20_000);
      await eventually(
        async () => statusCounter(await serverStatus(server), 'connections') === 0,
        10_000,
        'server clean',
      );
      await server.kill();
      assert.equal((await waitExit(server)).code, 0);
    } finally {
      await c.kill();
      await server.kill();
    }
  });

  it('leaves no namespace behind', async () => {
    await lab.cleanup();
    assert.deepEqual(
      (await listNamespaces()).filter((n) => n.startsWith(lab.prefix)),
      [],
    );
  });
});
