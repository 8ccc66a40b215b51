/**
 * The two-server deployment: two `pptp-ts serve` (NAS 1 and NAS 2, each in
 * its own network namespace) share one FreeRADIUS 3.2 (in a third) that keeps
 * users, accounting and one address pool in SQLite (sql, sqlippool,
 * Simultaneous-Use := 1 for every user). 40 `pptp-ts connect`, each in a
 * namespace of its own, 20 per server. In order:
 *
 * 1. all 40 come up; their TUN addresses are distinct, all from the one SQL
 *    pool, and the pool's leases say who holds which (NAS, user);
 * 2. a user logged in on server 1 is refused on server 2 (Simultaneous-Use):
 *    the client ends with FreeRADIUS's Reply-Message;
 * 3. every client pings the server across its tunnel with a known number of
 *    bytes; the Interim-Update rows in radacct carry those octets within 1 %;
 * 4. a Disconnect-Request from radclient to the server holding one user ends
 *    that session within a second, its Stop row carries its octets, and the
 *    other 39 are untouched (client still running, traffic passes);
 * 5. SIGKILL of server 1 and its restart with the same config: its
 *    Accounting-On closes its sessions and frees its leases, server 2's stay
 *    as they were, and server 1's clients (`--persist`) come back with
 *    addresses from the pool.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type FreeRadius, startFreeRadius } from '../helpers/freeradius.js';
import type { LeaseRow, RadacctRow } from '../helpers/freeradius-sql.js';
import { createLab, type Spawned } from '../helpers/netns.js';
import { dasRequest } from '../helpers/radclient.js';
import { type RadiusNetwork, radiusNetwork } from '../helpers/radius-lab.js';
import { requireRoot } from '../helpers/tools.js';
import { eventually, PPTP_TS, tempDir, waitExit, writePassword, writeServerConfig } from './tunnel-lab.js';

const SECRET = 'deploy-Secret-q7Z';
const DAS_SECRET = 'deploy-das-Secret-4Wm';
const PER_SERVER = 20;
const CLIENTS = 2 * PER_SERVER;
const POOL_NAME = 'vpn';
/** 44 addresses for 40 clients: a restarted server's 20 can come back only if its old leases were freed. */
const POOL = Array.from({ length: CLIENTS + 4 }, (_, i) => `10.90.0.${i + 1}`);
/** Each server's PPTP address (on its namespace's loopback) and its own end of the tunnels. */
const LISTEN = ['192.0.2.1', '192.0.2.2'] as const;
const LOCAL_IP = ['10.89.0.1', '10.89.0.2'] as const;
/** Echo payload and count per client: each IPv4 echo is 20 (IP) + 8 (ICMP) + payload octets. */
const PING_SIZE = 1000;
const PING_COUNT = 20;
const PING_OCTETS = PING_COUNT * (20 + 8 + PING_SIZE);
/** The client DAS disconnects: a server-2 user, started without --persist. */
const KICKED = PER_SERVER;

const user = (i: number) => `u${i}`;
const password = (i: number) => `pw-${i}-Kx3`;
const serverOf = (i: number) => (i < PER_SERVER ? 0 : 1);

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

/** Every `local` address the client printed, one per time its tunnel came up. */
function upAddresses(c: Spawned): string[] {
  return [...c.stdout().matchAll(/^ {2}local +(\S+)$/gm)].map((m) => m[1]!);
}

describe('two pptp-ts serve, one FreeRADIUS with SQL users, pool and accounting', () => {
  const lab = createLab('rdeploy');
  const dir = tempDir('rdeploy');
  let net: RadiusNetwork;
  let fr: FreeRadius | undefined;
  const servers: Spawned[] = [];
  const configs: string[] = [];
  const clientNs: string[] = [];
  const clients: Spawned[] = [];

  const nasAddress = (s: number) => net.nas[s]!.address;

  function startServer(s: number): Spawned {
    return lab.spawn(net.nas[s]!.ns, [...PPTP_TS, 'serve', '--config', configs[s]!, '--log-format', 'json']);
  }

  function startClient(i: number, extra: readonly string[] = []): Spawned {
    return lab.spawn(clientNs[i]!, [
      ...PPTP_TS,
      'connect',
      LISTEN[serverOf(i)],
      '--user',
      user(i),
      '--password-file',
      writePassword(dir, password(i)),
      '--lcp-echo-interval',
      '5',
      ...extra,
    ]);
  }

  /** The address on the client's TUN (pptp0) as the kernel has it. */
  async function tunAddress(i: number): Promise<string> {
    const r = await lab.exec(clientNs[i]!, ['ip', '-j', '-4', 'addr', 'show', 'dev', 'pptp0']);
    const [link] = JSON.parse(r.stdout) as { addr_info: { local: string }[] }[];
    return link!.addr_info[0]!.local;
  }

  async function ping(i: number, count: number, size: number): Promise<number> {
    const r = await lab.exec(
      clientNs[i]!,
      [
        'ping',
        '-q',
        '-n',
        '-c',
        String(count),
        '-i',
        '0.05',
        '-s',
        String(size),
        '-W',
        '5',
        // -w: wait for every reply until this deadline; without it, once some replies have come,
        // ping waits only two round trips after its last request, and a reply a busy server sends a
        // millisecond later is counted as lost.
        '-w',
        '30',
        LOCAL_IP[serverOf(i)],
      ],
      { allowFail: true, timeoutMs: 60_000 },
    );
    const m = /(\d+) received/.exec(r.stdout);
    return m ? Number(m[1]) : 0;
  }

  /**
   * A read of the database, tried again while FreeRADIUS holds its lock (a busy machine, 40 sessions'
   * Interim-Updates): at most 10 tries.
   */
  async function read<T>(q: () => Promise<T>): Promise<T> {
    for (let i = 1; ; i++) {
      try {
        return await q();
      } catch (e) {
        if (i >= 10 || !/database is locked/.test((e as Error).message)) throw e;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }
  const radacct = (where: string) => read(() => fr!.sql!.radacct(where));
  const activeLeases = async (): Promise<LeaseRow[]> =>
    (await read(() => fr!.sql!.leases(POOL_NAME))).filter((l) => l.active);

  before(async () => {
    requireRoot('ip', 'ping', 'freeradius', 'radclient', 'sqlite3');
    net = await radiusNetwork(lab, 2);
    fr = await startFreeRadius({
      secret: SECRET,
      sql: { pools: { [POOL_NAME]: POOL }, leaseSeconds: 3600 },
      netns: { lab, ns: net.radiusNs, address: net.radiusAddress },
      clients: [nasAddress(0), nasAddress(1)],
      readyTimeoutMs: 120_000,
    });
    // Readers (this test) do not wait for FreeRADIUS's writers, nor it for them.
    await fr.sql!.query('PRAGMA journal_mode=WAL;');
    for (let i = 0; i < CLIENTS; i++) {
      await fr.sql!.addUser({ name: user(i), password: password(i), simultaneousUse: 1, pool: POOL_NAME });
    }
    for (const s of [0, 1]) {
      const ns = net.nas[s]!.ns;
      await lab.exec(ns, ['ip', 'addr', 'add', `${LISTEN[s]}/32`, 'dev', 'lo']);
      await lab.exec(ns, ['sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1']);
      configs.push(
        writeServerConfig(
          dir,
          {
            listen: LISTEN[s],
            'local-ip': LOCAL_IP[s],
            // Never used: every address comes from FreeRADIUS's Framed-IP-Address.
            pool: `10.88.${s}.10-10.88.${s}.20`,
            secrets: undefined,
            interface: { mode: 'shared', name: 'pptps0' },
            radius: {
              auth: [{ address: `${net.radiusAddress}:1812`, secret: SECRET }],
              accounting: [{ address: `${net.radiusAddress}:1813`, secret: SECRET }],
              'nas-ip-address': nasAddress(s),
              'nas-identifier': `nas${s + 1}`,
              'interim-interval': 5,
              timeout: 3,
              retries: 2,
              'dead-time': 1,
              das: {
                listen: `${nasAddress(s)}:3799`,
                // radclient in FreeRADIUS's namespace reaches us from its end of our link.
                clients: [{ address: `10.77.${s + 1}.1`, secret: DAS_SECRET }],
              },
            },
            // Twenty logins at once through one SQLite database on a busy machine.
            limits: { 'auth-timeout': 60, 'shutdown-timeout': 5 },
          },
          '',
        ),
      );
    }
    // Each client in its own namespace, joined to its server's by a veth pair (172.20.i.0/24).
    // One more (index CLIENTS) on server 2's side for the Simultaneous-Use test.
    await pool(
      Array.from({ length: CLIENTS + 1 }, (_, i) => i),
      6,
      async (i) => {
        const ns = await lab.addNamespace(`c${i}`);
        clientNs[i] = ns;
        const nasNs = net.nas[i === CLIENTS ? 1 : serverOf(i)]!.ns;
        await lab.addVeth(nasNs, `c${i}`, ns, 'up0');
        await lab.exec(nasNs, ['ip', 'addr', 'add', `172.20.${i}.1/24`, 'dev', `c${i}`]);
        await lab.exec(ns, ['ip', 'addr', 'add', `172.20.${i}.2/24`, 'dev', 'up0']);
        await lab.exec(ns, ['ip', 'route', 'add', 'default', 'via', `172.20.${i}.1`]);
        // No IPv6 on the client's TUN: the octets counted are exactly the pings below.
        await lab.exec(ns, [
          'sysctl',
          '-q',
          '-w',
          'net.ipv6.conf.all.disable_ipv6=1',
          'net.ipv6.conf.default.disable_ipv6=1',
        ]);
      },
    );
    servers.push(startServer(0), startServer(1));
    await Promise.all(servers.map((s) => s.waitFor(/listening on /, 120_000)));
  });

  after(async () => {
    await fr?.stop();
  });

  it(`${CLIENTS} clients (${PER_SERVER} per server) come up with distinct addresses from the one SQL pool`, async () => {
    // In waves of 10 (5 per server), each wave all at once: a busy machine's set-up times stay bounded.
    const order = Array.from({ length: PER_SERVER }, (_, k) => [k, PER_SERVER + k]).flat();
    for (let wave = 0; wave < CLIENTS; wave += 10) {
      const these = order.slice(wave, wave + 10);
      for (const i of these) {
        clients[i] = startClient(i, i === KICKED ? [] : ['--persist', '--holdoff', '1', '--maxfail', '0']);
      }
      await Promise.all(
        these.map((i) =>
          clients[i]!.waitFor(/^ {2}mppe +.+$/m, 180_000).catch((e: Error) => {
            throw new Error(`client ${i}: ${e.message}\n${clients[i]!.stdout()}`);
          }),
        ),
      );
    }
    const printed = clients.map((c) => upAddresses(c).at(-1)!);
    const onTun = await pool(clients, 8, (_, i) => tunAddress(i));
    assert.deepEqual(onTun, printed, 'the TUN carries the address the client was given');
    assert.equal(new Set(onTun).size, CLIENTS, `distinct: ${onTun.join(' ')}`);
    for (const a of onTun) assert.ok(POOL.includes(a), `${a} is from the SQL pool`);

    // Every client's address is leased to it, on its NAS. (A login FreeRADIUS accepted whose session then
    // failed before its network phase, as on a loaded machine, has no Start and so no Stop: its lease
    // stays until lease_duration. Such strays are allowed, never on a client's address.)
    const leases = await activeLeases();
    assert.ok(leases.length >= CLIENTS, JSON.stringify(leases));
    const byAddress = new Map(leases.map((l) => [l.framedipaddress, l]));
    onTun.forEach((a, i) => {
      const l = byAddress.get(a);
      assert.deepEqual([l?.username, l?.nasipaddress], [user(i), nasAddress(serverOf(i))], `lease of ${a}`);
    });
    // One open accounting session per user, on the NAS it is connected to.
    await eventually(
      async () => (await radacct('acctstoptime IS NULL')).length === CLIENTS,
      60_000,
      'a Start for every client',
    );
    const open = await radacct('acctstoptime IS NULL');
    for (const r of open) {
      const i = Number(r.username.slice(1));
      assert.equal(r.nasipaddress, nasAddress(serverOf(i)));
      assert.equal(r.framedipaddress, onTun[i]);
    }
  });

  it('Simultaneous-Use := 1: a user logged in on server 1 is refused on server 2', async () => {
    // u0 is on server 1; the same user from another client namespace dials server 2.
    const twin = lab.spawn(clientNs[CLIENTS]!, [
      ...PPTP_TS,
      'connect',
      LISTEN[1],
      '--user',
      user(0),
      '--password-file',
      writePassword(dir, password(0)),
    ]);
    const r = await waitExit(twin, 120_000);
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stdout + r.stderr, /You are already logged in - access denied/);
    assert.doesNotMatch(r.stdout, /^ {2}local /m, 'it never came up');
    // (Its log line may reach us after the client's exit: wait for it.)
    await servers[1]!.waitFor(/"message":"You are already logged in - access denied","user":"u0"/, 10_000);
    // The first session is untouched: still one open row for u0, on NAS 1.
    const rows = await radacct(`username = '${user(0)}' AND acctstoptime IS NULL`);
    assert.deepEqual(
      rows.map((x) => x.nasipaddress),
      [nasAddress(0)],
    );
    assert.equal(clients[0]!.child.exitCode, null);
  });

  it(`accounting: every client's ${PING_COUNT} echoes of ${PING_SIZE} octets reach radacct within 1 %`, async () => {
    const received = await pool(clients, 10, (_, i) => ping(i, PING_COUNT, PING_SIZE));
    received.forEach((n, i) => {
      assert.equal(n, PING_COUNT, `client ${i}: ${n} replies`);
    });
    // What the server counts is whole IP packets through the session (docs/radius.md "What the octets
    // count"): in, the echo requests; out, the echo replies; nothing else crosses these tunnels.
    const within = (v: number | null) => v !== null && Math.abs(v - PING_OCTETS) <= PING_OCTETS * 0.01;
    let rows: RadacctRow[] = [];
    await eventually(
      async () => {
        rows = await radacct('acctstoptime IS NULL');
        return (
          rows.length === CLIENTS &&
          rows.every(
            (r) => (r.acctinputoctets ?? 0) >= PING_OCTETS && (r.acctoutputoctets ?? 0) >= PING_OCTETS,
          )
        );
      },
      60_000,
      'Interim-Updates with the pings',
    );
    for (const r of rows) {
      assert.ok(
        within(r.acctinputoctets) && within(r.acctoutputoctets),
        `${r.username}: in ${r.acctinputoctets}, out ${r.acctoutputoctets}, sent ${PING_OCTETS} each way`,
      );
    }
  });

  it('a Disconnect-Request ends that one session within a second; the other 39 stay up and pass traffic', async () => {
    const server = servers[1]!;
    const logged = servers.map((x) => x.stderr().length);
    const ack = await dasRequest({
      server: `${nasAddress(1)}:3799`,
      kind: 'disconnect',
      secret: DAS_SECRET,
      netns: { lab, ns: net.radiusNs },
      attributes: { 'User-Name': user(KICKED) },
    });
    assert.equal(ack?.code, 'Disconnect-ACK', server.stdout().slice(-3000));
    await server.waitFor(
      new RegExp(`"event":"session-down"[^\\n]*"user":"${user(KICKED)}"[^\\n]*"cause":"admin-reset"`),
      1000,
    );
    const exit = await waitExit(clients[KICKED]!, 30_000);
    assert.notEqual(exit.code, 0);
    // Its Stop: Admin-Reset, with the octets of its pings (nothing else passed).
    let stop: RadacctRow | undefined;
    await eventually(
      async () => {
        [stop] = await radacct(`username = '${user(KICKED)}' AND acctstoptime IS NOT NULL`);
        return stop !== undefined;
      },
      30_000,
      'the Stop of the disconnected session',
    );
    assert.equal(stop!.acctterminatecause, 'Admin-Reset');
    for (const v of [stop!.acctinputoctets, stop!.acctoutputoctets]) {
      assert.ok(Math.abs(v! - PING_OCTETS) <= PING_OCTETS * 0.01, `Stop octets ${v} vs ${PING_OCTETS}`);
    }
    // Its lease is free again; everyone else's session, lease and traffic are as they were.
    const others = clients.map((_, i) => i).filter((i) => i !== KICKED);
    for (const i of others) assert.equal(clients[i]!.child.exitCode, null, `client ${i} still running`);
    const log = servers.map((x, k) => x.stderr().slice(logged[k])).join('');
    assert.equal(log.match(/"event":"session-down"/g)?.length, 1, 'one session ended, on either server');
    const received = await pool(others, 10, (i) => ping(i, 3, 56));
    received.forEach((n, k) => {
      assert.ok(n >= 1, `client ${others[k]} passes traffic`);
    });
    const open = await radacct('acctstoptime IS NULL');
    assert.deepEqual(open.map((r) => r.username).sort(), others.map(user).sort());
    const leases = await activeLeases();
    const held = new Map(leases.map((l) => [l.framedipaddress, l.username]));
    for (const i of others) assert.equal(held.get(upAddresses(clients[i]!).at(-1)!), user(i));
    assert.ok(!leases.some((l) => l.username === user(KICKED)), 'the Stop freed its lease');
  });

  it("SIGKILL and restart of server 1: Accounting-On frees its leases and closes its sessions; its clients come back; server 2's are untouched", async () => {
    const before = await activeLeases();
    const nas2Before = before.filter((l) => l.nasipaddress === nasAddress(1)).map((l) => JSON.stringify(l));
    const nas1Rows = await radacct(`nasipaddress = '${nasAddress(0)}' AND acctstoptime IS NULL`);
    assert.equal(nas1Rows.length, PER_SERVER);
    const downs = clients.map((c) => upAddresses(c).length);

    process.kill(servers[0]!.pid, 'SIGKILL');
    await waitExit(servers[0]!, 10_000);
    // No Stop was sent: the sessions are still open in radacct, their leases still held.
    assert.equal(
      (await radacct(`nasipaddress = '${nasAddress(0)}' AND acctstoptime IS NULL`)).length,
      PER_SERVER,
    );
    servers[0] = startServer(0);
    await servers[0].waitFor(/listening on /, 120_000);
    // It took calls only once FreeRADIUS had answered its Accounting-On (and so freed its old leases):
    // no login of its clients can race the Accounting-On.
    await servers[0].waitFor(/"message":"listening"/, 10_000);
    const log = servers[0].stderr();
    const answered = log.indexOf('"message":"radius: Accounting-On answered"');
    assert.ok(answered >= 0 && answered < log.indexOf('"message":"listening"'), log);

    // Every client of server 1 comes back: each is let in although Simultaneous-Use := 1 and its old
    // session had no Stop, and gets an address although the pool has at most 5 free besides the old leases.
    await eventually(
      () => clients.slice(0, PER_SERVER).every((c, i) => upAddresses(c).length > downs[i]!),
      240_000,
      "server 1's clients up again",
    );
    const again = await pool(clients.slice(0, PER_SERVER), 8, (_, i) => tunAddress(i));
    for (let i = 0; i < PER_SERVER; i++) assert.equal(again[i], upAddresses(clients[i]!).at(-1));

    // The old sessions were closed by the Accounting-On (the NAS rebooted), not by a Stop.
    const closed = await radacct(
      `radacctid IN (${nas1Rows.map((r) => r.radacctid).join(',')}) AND acctstoptime IS NOT NULL`,
    );
    assert.equal(closed.length, PER_SERVER, JSON.stringify(closed));
    await eventually(
      async () =>
        (await radacct(`nasipaddress = '${nasAddress(0)}' AND acctstoptime IS NULL`)).length === PER_SERVER,
      60_000,
      'a new Start for each of them',
    );

    const leases = await activeLeases();
    const nas1 = leases.filter((l) => l.nasipaddress === nasAddress(0));
    const why = () =>
      `${JSON.stringify(nas1)}\n${clients
        .slice(0, PER_SERVER)
        .map((c, i) => `client ${i}: ${c.stdout()}${c.stderr()}`)
        .join('\n')}\n${servers[0]!.stderr()}`;
    // Only the new sessions hold NAS 1 leases: exactly the addresses its clients have now.
    assert.deepEqual(nas1.map((l) => l.framedipaddress).sort(), [...again].sort(), why());
    assert.deepEqual(
      nas1.map((l) => l.username).sort(),
      clients
        .slice(0, PER_SERVER)
        .map((_, i) => user(i))
        .sort(),
    );
    // NAS 2's leases are the very rows they were (same address, key, user, expiry) or an
    // Interim-Update's refresh of them.
    const nas2 = leases.filter((l) => l.nasipaddress === nasAddress(1));
    const key = (s: string) => {
      const l = JSON.parse(s) as LeaseRow;
      return `${l.framedipaddress} ${l.pool_key} ${l.username}`;
    };
    assert.deepEqual(nas2.map((l) => key(JSON.stringify(l))).sort(), nas2Before.map(key).sort());
    const all = [...again, ...clients.slice(PER_SERVER).map((c) => upAddresses(c).at(-1)!)].filter(
      (_, i) => i !== KICKED,
    );
    assert.equal(new Set(all).size, CLIENTS - 1, 'still every address distinct');
    for (const a of again) assert.ok(POOL.includes(a));
  });
});
