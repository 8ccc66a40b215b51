/**
 * The FreeRADIUS + SQLite harness of the scale-out tests, proven with
 * FreeRADIUS's own radclient standing in for two NAS: FreeRADIUS runs in its
 * own network namespace, each NAS in another, users/accounting/leases live in
 * SQLite (sql, sqlippool, Simultaneous-Use), and the SQLite database is read
 * back with the sqlite3 command. Nothing here uses pptp-ts's RADIUS code.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type FreeRadius, startFreeRadius } from '../helpers/freeradius.js';
import { createLab } from '../helpers/netns.js';
import { dasRequest, type RadAttrs, type RadclientResult, radclient } from '../helpers/radclient.js';
import { type RadiusNetwork, radiusNetwork } from '../helpers/radius-lab.js';
import { requireRoot } from '../helpers/tools.js';

const SECRET = 'sql-harness-Zt9';
const PASSWORD = 'pw-9f2Kq';
const range = (prefix: string, from: number, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}.${from + i}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('FreeRADIUS with SQLite (sql, sqlippool, Simultaneous-Use) in its own namespace, driven by radclient', () => {
  const lab = createLab('radsql');
  let net: RadiusNetwork;
  let fr: FreeRadius;
  let a: { ns: string; address: string };
  let b: { ns: string; address: string };

  before(async () => {
    requireRoot('ip', 'freeradius', 'radclient', 'sqlite3');
    net = await radiusNetwork(lab, 2);
    a = net.nas[0]!;
    b = net.nas[1]!;
    fr = await startFreeRadius({
      secret: SECRET,
      sql: {},
      netns: { lab, ns: net.radiusNs, address: net.radiusAddress },
      clients: [a.address, b.address],
      coa: true,
    });
  });
  after(async () => {
    await fr?.stop();
  });

  /** Access-Requests from `nas`, as a PPTP NAS sends them: NAS-IP-Address is the NAS's own. */
  const login = (
    nas: { ns: string; address: string },
    user: string,
    ports: readonly number[],
    extra: RadAttrs = {},
    opts: { messageAuthenticator?: boolean; timeoutS?: number; tries?: number } = {},
  ): Promise<RadclientResult[]> =>
    radclient({
      server: `${fr.host}:${fr.authPort}`,
      command: 'auth',
      secret: SECRET,
      netns: { lab, ns: nas.ns },
      requests: ports.map((p) => ({
        'User-Name': user,
        'User-Password': PASSWORD,
        'NAS-IP-Address': nas.address,
        'NAS-Port': p,
        'NAS-Port-Type': 'Virtual',
        'Service-Type': 'Framed-User',
        'Framed-Protocol': 'PPP',
        'Calling-Station-Id': `192.0.2.${p % 250}`,
        ...extra,
      })),
      ...opts,
    });

  /** Accounting-Requests from `nas`; each record names its NAS-Port and status. */
  const account = (nas: { ns: string; address: string }, records: readonly RadAttrs[]) =>
    radclient({
      server: `${fr.host}:${fr.acctPort}`,
      command: 'acct',
      secret: SECRET,
      netns: { lab, ns: nas.ns },
      requests: records.map((r) => ({
        'NAS-IP-Address': nas.address,
        'NAS-Port-Type': 'Virtual',
        ...(typeof r['NAS-Port'] === 'number'
          ? { 'Calling-Station-Id': `192.0.2.${r['NAS-Port'] % 250}` }
          : {}),
        ...r,
      })),
    });

  const code = (r: RadclientResult) => r.reply?.code ?? 'no reply';
  const accepted = (rs: RadclientResult[]) => {
    for (const r of rs) assert.equal(code(r), 'Access-Accept', `${JSON.stringify(r)}\n${fr.output()}`);
    return rs.map((r) => r.reply!);
  };
  const responded = (rs: RadclientResult[]) => {
    for (const r of rs) assert.equal(code(r), 'Accounting-Response', `${JSON.stringify(r)}\n${fr.output()}`);
  };

  it('an SQL user gets Framed-IP-Address from its pool and its radreply attributes in a signed Accept; a wrong password is rejected; no Message-Authenticator, no answer', async () => {
    const pool = range('10.80.1', 1, 3);
    await fr.sql!.addPool('p1', pool);
    await fr.sql!.addUser({
      name: 'u1',
      password: PASSWORD,
      pool: 'p1',
      reply: [
        ['Session-Timeout', '=', 3600],
        ['Acct-Interim-Interval', '=', 300],
      ],
    });
    const [ok] = accepted(await login(a, 'u1', [1]));
    const ip = ok!.get('Framed-IP-Address');
    assert.ok(ip && pool.includes(ip), `address ${ip} from the pool`);
    assert.equal(ok!.get('Session-Timeout'), '3600');
    assert.equal(ok!.get('Acct-Interim-Interval'), '300');
    // radclient checks a Message-Authenticator it receives: present means verified.
    assert.match(ok!.get('Message-Authenticator') ?? '', /^0x[0-9a-f]{32}$/);
    let leases = (await fr.sql!.leases('p1')).filter((l) => l.active);
    assert.deepEqual(
      leases.map((l) => [l.framedipaddress, l.nasipaddress, l.pool_key, l.username]),
      [[ip, a.address, '1', 'u1']],
    );

    // The same NAS-IP-Address + NAS-Port again: the lease it holds.
    const [again] = accepted(await login(a, 'u1', [1]));
    assert.equal(again!.get('Framed-IP-Address'), ip);

    const [bad] = await login(a, 'u1', [2], { 'User-Password': 'not-the-password' });
    assert.equal(code(bad!), 'Access-Reject');
    assert.equal(bad!.reply!.get('Reply-Message'), 'Wrong password for u1');
    assert.equal(bad!.reply!.get('Framed-IP-Address'), undefined);

    // require_message_authenticator = yes: dropped without a word.
    const [unsigned] = await login(a, 'u1', [3], {}, { messageAuthenticator: false, timeoutS: 1, tries: 1 });
    assert.equal(unsigned!.reply, undefined);
    leases = (await fr.sql!.leases('p1')).filter((l) => l.active);
    assert.equal(leases.length, 1, 'neither the reject nor the dropped request took an address');
  });

  it('40 Access-Requests with distinct NAS-Port from two NAS get 40 distinct addresses; the 41st finds the pool empty', async () => {
    const pool = range('10.80.2', 1, 40);
    await fr.sql!.addPool('p40', pool);
    await fr.sql!.addUser({ name: 'u40', password: PASSWORD, pool: 'p40' });
    // The same port numbers on both NAS: a lease is keyed by NAS-IP-Address + NAS-Port.
    const ports = Array.from({ length: 20 }, (_, i) => 100 + i);
    const [fromA, fromB] = await Promise.all([login(a, 'u40', ports), login(b, 'u40', ports)]);
    const addrA = accepted(fromA!).map((r) => r.get('Framed-IP-Address')!);
    const addrB = accepted(fromB!).map((r) => r.get('Framed-IP-Address')!);
    const all = [...addrA, ...addrB];
    assert.equal(new Set(all).size, 40, `distinct: ${all.join(' ')}`);
    for (const ip of all) assert.ok(pool.includes(ip), `${ip} from the pool`);

    const leases = await fr.sql!.leases('p40');
    assert.equal(leases.filter((l) => l.active).length, 40);
    const byAddress = new Map(leases.map((l) => [l.framedipaddress, l]));
    ports.forEach((p, i) => {
      assert.deepEqual(
        [byAddress.get(addrA[i]!)?.nasipaddress, byAddress.get(addrA[i]!)?.pool_key],
        [a.address, `${p}`],
      );
      assert.deepEqual(
        [byAddress.get(addrB[i]!)?.nasipaddress, byAddress.get(addrB[i]!)?.pool_key],
        [b.address, `${p}`],
      );
    });

    const [more] = await login(a, 'u40', [120]);
    assert.equal(code(more!), 'Access-Reject');
    assert.equal(more!.reply!.get('Reply-Message'), 'No address left in pool p40');
  });

  it('Accounting Stop frees the lease only when it repeats NAS-Port, User-Name, Calling-Station-Id and Framed-IP-Address', async () => {
    await fr.sql!.addPool('p3', ['10.80.3.1']);
    await fr.sql!.addUser({ name: 'u3', password: PASSWORD, pool: 'p3' });
    const [ok] = accepted(await login(a, 'u3', [1]));
    const ip = ok!.get('Framed-IP-Address')!;
    assert.equal(ip, '10.80.3.1');
    const session = { 'User-Name': 'u3', 'NAS-Port': 1, 'Framed-IP-Address': ip, 'Acct-Session-Id': 'u3-s1' };
    responded(await account(a, [{ ...session, 'Acct-Status-Type': 'Start' }]));
    assert.equal(code((await login(a, 'u3', [2]))[0]!), 'Access-Reject', 'the only address is taken');

    // A Stop whose Calling-Station-Id differs from the login's leaves the lease alone.
    responded(
      await account(a, [
        {
          ...session,
          'Calling-Station-Id': '198.51.100.9',
          'Acct-Status-Type': 'Stop',
          'Acct-Session-Time': 5,
        },
      ]),
    );
    assert.equal((await fr.sql!.leases('p3'))[0]!.active, true);

    responded(await account(a, [{ ...session, 'Acct-Status-Type': 'Stop', 'Acct-Session-Time': 6 }]));
    const [lease] = await fr.sql!.leases('p3');
    assert.equal(lease!.active, false, JSON.stringify(lease));

    // sqlippool takes addresses whose expiry is strictly in the past: wait for the next second.
    for (let i = 0; i < 30; i++) {
      const [row] = await fr.sql!.query<{ past: number }>(
        "SELECT expiry_time < datetime('now') AS past FROM radippool WHERE pool_name = 'p3'",
      );
      if (row!.past === 1) break;
      await sleep(100);
    }
    const [next] = accepted(await login(a, 'u3', [2]));
    assert.equal(next!.get('Framed-IP-Address'), ip);
  });

  it('Simultaneous-Use := 1 rejects a second login, from either NAS, while the first has a Start without a Stop', async () => {
    await fr.sql!.addUser({ name: 'u4', password: PASSWORD, simultaneousUse: 1 });
    accepted(await login(a, 'u4', [1]));
    // Sessions are counted in radacct: without a Start there is nothing to count.
    accepted(await login(b, 'u4', [1]));
    const session = { 'User-Name': 'u4', 'NAS-Port': 1, 'Acct-Session-Id': 'u4-s1' };
    responded(await account(a, [{ ...session, 'Acct-Status-Type': 'Start' }]));
    for (const [nas, port] of [
      [b, 5],
      [a, 2],
    ] as const) {
      const [second] = await login(nas, 'u4', [port]);
      assert.equal(code(second!), 'Access-Reject', `second login from ${nas.address}: ${fr.output()}`);
      assert.equal(second!.reply!.get('Reply-Message'), 'You are already logged in - access denied');
    }
    responded(await account(a, [{ ...session, 'Acct-Status-Type': 'Stop', 'Acct-Session-Time': 9 }]));
    accepted(await login(b, 'u4', [5]));
  });

  it("Accounting-On from NAS A frees A's leases and closes A's open sessions, not B's; Accounting-Off from B then frees B's", async () => {
    await fr.sql!.addPool('p5', range('10.80.5', 1, 4));
    await fr.sql!.addUser({ name: 'u5', password: PASSWORD, pool: 'p5' });
    await fr.sql!.addUser({ name: 'u5s', password: PASSWORD, simultaneousUse: 1 });
    const onA = accepted(await login(a, 'u5', [1, 2])).map((r) => r.get('Framed-IP-Address')!);
    const [onB] = accepted(await login(b, 'u5', [1])).map((r) => r.get('Framed-IP-Address')!);
    accepted(await login(a, 'u5s', [3]));
    const start = (user: string, port: number, ip?: string) => ({
      'User-Name': user,
      'NAS-Port': port,
      'Acct-Session-Id': `${user}-${port}`,
      'Acct-Status-Type': 'Start',
      ...(ip ? { 'Framed-IP-Address': ip } : {}),
    });
    responded(await account(a, [start('u5', 1, onA[0]), start('u5', 2, onA[1]), start('u5s', 3)]));
    responded(await account(b, [start('u5', 1, onB)]));
    assert.equal(code((await login(b, 'u5s', [4]))[0]!), 'Access-Reject', 'u5s is logged in on A');

    // RFC 2866 §5.1: Accounting-On, the NAS (re)started: none of its sessions exist any more.
    responded(await account(a, [{ 'Acct-Status-Type': 'Accounting-On', 'Acct-Session-Id': 'nas-a-on' }]));

    const leases = await fr.sql!.leases('p5');
    const active = (ip: string) => leases.find((l) => l.framedipaddress === ip)?.active;
    assert.deepEqual(
      [active(onA[0]!), active(onA[1]!), active(onB!)],
      [false, false, true],
      JSON.stringify(leases),
    );
    const rows = await fr.sql!.radacct("username IN ('u5', 'u5s')");
    assert.equal(rows.length, 4);
    for (const r of rows) {
      if (r.nasipaddress === a.address)
        assert.notEqual(r.acctstoptime, null, `A's row closed: ${JSON.stringify(r)}`);
      else assert.equal(r.acctstoptime, null, `B's row open: ${JSON.stringify(r)}`);
    }
    // And Simultaneous-Use no longer counts the session A lost.
    accepted(await login(b, 'u5s', [4]));

    // Accounting-Off (the NAS shuts down) ends B's sessions the same way.
    responded(await account(b, [{ 'Acct-Status-Type': 'Accounting-Off', 'Acct-Session-Id': 'nas-b-off' }]));
    assert.equal((await fr.sql!.leases('p5')).find((l) => l.framedipaddress === onB)?.active, false);
    const [rowB] = await fr.sql!.radacct(`username = 'u5' AND nasipaddress = '${b.address}'`);
    assert.notEqual(rowB!.acctstoptime, null);
  });

  it('radacct rows carry the Acct-Input/Output-Octets and -Gigawords of Interim-Update and Stop', async () => {
    const session = { 'User-Name': 'u6', 'NAS-Port': 6, 'Acct-Session-Id': 'u6-s1' };
    const G = 2 ** 32;
    responded(await account(b, [{ ...session, 'Acct-Status-Type': 'Start' }]));
    responded(
      await account(b, [
        {
          ...session,
          'Acct-Status-Type': 'Interim-Update',
          'Acct-Session-Time': 60,
          'Acct-Input-Octets': 123_456,
          'Acct-Input-Gigawords': 1,
          'Acct-Output-Octets': 654_321,
          'Acct-Output-Gigawords': 3,
        },
      ]),
    );
    let [row] = await fr.sql!.radacct("username = 'u6'");
    assert.deepEqual(
      [row!.acctinputoctets, row!.acctoutputoctets, row!.acctsessiontime, row!.acctstoptime],
      [G + 123_456, 3 * G + 654_321, 60, null],
    );
    responded(
      await account(b, [
        {
          ...session,
          'Acct-Status-Type': 'Stop',
          'Acct-Session-Time': 120,
          'Acct-Input-Octets': 4_000_000_000,
          'Acct-Input-Gigawords': 2,
          'Acct-Output-Octets': 7,
          'Acct-Output-Gigawords': 4,
          'Acct-Terminate-Cause': 'User-Request',
        },
      ]),
    );
    const rows = await fr.sql!.radacct("username = 'u6'");
    assert.equal(rows.length, 1, 'one row per session');
    row = rows[0];
    assert.deepEqual(
      [
        row!.acctinputoctets,
        row!.acctoutputoctets,
        row!.acctsessiontime,
        row!.acctterminatecause,
        row!.nasipaddress,
      ],
      [2 * G + 4_000_000_000, 4 * G + 7, 120, 'User-Request', b.address],
    );
    assert.notEqual(row!.acctstoptime, null);
  });

  it('the DAS client: Disconnect-Request and CoA-Request to address:port are ACKed, NAKed with Error-Cause, or unanswered with a wrong secret', async () => {
    const server = `${fr.host}:${fr.coaPort}`;
    const netns = { lab, ns: a.ns };
    const ack = await dasRequest({
      server,
      kind: 'disconnect',
      secret: SECRET,
      netns,
      attributes: { 'User-Name': 'u1', 'Acct-Session-Id': 'u1-s1' },
    });
    assert.equal(ack?.code, 'Disconnect-ACK', fr.output());
    const coa = await dasRequest({
      server,
      kind: 'coa',
      secret: SECRET,
      netns,
      attributes: { 'User-Name': 'u1', 'Acct-Session-Id': 'u1-s1', 'Session-Timeout': 60 },
    });
    assert.equal(coa?.code, 'CoA-ACK');
    const nak = await dasRequest({
      server,
      kind: 'disconnect',
      secret: SECRET,
      netns,
      attributes: { 'User-Name': 'unknown-session' },
    });
    assert.equal(nak?.code, 'Disconnect-NAK');
    assert.equal(nak?.get('Error-Cause'), 'Session-Context-Not-Found');
    const none = await dasRequest({
      server,
      kind: 'disconnect',
      secret: 'not-the-secret',
      netns,
      attributes: { 'User-Name': 'u1' },
      timeoutS: 1,
      tries: 1,
    });
    assert.equal(none, undefined);
  });

  it('stop() ends FreeRADIUS by its PID and removes its directory', async () => {
    const { pid, dir } = fr;
    assert.ok(existsSync(dir));
    await fr.stop();
    assert.equal(existsSync(dir), false);
    assert.throws(() => process.kill(pid, 0), /ESRCH/);
  });
});
