/**
 * `pptp-ts connect` ↔ `pptp-ts serve` as real processes in two network
 * namespaces joined by veth, on real TUN interfaces and raw GRE sockets:
 * ping, DNS through the tunnel (a dns-packet responder behind the server's
 * tunnel address), a 20 MB TCP transfer whose SHA-256 must match, with
 * MPPE-128 and without; routes, the DNS file and the hooks while up; and a
 * SIGTERM teardown that leaves nothing behind on either side.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { createLab, listNamespaces } from '../helpers/netns.js';
import { requireRoot } from '../helpers/tools.js';
import {
  CLIENT_IP,
  hostState,
  SERVER_IP,
  serverStatus,
  startClient,
  startServer,
  statusCounter,
  TOOL,
  TUNNEL_LOCAL,
  tempDir,
  twoHosts,
  waitExit,
  waitUp,
  writePassword,
  writeServerConfig,
} from './tunnel-lab.js';

const TRANSFER_BYTES = 20 * 1024 * 1024;

describe('pptp-ts connect ↔ pptp-ts serve on real interfaces', () => {
  before(() => requireRoot('ip', 'ping'));
  const lab = createLab('tunbasic');
  const dir = tempDir('basic');
  let ns: { server: string; client: string };

  before(async () => {
    ns = await twoHosts(lab);
  });

  for (const mppe of [true, false]) {
    it(`ping, DNS and 20 MB over TCP ${mppe ? 'with MPPE-128' : 'without MPPE'}; SIGTERM leaves nothing`, async () => {
      const before = { server: await hostState(lab, ns.server), client: await hostState(lab, ns.client) };
      const config = writeServerConfig(dir, mppe ? {} : { ppp: { nomppe: true } });
      const server = await startServer(lab, ns.server, config);
      const dns = lab.spawn(ns.server, [...TOOL, 'dns-server', TUNNEL_LOCAL]);
      // The DNS responder binds the tunnel address, which exists once the shared TUN is up.
      await dns.waitFor(/dns ready/, 20_000);

      const hookLog = join(dir, `hook-${mppe}.log`);
      const hook = join(dir, `hook-${mppe}.sh`);
      writeFileSync(
        hook,
        `#!/bin/sh\necho "$(basename "$0") $1 $4 $5 IFNAME=$IFNAME IPLOCAL=$IPLOCAL IPREMOTE=$IPREMOTE DNS1=$DNS1 PEERNAME=$PEERNAME" >> ${hookLog}\n`,
        { mode: 0o755 },
      );
      const resolv = join(dir, `resolv-${mppe}.conf`);
      const client = startClient(lab, ns.client, [
        '--user',
        'alice',
        '--password-file',
        writePassword(dir, 'correct horse'),
        '--mppe',
        mppe ? 'required,128' : 'off',
        '--ifname',
        'pptpt0',
        '--default-route',
        '--route',
        '203.0.113.0/24',
        '--usepeerdns',
        '--resolv-conf',
        resolv,
        '--ip-up',
        hook,
        '--ip-down',
        hook,
      ]);
      const up = await waitUp(client);
      assert.equal(up.ifname, 'pptpt0');
      assert.equal(up.remote, TUNNEL_LOCAL);
      assert.equal(up.local, '10.88.0.10');
      assert.deepEqual(up.dns, [TUNNEL_LOCAL]);
      assert.equal(up.auth, 'MS-CHAP-v2');
      assert.equal(up.mppe, mppe ? '128-bit stateless' : 'off');
      assert.equal(up.mtu, mppe ? 1456 : 1460, 'veth MTU 1500 − 20 − 16 − 4 (− 4 for MPPE)');

      // The interface, routes and DNS file as configured.
      const link = JSON.parse(
        (await lab.exec(ns.client, ['ip', '-j', 'addr', 'show', 'dev', 'pptpt0'])).stdout,
      );
      assert.equal(link[0].mtu, up.mtu);
      assert.ok(link[0].flags.includes('POINTOPOINT') && link[0].flags.includes('UP'));
      const a4 = link[0].addr_info.find((a: { family: string }) => a.family === 'inet');
      assert.equal(a4.local, up.local);
      assert.equal(a4.address, up.remote);
      const routes = (await hostState(lab, ns.client)).routes;
      for (const r of ['0.0.0.0/1 dev pptpt0', '128.0.0.0/1 dev pptpt0', '203.0.113.0/24 dev pptpt0']) {
        assert.ok(routes.includes(r), `${r} in ${routes.join(', ')}`);
      }
      assert.ok(routes.includes(`${SERVER_IP} dev vcli`), 'host route to the server outside the tunnel');
      assert.equal(readFileSync(resolv, 'utf8'), `nameserver ${TUNNEL_LOCAL}\n`);

      // Ping through the tunnel.
      const ping = await lab.exec(ns.client, ['ping', '-c', '3', '-i', '0.2', '-W', '2', TUNNEL_LOCAL]);
      assert.match(ping.stdout, /3 received/);

      // DNS through the tunnel, to the address IPCP gave.
      const q = await lab.exec(ns.client, [...TOOL, 'dns-query', up.dns[0]!, 'www.pptp.test']);
      assert.match(q.stdout, /answer www\.pptp\.test 192\.0\.2\.123/);
      assert.match(dns.stdout(), /query www\.pptp\.test from 10\.88\.0\.10/);

      // 20 MB over TCP, checksummed at both ends.
      const sink = lab.spawn(ns.server, [...TOOL, 'tcp-sink', TUNNEL_LOCAL, '5001']);
      await sink.waitFor(/sink ready/, 20_000);
      const send = await lab.exec(
        ns.client,
        [...TOOL, 'tcp-send', TUNNEL_LOCAL, '5001', String(TRANSFER_BYTES)],
        {
          timeoutMs: 120_000,
        },
      );
      const sent = /sent (\d+) ([0-9a-f]{64})/.exec(send.stdout);
      await sink.waitFor(/sink \d+ [0-9a-f]{64}/, 60_000);
      const got = /sink (\d+) ([0-9a-f]{64})/.exec(sink.stdout());
      assert.ok(sent && got);
      assert.equal(Number(got[1]), TRANSFER_BYTES);
      assert.equal(got[2], sent[2], 'SHA-256 of what arrived equals what was sent');

      // The server sees one session for alice.
      const status = await serverStatus(server);
      assert.match(
        status.join('\n'),
        /session call=\d+ peer=198\.51\.100\.2 user=alice address=10\.88\.0\.10 up=true/,
      );
      assert.equal(statusCounter(status, 'spoofedDropped'), 0);

      // SIGTERM: exit 0, and the client host is exactly as before.
      await client.kill();
      const exit = await waitExit(client);
      assert.equal(exit.code, 0, exit.stderr);
      assert.match(exit.stdout, /disconnected/);
      assert.deepEqual(await hostState(lab, ns.client), before.client);
      assert.equal(existsSync(resolv), false, 'the DNS file is removed');
      const hooks = readFileSync(hookLog, 'utf8').trim().split('\n');
      assert.equal(hooks.length, 2);
      assert.match(
        hooks[0]!,
        new RegExp(
          `pptpt0 ${up.local} ${up.remote} IFNAME=pptpt0 IPLOCAL=${up.local} IPREMOTE=${up.remote} DNS1=${TUNNEL_LOCAL} PEERNAME=${SERVER_IP}`,
        ),
      );
      assert.match(hooks[1]!, /pptpt0/);

      // The server logs the end of the session with its byte counts.
      await server.waitFor(/session end .*user=alice .*rxBytes=\d+/, 10_000);
      const end = /session end .*rxBytes=(\d+)/.exec(server.stderr());
      assert.ok(Number(end![1]) >= TRANSFER_BYTES, 'the server counted what it received');
      await dns.kill();
      await server.kill();
      const sexit = await waitExit(server);
      assert.equal(sexit.code, 0, sexit.stderr);
      assert.deepEqual(
        await hostState(lab, ns.server),
        before.server,
        'the shared TUN and its routes are gone',
      );
      void CLIENT_IP;
    });
  }

  it('per-session interface with --ipv6: IPv4 and an IPv6 link-local ping; nothing left after', async () => {
    const before = { server: await hostState(lab, ns.server), client: await hostState(lab, ns.client) };
    const config = writeServerConfig(dir, {
      interface: { mode: 'per-session', name: 'pptpsx0' },
      ppp: { ipv6: true },
    });
    const server = await startServer(lab, ns.server, config);
    const client = startClient(lab, ns.client, [
      '--user',
      'alice',
      '--password-file',
      writePassword(dir, 'correct horse'),
      '--ifname',
      'pptpt6',
      '--ipv6',
    ]);
    try {
      await waitUp(client);
      await client.waitFor(/^ {2}ipv6 +(fe80::\S+) peer (fe80::\S+)$/m, 20_000);
      const [, , peerLl] = /^ {2}ipv6 +(fe80::\S+) peer (fe80::\S+)$/m.exec(client.stdout())!;
      // The server's own interface for this session, with the mirrored pair.
      await server.waitFor(/session IPv6 up .*ifname=pptpsx(\d+)/, 20_000);
      const sif = /session IPv6 up .*ifname=(pptpsx\d+)/.exec(server.stderr())![1]!;
      const addrs = (await lab.exec(ns.server, ['ip', '-6', 'addr', 'show', 'dev', sif])).stdout;
      assert.ok(addrs.includes(`inet6 ${peerLl} peer`), addrs);
      assert.match(
        (await lab.exec(ns.client, ['ping', '-c', '1', '-W', '3', TUNNEL_LOCAL])).stdout,
        /1 received/,
      );
      const p6 = await lab.exec(ns.client, [
        'ping',
        '-6',
        '-c',
        '2',
        '-i',
        '0.2',
        '-W',
        '3',
        `${peerLl}%pptpt6`,
      ]);
      assert.match(p6.stdout, /2 received/);
    } finally {
      await client.kill();
      await server.kill();
    }
    assert.deepEqual(await hostState(lab, ns.client), before.client);
    assert.deepEqual(await hostState(lab, ns.server), before.server, 'the session interface is gone');
  });

  it('leaves no namespace behind', async () => {
    await lab.cleanup();
    const left = (await listNamespaces()).filter((n) => n.startsWith(lab.prefix));
    assert.deepEqual(left, []);
  });
});
