/**
 * Proves the interop lab before pptp-ts meets it: two VMs, one
 * running pptpd and one running pppd + pptp-linux, talk real PPTP through
 * the lab bridge with each PPP policy the interop cases use. If these fail,
 * an interop case failing says nothing about pptp-ts.
 *
 * Independent oracles only: pppd's and pptpd's own logs, the kernel's
 * interfaces, sha256sum, busybox nslookup, tcpdump's PPTP dissector, and
 * PPTP control messages built here by hand from RFC 2637 §2.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { LAB_NET, Lab, type Vm } from './lab.js';
import { Dnsmasq, LAB_USER, PPPD_EXIT, type PppPolicy, PptpClient, Pptpd, TUNNEL_NET } from './peers.js';

/** Builds a PPTP control message (RFC 2637 §1.4): Length, type 1, cookie, control type, Reserved0, body. */
function controlMessage(controlType: number, body: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(12 + body.length, 0); // Length: "Total length in octets of this PPTP message"
  head.writeUInt16BE(1, 2); // PPTP Message Type: "1 for Control Message"
  head.writeUInt32BE(0x1a2b3c4d, 4); // Magic Cookie
  head.writeUInt16BE(controlType, 8);
  return Buffer.concat([head, body]); // Reserved0 stays 0: "This field MUST be 0"
}

/** RFC 2637 §2.1 Start-Control-Connection-Request from a PNS. */
function sccrq(): Buffer {
  const body = Buffer.alloc(144);
  body.writeUInt16BE(0x0100, 0); // Protocol Version 1.0
  body.writeUInt32BE(1, 4); // Framing Capabilities: asynchronous
  body.writeUInt32BE(1, 8); // Bearer Capabilities: analog
  body.writeUInt16BE(0, 12); // Maximum Channels: "SHOULD be set to 0" by a PNS
  body.write('interop-probe', 16, 'latin1'); // Host Name (64 octets)
  body.write('pptp-ts lab', 80, 'latin1'); // Vendor String (64 octets)
  return controlMessage(1, body);
}

/** RFC 2637 §2.3 Stop-Control-Connection-Request, Reason 1 (None). */
function stopccrq(): Buffer {
  const body = Buffer.alloc(4);
  body.writeUInt8(1, 0);
  return controlMessage(3, body);
}

/**
 * The control messages of a pptp-linux session hung up by SIGTERM to pppd,
 * as tcpdump's PPTP dissector names them. pptp-linux sends no Set-Link-Info,
 * and on hang-up it sends Call-Clear-Request and closes TCP at once: no
 * Call-Disconnect-Notify, no Stop-Control-Connection (docs/interop.md).
 */
const PPTP_LINUX_SESSION = ['SCCRQ', 'SCCRP', 'OCRQ', 'OCRP', 'CCRQ'];

describe('interop lab: Linux PPTP peers in qemu', { timeout: 15 * 60_000 }, () => {
  let lab: Lab;
  let server: Vm;
  let client: Vm;

  after(() => lab?.close());
  before(async () => {
    lab = await Lab.create();
    const t0 = Date.now();
    [server, client] = await Promise.all([lab.bootVm({ name: 'server' }), lab.bootVm({ name: 'client' })]);
    process.stderr.write(
      `interop lab: two VMs up in ${Date.now() - t0} ms (boot ${server.bootMs} / ${client.bootMs} ms), work dir ${lab.workDir}\n`,
    );
  });

  describe('the VM and its agent', () => {
    it('reports exit status, stdout and stderr separately', async () => {
      const r = await server.exec('echo out; echo err >&2; exit 7');
      assert.equal(r.status, 'exit:7');
      assert.equal(r.code, 7);
      assert.equal(r.stdout, 'out\n');
      assert.equal(r.stderr, 'err\n');
    });

    it('passes arbitrary bytes through stdin and back unchanged', async () => {
      const data = randomBytes(200_000);
      const r = await server.exec('cat', { stdin: data });
      assert.equal(r.code, 0);
      assert.ok(r.stdoutBytes.equals(data));
    });

    it('kills a command that runs out of time, with its whole process group', async () => {
      const t0 = Date.now();
      const r = await server.exec('sleep 300 & echo $! > /tmp/bg; sleep 300', { timeoutMs: 1000 });
      assert.equal(r.status, 'timeout');
      assert.ok(Date.now() - t0 < 10_000);
      const bg = (await server.run('cat /tmp/bg')).trim();
      await server.waitFor(`! kill -0 ${bg} 2>/dev/null`, 'the background sleep to be gone', 5000);
    });

    it('starts a daemon that outlives the request, reports its exit status and stops it', async () => {
      const pid = await server.startDaemon('probe', 'sleep 300');
      assert.equal(await server.daemonExit('probe'), null);
      assert.equal((await server.exec(`kill -0 ${pid}`)).code, 0);
      assert.equal(await server.stopDaemon('probe', 'TERM', 2000), 128 + 15);
    });

    it('loads the PPP modules: ppp_generic, ppp_async, ppp_mppe, pptp, and /dev/ppp exists', async () => {
      for (const vm of [server, client]) {
        const mods = (await vm.run('cut -d" " -f1 /proc/modules')).split('\n');
        for (const m of ['ppp_generic', 'ppp_async', 'ppp_mppe', 'pptp', 'virtio_net']) {
          assert.ok(mods.includes(m), `${vm.name}: ${m} not loaded`);
        }
        assert.equal((await vm.exec('[ -c /dev/ppp ]')).code, 0, `${vm.name}: no /dev/ppp`);
      }
    });

    it('is reachable from the lab namespace and its interfaces exist only there', async () => {
      const ping = await lab.exec(['ping', '-c', '1', '-W', '5', server.address], { allowFail: true });
      assert.equal(ping.code, 0, ping.stdout + ping.stderr);
      const inNs = await lab.exec(['ip', '-br', 'link'], {});
      for (const ifname of [LAB_NET.bridge, server.tap, client.tap]) {
        assert.match(inNs.stdout, new RegExp(`^${ifname}\\b`, 'm'));
      }
      // The host's own namespace has none of them (looked up by name only).
      for (const ifname of [server.tap, client.tap]) {
        const r = spawnSync('ip', ['link', 'show', 'dev', ifname], { encoding: 'utf8' });
        assert.notEqual(r.status, 0, `${ifname} exists in the host namespace`);
      }
    });
  });

  describe('pptpd', () => {
    it('answers a hand-built SCCRQ from the lab namespace with a successful SCCRP, and StopCCRQ with StopCCRP', async () => {
      const pptpd = await Pptpd.start(server);
      try {
        const r = await lab.exec(
          [
            process.execPath,
            '--import',
            'tsx',
            'test/interop/pptp-probe.ts',
            server.address,
            '1723',
            sccrq().toString('hex'),
            stopccrq().toString('hex'),
          ],
          { timeoutMs: 30_000, allowFail: true },
        );
        assert.equal(r.code, 0, r.stderr);
        const [reply, stopReply] = r.stdout
          .trim()
          .split('\n')
          .map((h) => Buffer.from(h, 'hex'));
        // RFC 2637 §2.2 Start-Control-Connection-Reply: 156 octets, control type 2, Result Code 1.
        assert.equal(reply!.length, 156);
        assert.equal(reply!.readUInt16BE(0), 156);
        assert.equal(reply!.readUInt16BE(2), 1);
        assert.equal(reply!.readUInt32BE(4), 0x1a2b3c4d);
        assert.equal(reply!.readUInt16BE(8), 2);
        assert.equal(reply!.readUInt16BE(12), 0x0100, 'Protocol Version');
        assert.equal(reply!.readUInt8(14), 1, 'Result Code: Successful channel establishment');
        // RFC 2637 §2.4 Stop-Control-Connection-Reply: control type 4, Result Code 1 (OK).
        assert.equal(stopReply!.length, 16);
        assert.equal(stopReply!.readUInt16BE(8), 4);
        assert.equal(stopReply!.readUInt8(12), 1);
        const log = await pptpd.syslog();
        assert.match(log, /CTRL: Client 192\.0\.2\.1 control connection started/);
      } finally {
        await pptpd.stop();
      }
    });
  });

  /** One pptp-linux → pptpd session with the given policies; returns the client's link info and logs. */
  async function session(serverPolicy: PppPolicy, clientPolicy: PppPolicy, opts: { password?: string } = {}) {
    const pptpd = await Pptpd.start(server, { ppp: serverPolicy });
    const pptp = await PptpClient.start(client, {
      server: server.address,
      ppp: clientPolicy,
      password: opts.password,
    });
    return { pptpd, pptp };
  }

  async function teardown(s: { pptpd: Pptpd; pptp: PptpClient }) {
    await s.pptp.stop().catch(() => {});
    await s.pptpd.stop().catch(() => {});
    for (const vm of [server, client]) {
      await vm.waitFor('! pgrep -x pppd >/dev/null', `${vm.name}: no pppd left`, 10_000);
    }
  }

  describe('pptp-linux + pppd → pptpd', () => {
    let baseline: { pcap: string; controlMessages: string[] } | undefined;
    it('MS-CHAPv2 + MPPE-128 stateless: ping, DNS, a 2 MB TCP transfer, and a clean disconnect', async () => {
      const dns = await Dnsmasq.start(server);
      const cap = await lab.capture('baseline', { vm: client, filter: 'tcp port 1723 or ip proto 47' });
      const s = await session({}, {});
      try {
        const link = await s.pptp.waitUp();
        assert.equal(link.mppe, 'MPPE 128-bit stateless compression enabled');
        assert.equal(link.remoteAddress, TUNNEL_NET.serverAddress);
        assert.equal(link.localAddress, TUNNEL_NET.poolStart);
        const clientLog = await s.pptp.log();
        assert.match(clientLog, /CHAP authentication succeeded/);

        await client.run(`ping -c 3 -W 5 -I ${link.ifname} ${TUNNEL_NET.serverAddress}`);
        // 1300-byte ICMP payload: fits the link MTU, does not fragment.
        await client.run(`ping -c 1 -W 5 -M do -s 1300 ${TUNNEL_NET.serverAddress}`);

        // DNS pushed with IPCP (usepeerdns writes it here) and answered through the tunnel.
        assert.match(
          await client.run('cat /etc/ppp/resolv.conf'),
          new RegExp(`nameserver ${TUNNEL_NET.serverAddress}`),
        );
        const ns = await client.run(
          `busybox nslookup -type=a ${TUNNEL_NET.dnsName} ${TUNNEL_NET.serverAddress}`,
        );
        assert.match(ns, new RegExp(`Address: ${TUNNEL_NET.dnsAnswer.replace(/\./g, '\\.')}`));
        assert.match(
          await dns.log(),
          new RegExp(`query\\[A\\] ${TUNNEL_NET.dnsName} from ${TUNNEL_NET.poolStart}`),
        );

        // 2 MB over TCP through the tunnel, checked end to end.
        await server.startDaemon('sink', `exec nc -l ${TUNNEL_NET.serverAddress} 5001 > /tmp/rx`);
        await server.waitFor("ss -Hltn 'sport = :5001' | grep -q LISTEN", 'nc to listen');
        const sent = await client.run(
          `head -c 2000000 /dev/urandom > /tmp/tx && nc -N ${TUNNEL_NET.serverAddress} 5001 < /tmp/tx && sha256sum < /tmp/tx`,
          { timeoutMs: 120_000 },
        );
        assert.equal(await server.waitDaemonExit('sink', 30_000), 0);
        assert.equal(await server.run('sha256sum < /tmp/rx'), sent);

        // Hang up from the client: pppd terminates LCP, pptp clears the call and the control connection.
        assert.equal(await s.pptp.stop(), PPPD_EXIT.signalled);
        await server.waitFor(
          "grep -q 'control connection finished' /var/log/messages",
          'pptpd to log the end of the control connection',
          15_000,
        );
        const slog = await s.pptpd.syslog();
        assert.match(slog, /CTRL: Received CALL CLR request \(closing call\)/);
        assert.match(slog, /CTRL: Client 192\.0\.2\.3 control connection finished/);
      } catch (e) {
        throw new Error(`${(e as Error).message}\n${await lab.diagnostics()}`);
      } finally {
        await teardown(s);
        await server.stopDaemon(Dnsmasq.DAEMON).catch(() => {});
        await cap.stop();
      }
      // tcpdump's own PPTP dissector reads the capture: the control messages of a clean session, in order.
      const dump = await lab.exec(['tcpdump', '-nn', '-r', cap.file]);
      const types = [...dump.stdout.matchAll(/pptp CTRL_MSGTYPE=(\w+)/g)].map((m) => m[1]);
      assert.deepEqual(
        types.filter((t) => t !== 'ECHORQ' && t !== 'ECHORP'),
        PPTP_LINUX_SESSION,
        dump.stdout
          .split('\n')
          .filter((l) => / 1723[ :]|\.1723 /.test(l))
          .join('\n'),
      );
      const afterClear = dump.stdout.slice(dump.stdout.indexOf('CTRL_MSGTYPE=CCRQ'));
      assert.match(
        afterClear,
        new RegExp(`${client.address.replace(/\./g, '\\.')}\\.\\d+ > [\\d.]+\\.1723: Flags \\[F`),
      );
      const gre = dump.stdout.split('\n').filter((l) => /GREv1/.test(l));
      assert.ok(gre.some((l) => l.includes(`${client.address} > ${server.address}`)));
      assert.ok(gre.some((l) => l.includes(`${server.address} > ${client.address}`)));
      assert.ok(gre.length > 1500, `only ${gre.length} GRE packets for a 2 MB transfer`);
      baseline = { pcap: cap.file, controlMessages: types.filter((t) => t !== 'ECHORQ' && t !== 'ECHORP') };
    });

    it('pptp-ts decode reads that capture: the same control messages as tcpdump, then LCP, CHAP, CCP, IPCP in order', async () => {
      assert.ok(baseline, 'the baseline session (the test before) failed, so there is no capture to decode');
      const r = await lab.exec([process.execPath, 'bin/pptp-ts.js', 'decode', '--json', baseline.pcap], {
        timeoutMs: 60_000,
      });
      const packets = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { layers: { layer: string; name?: string }[] });
      const control = packets.flatMap((p) => p.layers.filter((l) => l.layer === 'PPTP').map((l) => l.name));
      assert.deepEqual(
        control.filter((n) => n !== 'ECHORQ' && n !== 'ECHORP'),
        baseline.controlMessages,
      );
      // RFC 1661 §3.2 phases: LCP (Establish), CHAP (Authenticate), then CCP and IPCP (Network).
      const firstSeen = (layer: string) => packets.findIndex((p) => p.layers.some((l) => l.layer === layer));
      const order = ['LCP', 'CHAP', 'CCP', 'IPCP'].map(firstSeen);
      assert.ok(
        order.every((i) => i >= 0),
        `missing layers: ${order}`,
      );
      assert.deepEqual(
        [...order].sort((a, b) => a - b),
        order,
      );
      assert.ok(packets.some((p) => p.layers.some((l) => l.layer === 'MPPE')));
    });

    const variants: { name: string; server: PppPolicy; client: PppPolicy; mppe: string | undefined }[] = [
      {
        name: 'MPPE-40',
        server: { mppe: 'require-40' },
        client: { mppe: 'require-40' },
        mppe: 'MPPE 40-bit stateless compression enabled',
      },
      {
        // pppd only ever requests stateless (+H) itself; with mppe-stateful it
        // accepts a peer's stateful request or Nak. Two pppds therefore stay
        // stateless: stateful needs a peer that proposes it (pptp-ts).
        name: 'mppe-stateful on both sides (pppd never proposes stateful itself)',
        server: { stateful: true },
        client: { stateful: true },
        mppe: 'MPPE 128-bit stateless compression enabled',
      },
      { name: 'MPPE off on both sides', server: { mppe: 'off' }, client: { mppe: 'off' }, mppe: undefined },
    ];
    for (const v of variants) {
      it(`${v.name}: tunnel up and a ping through it`, async () => {
        const s = await session(v.server, v.client);
        try {
          const link = await s.pptp.waitUp();
          assert.equal(link.mppe, v.mppe);
          if (!v.mppe) assert.doesNotMatch(await s.pptp.log(), /CCP ConfAck/);
          await client.run(`ping -c 2 -W 5 ${TUNNEL_NET.serverAddress}`);
        } catch (e) {
          throw new Error(`${(e as Error).message}\n${await lab.diagnostics()}`);
        } finally {
          await teardown(s);
        }
      });
    }

    it('IPv6CP: link-local addresses on both ends and an IPv6 ping over the link', async () => {
      const s = await session({ ipv6: true }, { ipv6: true });
      try {
        const link = await s.pptp.waitUp({ ipv6: true });
        assert.match(link.localLinkLocal ?? '', /^fe80::/);
        assert.match(link.remoteLinkLocal ?? '', /^fe80::/);
        assert.match(await client.run(`ip -6 addr show dev ${link.ifname}`), /inet6 fe80::/);
        await client.run(`ping -6 -c 2 -W 5 ${link.remoteLinkLocal}%${link.ifname}`);
      } finally {
        await teardown(s);
      }
    });

    it('a wrong password: MS-CHAPv2 E=691, pppd exits with "authentication to peer failed"', async () => {
      const s = await session({}, {}, { password: 'not-the-secret' });
      try {
        assert.equal(await s.pptp.waitExit(30_000), PPPD_EXIT.authToPeerFailed);
        const log = await s.pptp.log();
        // RFC 2759 §6: the Failure packet's message carries "E=691" (authentication failure).
        assert.match(log, /rcvd \[CHAP Failure id=0x[0-9a-f]+ "E=691 /);
        assert.match(log, /CHAP authentication failed/);
        assert.match(await s.pptpd.pppLog(), new RegExp(`Peer ${LAB_USER.name} failed CHAP authentication`));
      } finally {
        await teardown(s);
      }
    });

    it('MPPE required by the server and refused by the client: no network protocol comes up', async () => {
      const s = await session({ mppe: 'require-128' }, { mppe: 'off' });
      try {
        const code = await s.pptp.waitExit(30_000);
        const log = await s.pptp.log();
        assert.doesNotMatch(log, /local {2}IP address/);
        assert.match(log, /rcvd \[LCP TermReq id=0x[0-9a-f]+ "MPPE required but peer refused"\]/);
        // pppd exits "terminated at the peer's request", or "hung up" when pptp
        // closes the pty first (a race between the TermReq and the call clear).
        assert.ok(code === PPPD_EXIT.ok || code === PPPD_EXIT.hangup, `pppd exit ${code}\n${log}`);
        assert.match(await s.pptpd.pppLog(), /MPPE required but peer refused/);
      } finally {
        await teardown(s);
      }
    });
  });
});
