/**
 * The library's examples as real processes (docs/examples, docs/api.md):
 * the server example (createServer with its own authenticator) in one
 * network namespace, the client example (connect) and the errors example in
 * another, joined by veth, on real TUN interfaces and raw GRE sockets. The
 * tunnel comes up with the negotiated parameters in the `up` event, the
 * authenticator's fixed address is used, kick() reaches the client with its
 * reason, the typed errors carry their codes, and nothing is left behind.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EXAMPLE_ENV, exampleArgv } from '../api/examples.js';
import { createLab, isRoot, type Spawned } from '../helpers/netns.js';
import { hostState, SERVER_IP, twoHosts, waitExit } from './tunnel-lab.js';

/** An example in namespace `ns`, with the examples' tsconfig (what 'pptp-ts' is) and `env`. */
function example(
  lab: ReturnType<typeof createLab>,
  ns: string,
  name: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Spawned {
  const vars = Object.entries({ ...EXAMPLE_ENV, ...env }).map(([k, v]) => `${k}=${v}`);
  return lab.spawn(ns, ['env', ...vars, ...exampleArgv(name, args)]);
}

/** The JSON after `tag ` on the first line starting with it. */
function jsonLine<T>(out: string, tag: string): T {
  const line = out.split('\n').find((l) => l.startsWith(`${tag} `));
  assert.ok(line, `no '${tag}' line in:\n${out}`);
  return JSON.parse(line.slice(tag.length + 1)) as T;
}

describe('library examples on real interfaces', () => {
  const lab = createLab('apiex');
  let ns: { server: string; client: string };
  let server: Spawned;
  let before0: {
    server: Awaited<ReturnType<typeof hostState>>;
    client: Awaited<ReturnType<typeof hostState>>;
  };

  before(async () => {
    assert.ok(isRoot, 'the system tests need root (network namespaces, TUN, raw sockets): run them as root');
    ns = await twoHosts(lab);
    before0 = { server: await hostState(lab, ns.server), client: await hostState(lab, ns.client) };
    server = example(lab, ns.server, 'server', [], { PPTP_LISTEN: SERVER_IP });
    await server.waitFor(/^listening on 198\.51\.100\.1:1723$/m, 60_000);
  });
  after(async () => {
    if (server) await server.kill();
  });

  it('connect example: up with the negotiated parameters, stats, a clean close', async () => {
    const c = example(lab, ns.client, 'connect', [SERVER_IP]);
    const r = await waitExit(c, 90_000);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const up = jsonLine<Record<string, unknown>>(r.stdout, 'up');
    assert.deepEqual(up, {
      interface: 'pptp0',
      server: SERVER_IP,
      localAddress: '10.77.0.10',
      remoteAddress: '10.77.0.1',
      dns: ['10.77.0.1'],
      mtu: 1500 - 20 - 16 - 4 - 4,
      auth: 'mschap-v2',
      mppe: { keyBits: 128, stateless: true },
    });
    const stats = jsonLine<Record<string, number>>(r.stdout, 'stats');
    assert.equal(typeof stats.txBytes, 'number');
    assert.deepEqual(jsonLine(r.stdout, 'down'), {
      reason: 'closed by the application',
      code: null,
      wasUp: true,
    });
    await server.waitFor(/^session-down .*"user":"alice"/m, 20_000);
    const su = jsonLine<Record<string, unknown>>(server.stdout(), 'session-up');
    assert.equal(su.user, 'alice');
    assert.equal(su.address, '10.77.0.10');
    assert.equal(su.auth, 'mschap-v2');
    assert.equal((await hostState(lab, ns.client)).links.includes('pptp0'), false, 'interface removed');
  });

  it("authenticator's fixed address; kick() reaches the client with its reason", async () => {
    const c = example(lab, ns.client, 'connect', [SERVER_IP], {
      PPTP_USER: 'bob',
      PPTP_PASSWORD: 'hunter2',
      PPTP_HOLD_MS: '60000',
    });
    await c.waitFor(/^up /m, 60_000);
    assert.equal(jsonLine<{ localAddress: string }>(c.stdout(), 'up').localAddress, '10.77.0.77');
    await server.waitFor(/^session-up .*"user":"bob"/m, 20_000);
    process.kill(server.pid, 'SIGUSR1'); // the example kicks everyone with 'maintenance'
    const r = await waitExit(c, 30_000);
    assert.equal(r.code, 1, 'the example exits 1 when the tunnel fails');
    const down = jsonLine<{ reason: string; code: string; wasUp: boolean }>(r.stdout, 'down');
    assert.equal(down.code, 'ERR_PPTP_HANGUP');
    assert.match(r.stderr, /^connect failed \(ERR_PPTP_HANGUP\): .*maintenance/m);
    assert.match(down.reason, /maintenance/);
    assert.equal(down.wasUp, true);
    await server.waitFor(/^session-down .*"user":"bob","reason":"maintenance"/m, 20_000);
  });

  it('errors example: each failure with its stable code', async () => {
    const r = await waitExit(example(lab, ns.client, 'errors', [SERVER_IP]), 90_000);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(r.stdout.trimEnd().split('\n'), [
      'auth failed: ERR_PPTP_AUTH',
      'aborted: ABORT_ERR',
      'not a capture: ERR_PPTP_CAPTURE',
      'bad options: ERR_PPTP_CONFIG (user: required)',
    ]);
  });

  it('server example: SIGTERM shuts down cleanly; nothing left on either host', async () => {
    process.kill(server.pid, 'SIGTERM');
    const r = await waitExit(server, 30_000);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^stopped$/m);
    assert.deepEqual(await hostState(lab, ns.server), before0.server);
    assert.deepEqual(await hostState(lab, ns.client), before0.client);
  });
});
