/**
 * 50 concurrent clients on one `pptp-ts serve` (shared TUN, MS-CHAP-v2 +
 * MPPE-128), on real interfaces. Each client's interface sits in its own
 * namespace (test/system/tunnel-fleet.ts), so traffic between clients must
 * cross the server. Checked, once with `client-to-client` off and once on:
 * every client reaches the server; clients reach each other's addresses
 * exactly when the policy allows; a packet with a source address that is
 * not the session's never gets through, and the server counts it.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { createLab, listNamespaces, type Spawned } from '../helpers/netns.js';
import { requireRoot } from '../helpers/tools.js';
import {
  CLIENT_IP,
  ROOT,
  SERVER_IP,
  serverStatus,
  startServer,
  statusCounter,
  TUNNEL_LOCAL,
  tempDir,
  twoHosts,
  waitExit,
  writeServerConfig,
} from './tunnel-lab.js';

const CLIENTS = 50;
const PARALLEL = 10;

/** Runs `fn` over `items`, at most `n` at a time. */
async function pool<T, R>(items: readonly T[], n: number, fn: (x: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!, i);
    }),
  );
  return out;
}

describe(`${CLIENTS} concurrent clients on one server`, () => {
  before(() => requireRoot('ip', 'ping'));
  const lab = createLab('tunfleet');
  const dir = tempDir('fleet');
  let ns: { server: string; client: string };
  const clientNs: string[] = [];
  const secrets = Array.from({ length: CLIENTS }, (_, i) => `user${i} * pass${i} *`).join('\n');

  before(async () => {
    ns = await twoHosts(lab);
    for (let i = 0; i < CLIENTS; i++) clientNs.push(await lab.addNamespace(`c${i}`));
  });

  async function ping(
    nsName: string,
    dst: string,
    opts: { from?: string; waitS?: number } = {},
  ): Promise<boolean> {
    const args = [
      'ping',
      '-c',
      '1',
      '-W',
      String(opts.waitS ?? 3),
      ...(opts.from ? ['-I', opts.from] : []),
      dst,
    ];
    const r = await lab.exec(nsName, args, { allowFail: true, timeoutMs: 15_000 });
    return r.code === 0;
  }

  for (const clientToClient of [false, true]) {
    it(`client-to-client ${clientToClient ? 'on' : 'off'}: reachability as the policy says, no spoofing`, async () => {
      const server = await startServer(
        lab,
        ns.server,
        // Every client dials from one address (like users behind one NAT): lift the per-address starting limit.
        writeServerConfig(
          dir,
          {
            'client-to-client': clientToClient,
            'ms-dns': [],
            limits: { 'max-starting-per-address': CLIENTS },
          },
          secrets,
        ),
      );
      let fleet: Spawned | undefined;
      try {
        const spec = {
          server: SERVER_IP,
          localAddress: CLIENT_IP,
          routes: ['10.88.0.0/24'],
          clients: clientNs.map((netns, i) => ({ user: `user${i}`, password: `pass${i}`, netns })),
        };
        fleet = lab.spawn(ns.client, [
          process.execPath,
          '--import',
          'tsx',
          join(ROOT, 'test', 'system', 'tunnel-fleet.ts'),
          JSON.stringify(spec),
        ]);
        const f = fleet;
        await f.waitFor(new RegExp(`(^up \\d+ .*\\n){${CLIENTS}}`, 'm'), 120_000);
        const addresses: string[] = [];
        for (const m of f.stdout().matchAll(/^up (\d+) (\S+)$/gm)) addresses[Number(m[1])] = m[2]!;
        assert.equal(new Set(addresses).size, CLIENTS, 'every client has its own address');
        const status = await serverStatus(server);
        assert.equal(status.filter((l) => l.startsWith('session ') && l.includes('up=true')).length, CLIENTS);

        // Every client reaches the server.
        const toServer = await pool(clientNs, PARALLEL, (n) => ping(n, TUNNEL_LOCAL));
        assert.deepEqual(
          toServer.map((ok, i) => (ok ? -1 : i)).filter((i) => i >= 0),
          [],
          'clients that could not reach the server',
        );

        // Each client pings the next one's address: only with client-to-client on.
        const toPeer = await pool(clientNs, PARALLEL, (n, i) =>
          ping(n, addresses[(i + 1) % CLIENTS]!, { waitS: clientToClient ? 3 : 1 }),
        );
        const reached = toPeer.filter(Boolean).length;
        assert.equal(reached, clientToClient ? CLIENTS : 0, `${reached} client-to-client pings answered`);
        const afterPeers = await serverStatus(server);
        if (clientToClient) assert.ok(statusCounter(afterPeers, 'clientToClientForwarded') >= 2 * CLIENTS);
        else assert.equal(statusCounter(afterPeers, 'clientToClientDropped'), CLIENTS);

        // A source address that is not the session's: dropped by the server, counted.
        const spoofBefore = statusCounter(afterPeers, 'spoofedDropped');
        const spoofed = await pool(clientNs, PARALLEL, async (n, i) => {
          const fake = `10.88.1.${i + 1}`;
          await lab.exec(n, ['ip', 'addr', 'add', `${fake}/32`, 'dev', 'pptp0']);
          return ping(n, TUNNEL_LOCAL, { from: fake, waitS: 1 });
        });
        assert.equal(spoofed.filter(Boolean).length, 0, 'no spoofed ping was answered');
        const spoofAfter = statusCounter(await serverStatus(server), 'spoofedDropped');
        assert.ok(spoofAfter - spoofBefore >= CLIENTS, `${spoofAfter - spoofBefore} spoofed packets counted`);

        // Everyone leaves: every session ends and the pool is whole again.
        process.kill(f.pid, 'SIGTERM');
        const r = await waitExit(f, 60_000);
        assert.equal(r.code, 0, r.stderr);
        assert.equal([...r.stdout.matchAll(/^done \d+ 0 /gm)].length, CLIENTS, r.stdout);
        const end = await serverStatus(server);
        assert.equal(end.filter((l) => l.startsWith('session ')).length, 0);
        assert.equal(statusCounter(end, 'connections'), 0);
        assert.equal(statusCounter(end, 'sessionsEnded'), CLIENTS);
        for (const n of clientNs) {
          const links = JSON.parse((await lab.exec(n, ['ip', '-j', 'link', 'show'])).stdout) as {
            ifname: string;
          }[];
          assert.deepEqual(
            links.map((l) => l.ifname),
            ['lo'],
            `${n} still has an interface`,
          );
        }
      } finally {
        await fleet?.kill();
        await server.kill();
      }
    });
  }

  it('leaves no namespace behind', async () => {
    await lab.cleanup();
    assert.deepEqual(
      (await listNamespaces()).filter((n) => n.startsWith(lab.prefix)),
      [],
    );
  });
});
