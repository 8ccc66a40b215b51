/**
 * Interop, server side: pptp-linux + pppd + the Linux kernel's
 * ppp_mppe in a VM dial `pptp-ts serve`, which runs in the lab namespace on
 * 192.0.2.1 with the tunnel pool 198.51.100.10-99 and a DNS server
 * (`pptp-ts demo dns-server`, zone example.test) behind it.
 *
 * Oracles: pppd's log in the VM (what it negotiated, why it ended, its exit
 * status), the kernel's ping in the VM, sha256sum, busybox nslookup, and the
 * capture of the VM's link read back by `pptp-ts decode`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Spawned } from '../helpers/netns.js';
import {
  assertCallSetUp,
  assertNegotiatedInOrder,
  assertStatefulFlow,
  exitWithin,
  handshake,
  logFields,
  mppeFlows,
  netTool,
  netToolArgv,
} from './cases.js';
import { type Capture, LAB_NET, Lab, type Vm } from './lab.js';
import { chapSecrets, LAB_USER, PPPD_EXIT, type PppPolicy, PptpClient, TUNNEL_NET } from './peers.js';

/** The demo DNS server's zone (src/cli/demo/dns-server.ts). */
const DNS = { name: 'www.example.test', answer: '10.88.0.80' };
const SERVER_NAME = 'pptp-ts';

describe('interop: pptp-linux + pppd → pptp-ts serve', { timeout: 20 * 60_000 }, () => {
  let lab: Lab;
  let vm: Vm;
  let secrets: string;
  let dns: Spawned;

  after(() => lab?.close());
  before(async () => {
    lab = await Lab.create();
    vm = await lab.bootVm({ name: 'client' });
    secrets = lab.writeFile(
      'chap-secrets',
      chapSecrets([{ client: LAB_USER.name, secret: LAB_USER.password }]),
    );
    dns = lab.spawnPptpTs(['demo', 'dns-server', '--listen', '0.0.0.0']);
    await dns.waitFor(/listening on/, 30_000);
  });

  interface Served {
    server: Spawned;
    cap: Capture;
  }

  /** Starts `pptp-ts serve` with these `ppp` keys (docs/client-server.md) and a capture of `peer`'s link. */
  async function serve(
    name: string,
    ppp: Record<string, unknown>,
    peer = vm,
    more: Record<string, unknown> = {},
  ): Promise<Served> {
    const config = lab.writeFile(
      `${name}.json`,
      JSON.stringify({
        listen: LAB_NET.hostAddress,
        name: SERVER_NAME,
        'local-ip': TUNNEL_NET.serverAddress,
        pool: '198.51.100.10-198.51.100.99',
        secrets,
        'ms-dns': [TUNNEL_NET.serverAddress],
        ppp,
        ...more,
      }),
    );
    const server = lab.spawnPptpTs(['serve', '--config', config]);
    await server.waitFor(/ listening /, 30_000);
    const cap = await lab.capture(name, { vm: peer });
    return { server, cap };
  }

  function dial(ppp: PppPolicy, opts: { password?: string; peer?: Vm } = {}): Promise<PptpClient> {
    return PptpClient.start(opts.peer ?? vm, {
      server: LAB_NET.hostAddress,
      remoteName: SERVER_NAME,
      ppp,
      ...(opts.password ? { password: opts.password } : {}),
    });
  }

  /** Stops pppd, then the server (SIGTERM: graceful); never throws. */
  async function cleanup(s: Served, pptp: PptpClient | undefined, peer = vm): Promise<void> {
    if (pptp && peer.running) await pptp.stop().catch(() => {});
    await s.server.kill(15_000).catch(() => {});
    await s.cap.stop().catch(() => {});
  }

  async function withDiagnostics(s: Served, pptp: PptpClient | undefined, body: () => Promise<void>) {
    try {
      await body();
    } catch (e) {
      const log = pptp?.vm.running ? await pptp.log().catch(() => '') : '';
      throw new Error(
        `${(e as Error).message}\n--- pptp-ts serve ---\n${s.server.stderr().slice(-4000)}\n--- pppd ---\n${log.slice(-4000)}`,
      );
    }
  }

  /** The server's last "session end" line, once it is there. */
  async function sessionEnd(s: Served, timeoutMs = 20_000): Promise<Record<string, string>> {
    await s.server.waitFor(/ session end /, timeoutMs);
    return logFields(s.server.stderr(), / session end /)!;
  }

  it('MS-CHAPv2 + MPPE-128 stateless: pppd reports it; ping, 1300-byte ping, DNS, 4 MB each way, clean disconnect', async () => {
    const s = await serve('serve-mppe128', {});
    const pptp = await dial({});
    await withDiagnostics(s, pptp, async () => {
      try {
        const link = await pptp.waitUp();
        assert.equal(link.mppe, 'MPPE 128-bit stateless compression enabled');
        assert.equal(link.localAddress, TUNNEL_NET.poolStart);
        assert.equal(link.remoteAddress, TUNNEL_NET.serverAddress);
        assert.match(await pptp.log(), /CHAP authentication succeeded/);
        const up = logFields(s.server.stderr(), / session up /);
        assert.equal(up?.user, LAB_USER.name);
        assert.equal(up?.address, TUNNEL_NET.poolStart);

        await vm.run(`ping -c 3 -W 5 ${TUNNEL_NET.serverAddress}`);
        await vm.run(`ping -c 1 -W 5 -M do -s 1300 ${TUNNEL_NET.serverAddress}`);

        // ms-dns pushed by IPCP (RFC 1877), and the DNS server behind pptp-ts answers through the tunnel.
        assert.match(await vm.run('cat /etc/ppp/resolv.conf'), /nameserver 198\.51\.100\.1/);
        const ns = await vm.run(`busybox nslookup -type=a ${DNS.name} ${TUNNEL_NET.serverAddress}`);
        assert.match(ns, new RegExp(`Address: ${DNS.answer.replace(/\./g, '\\.')}`));
        assert.match(
          dns.stdout(),
          new RegExp(
            `query from ${TUNNEL_NET.poolStart.replace(/\./g, '\\.')}:\\d+: ${DNS.name} A -> NOERROR`,
          ),
        );

        // 4 MB from the VM to the namespace (the kernel encrypts, pptp-ts decrypts)...
        const sink = lab.spawn(netToolArgv(['sink', '0.0.0.0', '5001']));
        await sink.waitFor(/listening/, 20_000);
        const sent = await vm.run(
          `head -c 4000000 /dev/urandom > /tmp/tx && nc -N ${TUNNEL_NET.serverAddress} 5001 < /tmp/tx && sha256sum < /tmp/tx`,
          { timeoutMs: 180_000 },
        );
        const got = await exitWithin(sink, 60_000, 'the sink');
        assert.equal(got.stdout.trim().split('\n').pop(), `4000000 ${sent.split(' ')[0]}`);
        // ...and 4 MB back.
        await vm.startDaemon('sink', `exec nc -l ${TUNNEL_NET.poolStart} 5001 > /tmp/rx`);
        await vm.waitFor("ss -Hltn 'sport = :5001' | grep -q LISTEN", 'nc to listen');
        const [, sha] = (await netTool(lab, ['send', TUNNEL_NET.poolStart, '5001', '4000000'])).split(' ');
        assert.equal(await vm.waitDaemonExit('sink', 60_000), 0);
        assert.equal((await vm.run('sha256sum < /tmp/rx')).split(' ')[0], sha);

        // pppd hangs up (SIGTERM): the server ends the session and frees the address.
        assert.equal(await pptp.stop(), PPPD_EXIT.signalled);
        const end = await sessionEnd(s);
        assert.equal(end.user, LAB_USER.name);
        assert.equal(end.sessions, '0');
        // Graceful shutdown: exit 0, and the shared interface is gone.
        const r = await s.server.kill(15_000);
        assert.equal(r.code, 0, `serve exit ${r.code ?? r.signal}`);
        assert.doesNotMatch((await lab.exec(['ip', '-br', 'link'])).stdout, /pptps0/);
      } finally {
        await cleanup(s, pptp);
      }
    });
    const { control, layers } = await assertCallSetUp(lab, s.cap.file);
    const names = handshake(control);
    assert.ok(names.indexOf('CCRQ') > 3, names.join(' '));
    assert.deepEqual(
      control.filter((c) => ['SCCRP', 'OCRP'].includes(c.name)).map((c) => c.source),
      [LAB_NET.hostAddress, LAB_NET.hostAddress],
    );
    assertNegotiatedInOrder(layers);
  });

  const variants: {
    name: string;
    server: Record<string, unknown>;
    client: PppPolicy;
    pppd: RegExp | null;
  }[] = [
    {
      name: 'MPPE-40',
      server: { 'require-mppe-128': false, 'require-mppe-40': true },
      client: { mppe: 'require-40' },
      pppd: /^MPPE 40-bit stateless compression enabled$/m,
    },
    { name: 'MPPE off on both sides', server: { nomppe: true }, client: { mppe: 'off' }, pppd: null },
  ];
  for (const v of variants) {
    it(`${v.name}: tunnel up, ping, 500 kB from the VM`, async () => {
      const s = await serve(`serve-${v.name.replace(/\W+/g, '-')}`, v.server);
      const pptp = await dial(v.client);
      await withDiagnostics(s, pptp, async () => {
        try {
          const link = await pptp.waitUp();
          if (v.pppd) assert.match(await pptp.log(), v.pppd);
          else assert.equal(link.mppe, undefined);
          await vm.run(`ping -c 2 -W 5 ${TUNNEL_NET.serverAddress}`);
          const sink = lab.spawn(netToolArgv(['sink', '0.0.0.0', '5001']));
          await sink.waitFor(/listening/, 20_000);
          const sent = await vm.run(
            `head -c 500000 /dev/urandom > /tmp/tx && nc -N ${TUNNEL_NET.serverAddress} 5001 < /tmp/tx && sha256sum < /tmp/tx`,
            { timeoutMs: 120_000 },
          );
          const got = await exitWithin(sink, 60_000, 'the sink');
          assert.equal(got.stdout.trim().split('\n').pop(), `500000 ${sent.split(' ')[0]}`);
        } finally {
          await cleanup(s, pptp);
        }
      });
      await assertCallSetUp(lab, s.cap.file);
    });
  }

  it('stateful MPPE both ways (pppd mppe-stateful, pptp-ts preferring it): pppd and the capture agree, 1 MB each way', async (t) => {
    // pppd requests stateless (+H) even with mppe-stateful; the server Naks it with H clear, which pppd
    // takes (docs/ppp.md, CCP), and acks the server's own stateful request: both directions stateful.
    const s = await serve('serve-stateful', { 'mppe-stateful': true });
    const pptp = await dial({ stateful: true });
    await withDiagnostics(s, pptp, async () => {
      try {
        const link = await pptp.waitUp();
        // pppd names its own receive side in this line (method_name(go, ...)): stateful only after our Nak.
        assert.equal(link.mppe, 'MPPE 128-bit stateful compression enabled');
        const log = await pptp.log();
        assert.match(log, /sent \[CCP ConfReq id=0x[0-9a-f]+ <mppe \+H -M \+S -L -D -C>\]/);
        assert.match(log, /rcvd \[CCP ConfNak id=0x[0-9a-f]+ <mppe -H -M \+S -L -D -C>\]/);
        assert.match(log, /sent \[CCP ConfReq id=0x[0-9a-f]+ <mppe -H -M \+S -L -D -C>\]/);
        assert.match(log, /rcvd \[CCP ConfAck id=0x[0-9a-f]+ <mppe -H -M \+S -L -D -C>\]/);
        assert.match(log, /sent \[CCP ConfAck id=0x[0-9a-f]+ <mppe -H -M \+S -L -D -C>\]/);
        await s.server.waitFor(/ session up /, 20_000);
        assert.equal(logFields(s.server.stderr(), / session up /)?.mppe, '128-bit stateful');
        // The VM sends: the kernel's stateful MPPE, decrypted by pptp-ts.
        const sink = lab.spawn(netToolArgv(['sink', '0.0.0.0', '5001']));
        await sink.waitFor(/listening/, 20_000);
        const sent = await vm.run(
          `head -c 1000000 /dev/urandom > /tmp/tx && nc -N ${TUNNEL_NET.serverAddress} 5001 < /tmp/tx && sha256sum < /tmp/tx`,
          { timeoutMs: 120_000 },
        );
        const got = await exitWithin(sink, 60_000, 'the sink');
        assert.equal(got.stdout.trim().split('\n').pop(), `1000000 ${sent.split(' ')[0]}`);
        // And back: what pptp-ts encrypts statefully, the kernel decrypts.
        await vm.startDaemon('sink', `exec nc -l ${TUNNEL_NET.poolStart} 5001 > /tmp/rx`);
        await vm.waitFor("ss -Hltn 'sport = :5001' | grep -q LISTEN", 'nc to listen');
        const [, sha] = (await netTool(lab, ['send', TUNNEL_NET.poolStart, '5001', '1000000'])).split(' ');
        assert.equal(await vm.waitDaemonExit('sink', 60_000), 0);
        assert.equal((await vm.run('sha256sum < /tmp/rx')).split(' ')[0], sha);
        // Neither side lost stateful sync: no Reset-Request either way.
        assert.doesNotMatch(await pptp.log(), /CCP ResetReq/);
      } finally {
        await cleanup(s, pptp);
      }
    });
    await assertCallSetUp(lab, s.cap.file);
    // The capture: both senders stateful (few FLUSHED bits, consecutive coherency counts), and every
    // packet decrypted by pptp-ts decode's own stateful decryptor. 1 MB is about 700 full packets.
    const password = lab.writeFile('serve-stateful.password', `${LAB_USER.password}\n`);
    const flows = await mppeFlows(lab, s.cap.file, password);
    t.diagnostic(assertStatefulFlow(flows, vm.address, 600));
    t.diagnostic(assertStatefulFlow(flows, LAB_NET.hostAddress, 600));
  });

  it('a wrong password: pppd gets E=691 and exits 19; the server logs the failure', async () => {
    const s = await serve('serve-wrong-password', {});
    const pptp = await dial({}, { password: 'not-the-secret' });
    await withDiagnostics(s, pptp, async () => {
      try {
        assert.equal(await pptp.waitExit(60_000), PPPD_EXIT.authToPeerFailed);
        const log = await pptp.log();
        assert.match(log, /rcvd \[CHAP Failure id=0x[0-9a-f]+ "E=691 /);
        assert.match(s.server.stderr(), /failed authentication/);
        assert.equal((await sessionEnd(s)).sessions, '0');
      } finally {
        await cleanup(s, pptp);
      }
    });
    await assertCallSetUp(lab, s.cap.file);
  });

  it('MPPE required by pptp-ts (default), refused by pppd (nomppe): no network protocol comes up', async () => {
    const s = await serve('serve-mppe-unwanted', {});
    const pptp = await dial({ mppe: 'off' });
    await withDiagnostics(s, pptp, async () => {
      try {
        const code = await pptp.waitExit(60_000);
        const log = await pptp.log();
        assert.doesNotMatch(log, /local {2}IP address/);
        assert.match(log, /rcvd \[LCP TermReq id=0x[0-9a-f]+ "[^"]*MPPE/i);
        assert.ok(code === PPPD_EXIT.ok || code === PPPD_EXIT.hangup, `pppd exit ${code}`);
        assert.match((await sessionEnd(s)).reason ?? '', /MPPE/i);
      } finally {
        await cleanup(s, pptp);
      }
    });
    await assertCallSetUp(lab, s.cap.file);
  });

  it('MPPE required by pppd, refused by pptp-ts (nomppe): pppd gives up with "MPPE required but peer refused"', async () => {
    const s = await serve('serve-mppe-refused', { nomppe: true, 'require-mppe-128': false });
    const pptp = await dial({ mppe: 'require-128' });
    await withDiagnostics(s, pptp, async () => {
      try {
        const code = await pptp.waitExit(60_000);
        const log = await pptp.log();
        assert.doesNotMatch(log, /local {2}IP address/);
        assert.match(log, /MPPE required but peer (refused|negotiation failed)/);
        // pppd itself gives up, so it exits "negotiation failed" (pptp-ts answers CCP with
        // LCP Protocol-Reject when MPPE is off; a Configure-Reject would end the same way).
        assert.equal(code, PPPD_EXIT.negotiationFailed);
        assert.equal((await sessionEnd(s)).sessions, '0');
      } finally {
        await cleanup(s, pptp);
      }
    });
    await assertCallSetUp(lab, s.cap.file);
  });

  it('IPv6CP (per-session interfaces, ppp.ipv6): link-local addresses on both ends and an IPv6 ping', async () => {
    // Shared mode carries IPv4 only and offers no IPv6CP (docs/client-server.md).
    const s = await serve('serve-ipv6', { ipv6: true }, vm, { interface: { mode: 'per-session' } });
    const pptp = await dial({ ipv6: true });
    await withDiagnostics(s, pptp, async () => {
      try {
        const link = await pptp.waitUp({ ipv6: true });
        assert.match(link.localLinkLocal ?? '', /^fe80::/);
        assert.match(link.remoteLinkLocal ?? '', /^fe80::/);
        await vm.run(`ping -6 -c 2 -W 5 ${link.remoteLinkLocal}%${link.ifname}`);
      } finally {
        await cleanup(s, pptp);
      }
    });
    await assertCallSetUp(lab, s.cap.file);
  });

  it('the client VM killed mid-session: the server notices by LCP echo and ends the session', async () => {
    const victim = await lab.bootVm({ name: 'victim' });
    const s = await serve('serve-killed', { 'lcp-echo-interval': 1, 'lcp-echo-failure': 3 }, victim);
    const pptp = await dial({}, { peer: victim });
    await withDiagnostics(s, pptp, async () => {
      try {
        await pptp.waitUp();
        await victim.run(`ping -c 1 -W 5 ${TUNNEL_NET.serverAddress}`);
        const t0 = Date.now();
        await victim.kill();
        const end = await sessionEnd(s, 60_000);
        assert.ok(Date.now() - t0 < 30_000, `noticed only after ${Date.now() - t0} ms`);
        assert.equal(end.sessions, '0');
        assert.equal(end.address, TUNNEL_NET.poolStart);
      } finally {
        await cleanup(s, pptp, victim);
      }
    });
    await assertCallSetUp(lab, s.cap.file);
  });
});
