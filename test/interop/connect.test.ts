/**
 * Interop, client side: `pptp-ts connect` in the lab namespace
 * against pptpd + pppd + the Linux kernel's ppp_mppe in a VM.
 *
 * Oracles: pppd's own log on the server (what it negotiated, how the link
 * ended), pptpd's syslog, the kernel's ping, sha256sum in the VM, dnsmasq,
 * and the capture of the VM's link read back by `pptp-ts decode`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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
import { Dnsmasq, LAB_USER, type PppPolicy, Pptpd, TUNNEL_NET } from './peers.js';

/** `pptp-ts connect` exit codes (src/client/exit-codes.ts; pppd's numbers where pppd has one). */
const EXIT = { ok: 0, negotiationFailed: 10, peerSilent: 15, hangUp: 16, authFailed: 19, mppeRefused: 21 };

describe('interop: pptp-ts connect → pptpd (Linux)', { timeout: 20 * 60_000 }, () => {
  let lab: Lab;
  let peer: Vm;
  let password: string;

  after(() => lab?.close());
  before(async () => {
    lab = await Lab.create();
    peer = await lab.bootVm({ name: 'peer' });
    await Dnsmasq.start(peer);
    password = lab.writeFile('password', `${LAB_USER.password}\n`);
  });

  interface Dial {
    pptpd: Pptpd;
    client: Spawned;
    cap: Capture;
    resolvConf: string;
  }

  /** pptpd with `ppp` in `vm`, a capture of the VM's link, then `pptp-ts connect` with `args`. */
  async function dial(
    name: string,
    ppp: PppPolicy,
    args: string[] = [],
    vm = peer,
    passwordFile = password,
  ): Promise<Dial> {
    await vm.run(': > /var/log/messages');
    const pptpd = await Pptpd.start(vm, { ppp });
    const cap = await lab.capture(name, { vm });
    const resolvConf = join(lab.workDir, `${name}.resolv.conf`);
    const client = lab.spawnPptpTs([
      'connect',
      vm.address,
      '--user',
      LAB_USER.name,
      '--password-file',
      passwordFile,
      '--usepeerdns',
      '--resolv-conf',
      resolvConf,
      '--log-level',
      'info',
      ...args,
    ]);
    return { pptpd, client, cap, resolvConf };
  }

  /**
   * Waits for pptp-ts's "tunnel up" line, then for pppd to have configured
   * its end: pppd runs ip-pre-up before it assigns the addresses, so a
   * packet sent the moment pptp-ts is up can find no route in the VM yet.
   * Returns the fields of pptp-ts's line.
   */
  async function tunnelUp(d: Dial, vm = peer): Promise<Record<string, string>> {
    await d.client.waitFor(/ tunnel up /, 60_000);
    await vm.waitFor(`grep -q 'remote IP address' ${Pptpd.PPP_LOG}`, "pppd's end of the tunnel", 20_000);
    return logFields(d.client.stderr(), / tunnel up /)!;
  }

  /** Stops everything a case started; never throws (the case's own error matters more). */
  async function cleanup(d: Dial, vm = peer): Promise<void> {
    await d.client.kill(15_000).catch(() => {});
    if (vm.running) await d.pptpd.stop().catch(() => {});
    await d.cap.stop().catch(() => {});
  }

  async function withDiagnostics(d: Dial, body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (e) {
      const ppp = peer.running ? await d.pptpd.pppLog().catch(() => '') : '';
      throw new Error(
        `${(e as Error).message}\n--- pptp-ts stderr ---\n${d.client.stderr().slice(-4000)}\n--- pptpd's pppd ---\n${ppp.slice(-4000)}`,
      );
    }
  }

  /** Nothing of the tunnel left in the namespace: no pptp interface, no route into the tunnel. */
  async function assertNothingLeft(): Promise<void> {
    const links = (await lab.exec(['ip', '-br', 'link'])).stdout;
    assert.doesNotMatch(links, /pptp/, links);
    const routes = (await lab.exec(['ip', 'route'])).stdout;
    assert.doesNotMatch(routes, /pptp|198\.51\.100\./, routes);
  }

  it('MS-CHAPv2 + MPPE-128 stateless: ping, 1300-byte ping, DNS, 4 MB over TCP, clean disconnect', async () => {
    const d = await dial('connect-mppe128', {});
    try {
      await withDiagnostics(d, async () => {
        const up = await tunnelUp(d);
        assert.equal(up.mppe, '128-bit stateless');
        assert.equal(up.auth, 'MS-CHAP-v2');
        assert.equal(up.local, TUNNEL_NET.poolStart);
        assert.equal(up.remote, TUNNEL_NET.serverAddress);
        const ppp = await d.pptpd.pppLog();
        assert.match(ppp, /MPPE 128-bit stateless compression enabled/);
        assert.match(ppp, new RegExp(`remote IP address ${TUNNEL_NET.poolStart.replace(/\./g, '\\.')}`));

        await lab.exec(['ping', '-c', '3', '-W', '5', TUNNEL_NET.serverAddress]);
        // 1300 bytes of ICMP payload with DF: fits the tunnel MTU, no fragmentation anywhere.
        await lab.exec(['ping', '-c', '1', '-W', '5', '-M', 'do', '-s', '1300', TUNNEL_NET.serverAddress]);

        // DNS: the server pushed by IPCP (RFC 1877), then a query answered through the tunnel.
        assert.match(readFileSync(d.resolvConf, 'utf8'), /nameserver 198\.51\.100\.1/);
        assert.equal(
          await netTool(lab, ['resolve', TUNNEL_NET.serverAddress, TUNNEL_NET.dnsName]),
          TUNNEL_NET.dnsAnswer,
        );

        // 4 MB over TCP, checked by sha256sum on the other side.
        await peer.startDaemon('sink', `exec nc -l ${TUNNEL_NET.serverAddress} 5001 > /tmp/rx`);
        await peer.waitFor("ss -Hltn 'sport = :5001' | grep -q LISTEN", 'nc to listen');
        const [bytes, sha] = (
          await netTool(lab, ['send', TUNNEL_NET.serverAddress, '5001', '4000000'])
        ).split(' ');
        assert.equal(bytes, '4000000');
        assert.equal(await peer.waitDaemonExit('sink', 60_000), 0);
        assert.equal((await peer.run('sha256sum < /tmp/rx')).split(' ')[0], sha);

        // SIGTERM: LCP Terminate-Request, then Call-Clear-Request; pptpd and its pppd log a clean end.
        const r = await d.client.kill(15_000);
        assert.equal(r.code, EXIT.ok, `exit ${r.code ?? r.signal}`);
        await peer.waitFor(
          "grep -q 'control connection finished' /var/log/messages",
          'pptpd to log the end of the control connection',
          15_000,
        );
        assert.match(await d.pptpd.syslog(), /CTRL: Received CALL CLR request \(closing call\)/);
        assert.match(await d.pptpd.pppLog(), /LCP terminated by peer/);
        await assertNothingLeft();
      });
    } finally {
      await cleanup(d);
    }
    // The capture, read back by pptp-ts decode: the RFC 2637 handshake in order, the
    // call cleared by us (the PNS), and the PPP phases of RFC 1661 §3.2 in order.
    const { control, layers } = await assertCallSetUp(lab, d.cap.file);
    const names = handshake(control);
    assert.ok(names.indexOf('CCRQ') > 3, names.join(' '));
    assert.deepEqual(
      control.filter((c) => ['SCCRQ', 'OCRQ', 'CCRQ'].includes(c.name)).map((c) => c.source),
      [LAB_NET.hostAddress, LAB_NET.hostAddress, LAB_NET.hostAddress],
    );
    assertNegotiatedInOrder(layers);
  });

  const variants: {
    name: string;
    ppp: PppPolicy;
    args: string[];
    pppd: RegExp | null;
    mppe: string;
    bytes: number;
  }[] = [
    {
      name: 'MPPE-40',
      ppp: { mppe: 'require-40' },
      args: ['--mppe', 'required,40'],
      pppd: /MPPE 40-bit stateless compression enabled/,
      mppe: '40-bit stateless',
      bytes: 500_000,
    },
    {
      name: 'MPPE off on both sides',
      ppp: { mppe: 'off' },
      args: ['--mppe', 'off'],
      pppd: null,
      mppe: 'none',
      bytes: 500_000,
    },
  ];
  for (const v of variants) {
    it(`${v.name}: tunnel up, ping, ${v.bytes / 1000} kB over TCP`, async () => {
      const d = await dial(`connect-${v.mppe.replace(/\W+/g, '-')}`, v.ppp, v.args);
      try {
        await withDiagnostics(d, async () => {
          const up = await tunnelUp(d);
          const ppp = await d.pptpd.pppLog();
          if (v.pppd) {
            assert.match(ppp, v.pppd);
            assert.equal(up.mppe, v.mppe);
          } else {
            assert.doesNotMatch(ppp, /MPPE .* compression enabled/);
          }
          await lab.exec(['ping', '-c', '2', '-W', '5', TUNNEL_NET.serverAddress]);
          await peer.startDaemon('sink', `exec nc -l ${TUNNEL_NET.serverAddress} 5001 > /tmp/rx`);
          await peer.waitFor("ss -Hltn 'sport = :5001' | grep -q LISTEN", 'nc to listen');
          const [, sha] = (
            await netTool(lab, ['send', TUNNEL_NET.serverAddress, '5001', String(v.bytes)])
          ).split(' ');
          assert.equal(await peer.waitDaemonExit('sink', 60_000), 0);
          assert.equal((await peer.run('sha256sum < /tmp/rx')).split(' ')[0], sha);
          assert.equal((await d.client.kill(15_000)).code, EXIT.ok);
        });
      } finally {
        await cleanup(d);
      }
      await assertCallSetUp(lab, d.cap.file);
      if (v.pppd) {
        // The control for the stateful case's capture check: stateless MPPE sets FLUSHED on every packet
        // (RFC 3078 §3), and pptp-ts decode decrypts them all.
        const flows = await mppeFlows(lab, d.cap.file, password);
        for (const source of [peer.address, LAB_NET.hostAddress]) {
          const f = flows.get(source);
          assert.ok(
            f && f.packets > 50 && f.flushed === f.packets && f.decrypted === f.packets,
            `${source}: ${JSON.stringify(f)}`,
          );
        }
      }
    });
  }

  it('stateful MPPE-128 both ways (pppd mppe-stateful, pptp-ts preferring it): pppd and the capture agree, 1 MB each way', async (t) => {
    // pppd requests stateless (+H) even with mppe-stateful; pptp-ts Naks it with H clear, which pppd takes
    // (docs/ppp.md, CCP), and acks pptp-ts's own stateful request: both directions stateful.
    const d = await dial('connect-stateful', { stateful: true }, ['--mppe', 'required,128,stateful']);
    try {
      await withDiagnostics(d, async () => {
        const up = await tunnelUp(d);
        assert.equal(up.mppe, '128-bit stateful');
        const ppp = await d.pptpd.pppLog();
        // pppd names its own receive side in this line (method_name(go, ...)): stateful only after our Nak.
        assert.match(ppp, /MPPE 128-bit stateful compression enabled/);
        assert.match(ppp, /sent \[CCP ConfReq id=0x[0-9a-f]+ <mppe \+H -M \+S -L -D -C>\]/);
        assert.match(ppp, /rcvd \[CCP ConfNak id=0x[0-9a-f]+ <mppe -H -M \+S -L -D -C>\]/);
        assert.match(ppp, /sent \[CCP ConfReq id=0x[0-9a-f]+ <mppe -H -M \+S -L -D -C>\]/);
        assert.match(ppp, /rcvd \[CCP ConfAck id=0x[0-9a-f]+ <mppe -H -M \+S -L -D -C>\]/);
        assert.match(ppp, /sent \[CCP ConfAck id=0x[0-9a-f]+ <mppe -H -M \+S -L -D -C>\]/);
        assert.match(d.client.stderr(), /CCP up rx="MPPE-128 stateful" tx="MPPE-128 stateful"/);
        await lab.exec(['ping', '-c', '2', '-W', '5', TUNNEL_NET.serverAddress]);
        // The VM sends: the kernel's stateful MPPE, decrypted by pptp-ts.
        const sink = lab.spawn(netToolArgv(['sink', '0.0.0.0', '5002']));
        await sink.waitFor(/listening/, 20_000);
        const sent = await peer.run(
          `head -c 1000000 /dev/urandom > /tmp/tx && nc -N ${TUNNEL_NET.poolStart} 5002 < /tmp/tx && sha256sum < /tmp/tx`,
          { timeoutMs: 120_000 },
        );
        const got = await exitWithin(sink, 60_000, 'the sink');
        assert.equal(got.code, 0, got.stderr);
        assert.equal(got.stdout.trim().split('\n').pop(), `1000000 ${sent.split(' ')[0]}`);
        // And back: what pptp-ts encrypts statefully, the kernel decrypts.
        await peer.startDaemon('sink', `exec nc -l ${TUNNEL_NET.serverAddress} 5001 > /tmp/rx`);
        await peer.waitFor("ss -Hltn 'sport = :5001' | grep -q LISTEN", 'nc to listen');
        const [, sha] = (await netTool(lab, ['send', TUNNEL_NET.serverAddress, '5001', '1000000'])).split(
          ' ',
        );
        assert.equal(await peer.waitDaemonExit('sink', 60_000), 0);
        assert.equal((await peer.run('sha256sum < /tmp/rx')).split(' ')[0], sha);
        // Neither side lost stateful sync: no Reset-Request either way.
        assert.doesNotMatch(await d.pptpd.pppLog(), /CCP ResetReq/);
        assert.equal((await d.client.kill(15_000)).code, EXIT.ok);
      });
    } finally {
      await cleanup(d);
    }
    await assertCallSetUp(lab, d.cap.file);
    // The capture: both senders stateful (few FLUSHED bits, consecutive coherency counts), and every
    // packet decrypted by pptp-ts decode's own stateful decryptor. 1 MB is about 700 full packets.
    const flows = await mppeFlows(lab, d.cap.file, password);
    t.diagnostic(assertStatefulFlow(flows, peer.address, 600));
    t.diagnostic(assertStatefulFlow(flows, LAB_NET.hostAddress, 600));
  });

  it('a wrong password: exit 19 with a one-line reason, and pppd logs the failed MS-CHAPv2', async () => {
    const wrong = lab.writeFile('wrong-password', 'not-the-secret\n');
    const d = await dial('connect-wrong-password', {}, [], peer, wrong);
    try {
      await withDiagnostics(d, async () => {
        const r = await exitWithin(d.client, 60_000, 'pptp-ts connect with a wrong password');
        assert.equal(r.code, EXIT.authFailed, r.stderr.slice(-2000));
        const last = r.stderr.trim().split('\n').pop() ?? '';
        assert.match(last, /^pptp-ts connect: .*(authenticat|691)/i);
        assert.match(await d.pptpd.pppLog(), new RegExp(`Peer ${LAB_USER.name} failed CHAP authentication`));
        await assertNothingLeft();
      });
    } finally {
      await cleanup(d);
    }
    assert.ok((await assertCallSetUp(lab, d.cap.file)).layers.includes('CHAP'));
  });

  it('MPPE required by pptp-ts, refused by pptpd (nomppe): exit 21', async () => {
    const d = await dial('connect-mppe-refused', { mppe: 'off' });
    try {
      await withDiagnostics(d, async () => {
        const r = await exitWithin(d.client, 60_000, 'pptp-ts connect against nomppe');
        assert.equal(r.code, EXIT.mppeRefused, r.stderr.slice(-2000));
        assert.match(r.stderr.trim().split('\n').pop() ?? '', /^pptp-ts connect: .*MPPE/);
        await assertNothingLeft();
      });
    } finally {
      await cleanup(d);
    }
    await assertCallSetUp(lab, d.cap.file);
  });

  it('MPPE required by pptpd, refused by pptp-ts (--mppe off): pppd hangs up, pptp-ts exits 16', async () => {
    const d = await dial('connect-mppe-unwanted', { mppe: 'require-128' }, ['--mppe', 'off']);
    try {
      await withDiagnostics(d, async () => {
        const r = await exitWithin(d.client, 60_000, 'pptp-ts connect --mppe off against require-mppe-128');
        assert.match(await d.pptpd.pppLog(), /MPPE required but peer (refused|negotiation failed)/);
        assert.equal(r.code, EXIT.hangUp, r.stderr.slice(-2000));
        await assertNothingLeft();
      });
    } finally {
      await cleanup(d);
    }
    await assertCallSetUp(lab, d.cap.file);
  });

  it('IPv6CP (--ipv6): link-local addresses on the tunnel and an IPv6 ping to pppd', async () => {
    const d = await dial('connect-ipv6', { ipv6: true }, ['--ipv6']);
    try {
      await withDiagnostics(d, async () => {
        const up = await tunnelUp(d);
        await peer.waitFor(`grep -q 'remote LL address' ${Pptpd.PPP_LOG}`, 'IPv6CP up in pppd', 20_000);
        const serverLl = /local {2}LL address (\S+)/.exec(await d.pptpd.pppLog())?.[1];
        assert.match(serverLl ?? '', /^fe80::/);
        assert.match(
          (await lab.exec(['ip', '-6', 'addr', 'show', 'dev', up.ifname!])).stdout,
          /inet6 fe80::/,
        );
        await lab.exec(['ping', '-6', '-c', '2', '-W', '5', `${serverLl}%${up.ifname}`]);
      });
    } finally {
      await cleanup(d);
    }
    await assertCallSetUp(lab, d.cap.file);
  });

  it('the peer VM killed mid-session: pptp-ts notices by LCP echo, exits 15 and cleans up', async () => {
    const victim = await lab.bootVm({ name: 'victim' });
    const d = await dial(
      'connect-killed',
      {},
      ['--lcp-echo-interval', '1', '--lcp-echo-failure', '3'],
      victim,
    );
    try {
      await withDiagnostics(d, async () => {
        await tunnelUp(d, victim);
        await lab.exec(['ping', '-c', '1', '-W', '5', TUNNEL_NET.serverAddress]);
        const t0 = Date.now();
        await victim.kill();
        const r = await exitWithin(d.client, 60_000, 'pptp-ts connect after its peer vanished');
        assert.equal(r.code, EXIT.peerSilent, r.stderr.slice(-2000));
        assert.ok(Date.now() - t0 < 30_000, `noticed only after ${Date.now() - t0} ms`);
        await assertNothingLeft();
      });
    } finally {
      await cleanup(d, victim);
    }
    await assertCallSetUp(lab, d.cap.file);
  });
});
