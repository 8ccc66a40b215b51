/**
 * Interop, server side with RADIUS: pptp-linux + pppd + the Linux kernel's
 * ppp_mppe in a VM dial `pptp-ts serve`, which knows no user itself (no
 * chap-secrets, `radius.order` ["radius"]) and asks a real FreeRADIUS 3.2
 * running in the lab namespace on its loopback (test/helpers/freeradius.ts).
 *
 * The user exists only in FreeRADIUS's users file, as an NT hash
 * (`NT-Password`, computed by FreeRADIUS's own `smbencrypt`). FreeRADIUS's
 * mschap module checks the MS-CHAPv2 Response (RFC 2759) and puts the
 * MS-CHAP2-Success and the MS-MPPE-Send/Recv-Key (RFC 2548 §2.4.2-3,
 * RFC 3079 §3) in its Access-Accept; the server must use those keys, since
 * it has nothing to derive them from.
 *
 * Oracles: pppd's log in the VM (MPPE 128-bit, the address the Accept's
 * Framed-IP-Address gave), the kernel's ping both ways, FreeRADIUS's own
 * log (`auth = yes`: "Login OK" for the Access-Request) and its `detail`
 * accounting file (Accounting-On, Start, Stop with User-Request, Off), and
 * the capture of the VM's link read back by `pptp-ts decode`, which
 * decrypts every MPPE packet both ways from the password alone: the
 * kernel and pptp-ts used the MS-CHAPv2 keys of that password, which only
 * FreeRADIUS could have handed to the server.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { FREERADIUS_INSTALL, type FreeRadius, startFreeRadius } from '../helpers/freeradius.js';
import type { Spawned } from '../helpers/netns.js';
import { assertCallSetUp, assertNegotiatedInOrder, logFields, mppeFlows } from './cases.js';
import { type Capture, LAB_NET, Lab, type Vm } from './lab.js';
import { PPPD_EXIT, PptpClient, TUNNEL_NET } from './peers.js';

const SERVER_NAME = 'pptp-ts';
const SECRET = 'interop-radius-S3cret';
/** Known to FreeRADIUS (as its NT hash) and to pppd in the VM; never to pptp-ts serve. */
const USER = { name: 'nt-only', password: 'Radius-0nly-Pa55' } as const;
/** The Access-Accept's Framed-IP-Address: outside what the pool would give first (198.51.100.10). */
const FRAMED_IP = '198.51.100.50';
const RADIUS_HOST = '127.0.0.1';
const NAS_ID = 'pptp-ts-interop';

/** The NT hash (MD4 of the UTF-16LE password) as FreeRADIUS's `smbencrypt` prints it. */
function ntHash(password: string): string {
  const r = spawnSync('smbencrypt', [password], { encoding: 'utf8', timeout: 30_000 });
  if (r.error || r.status !== 0)
    throw new Error(`smbencrypt failed (${r.error?.message ?? r.status}); it is in ${FREERADIUS_INSTALL}`);
  const m = /^[0-9A-F]{32}\s+([0-9A-F]{32})\s*$/m.exec(r.stdout);
  if (!m) throw new Error(`smbencrypt printed no NT hash:\n${r.stdout}`);
  return m[1]!;
}

/** The records of FreeRADIUS's `detail` file: attribute name → value (quotes removed), in file order. */
function detailRecords(text: string): Record<string, string>[] {
  const records: Record<string, string>[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const rec: Record<string, string> = {};
    for (const m of block.matchAll(/^\s+([\w-]+) = (.*)$/gm)) rec[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
    if (rec['Acct-Status-Type']) records.push(rec);
  }
  return records;
}

/** Polls `probe` every 500 ms until it returns a value, for at most `timeoutMs`. */
async function until<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('interop: pptp-linux + pppd → pptp-ts serve with RADIUS (FreeRADIUS)', {
  timeout: 20 * 60_000,
}, () => {
  let lab: Lab;
  let vm: Vm;
  let fr: FreeRadius;

  after(async () => {
    await fr?.stop();
    await lab?.close();
  });
  before(async () => {
    lab = await Lab.create();
    const users = `${USER.name}\tNT-Password := 0x${ntHash(USER.password)}\n\tFramed-IP-Address = ${FRAMED_IP}\n`;
    fr = await startFreeRadius({
      secret: SECRET,
      users,
      netns: { lab: lab.namespaces, ns: lab.ns, address: RADIUS_HOST },
      logAuth: true,
      readyTimeoutMs: 120_000,
    });
    vm = await lab.bootVm({ name: 'client' });
  });

  /** `pptp-ts serve` with RADIUS alone (no `secrets`), and a capture of the VM's link. */
  async function serve(name: string): Promise<{ server: Spawned; cap: Capture; log: () => string }> {
    const config = lab.writeFile(
      `${name}.json`,
      JSON.stringify({
        listen: LAB_NET.hostAddress,
        name: SERVER_NAME,
        'local-ip': TUNNEL_NET.serverAddress,
        pool: '198.51.100.10-198.51.100.99',
        // No `secrets`: RADIUS alone decides, and serve has no password to derive MPPE keys from.
        ppp: { 'require-mschap-v2': true, 'require-mppe-128': true },
        radius: {
          auth: [{ address: `${RADIUS_HOST}:${fr.authPort}`, secret: SECRET }],
          accounting: [{ address: `${RADIUS_HOST}:${fr.acctPort}`, secret: SECRET }],
          order: ['radius'],
          timeout: 3,
          retries: 2,
          'nas-identifier': NAS_ID,
        },
      }),
    );
    const server = lab.spawnPptpTs(['serve', '--config', config]);
    try {
      await server.waitFor(/ listening /, 60_000);
      const cap = await lab.capture(name, { vm });
      return { server, cap, log: () => server.stdout() + server.stderr() };
    } catch (e) {
      await server.kill(15_000).catch(() => {});
      throw e;
    }
  }

  function dial(password: string): Promise<PptpClient> {
    return PptpClient.start(vm, {
      server: LAB_NET.hostAddress,
      remoteName: SERVER_NAME,
      user: USER.name,
      password,
      ppp: { auth: ['mschap-v2'], mppe: 'require-128' },
    });
  }

  /** Records of one Acct-Status-Type in FreeRADIUS's detail file so far. */
  const accounting = (type: string) =>
    detailRecords(fr.accountingDetail()).filter((r) => r['Acct-Status-Type'] === type);

  it('MS-CHAPv2 + MPPE-128, user and keys from FreeRADIUS only: link up, ping both ways, Access-Request and accounting Start/Stop seen by FreeRADIUS, capture decrypts from the password', async (t) => {
    const t0 = Date.now();
    const { server, cap, log: serverLog } = await serve('serve-radius');
    let pptp: PptpClient | undefined;
    try {
      pptp = await dial(USER.password);
      const link = await pptp.waitUp({ timeoutMs: 90_000 });
      assert.equal(link.mppe, 'MPPE 128-bit stateless compression enabled');
      assert.equal(link.localAddress, FRAMED_IP, 'the address of the Access-Accept');
      assert.equal(link.remoteAddress, TUNNEL_NET.serverAddress);
      // pppd checked the authenticator response FreeRADIUS computed (MS-CHAP2-Success, RFC 2759 §5).
      assert.match(await pptp.log(), /CHAP authentication succeeded/);

      // FreeRADIUS saw the Access-Request and accepted it; the server says the keys came from it.
      const login = await until(
        'FreeRADIUS "Login OK"',
        20_000,
        () =>
          new RegExp(
            `Login OK: \\[${USER.name}\\b[^\\n]*cli ${vm.address.replace(/\./g, '\\.')}\\b[^\\n]*`,
          ).exec(fr.output()) ?? undefined,
      );
      t.diagnostic(`freeradius: ${login[0]}`);
      const accept = logFields(serverLog(), /radius: Access-Accept/);
      assert.equal(accept?.user, USER.name, serverLog());
      assert.equal(accept?.keys, 'access-accept', serverLog());
      await server.waitFor(/ session up /, 20_000);
      const up = logFields(serverLog(), / session up /);
      assert.equal(up?.user, USER.name);
      assert.equal(up?.address, FRAMED_IP);
      assert.equal(up?.mppe, '128-bit stateless');

      // Traffic both ways: the VM pings the server's tunnel address, the lab namespace pings the VM's.
      await vm.run(`ping -c 3 -W 5 ${TUNNEL_NET.serverAddress}`);
      await vm.run(`ping -c 1 -W 5 -M do -s 1300 ${TUNNEL_NET.serverAddress}`);
      const back = await lab.exec(['ping', '-c', '3', '-W', '5', FRAMED_IP], { timeoutMs: 60_000 });
      assert.match(back.stdout, / 3 received/);

      // Accounting: Accounting-On at start, then the session's Start.
      const start = await until(
        'an accounting Start in the detail file',
        30_000,
        () => accounting('Start')[0],
      );
      assert.ok(accounting('Accounting-On').length === 1, fr.accountingDetail());
      assert.equal(start['User-Name'], USER.name);
      assert.equal(start['Framed-IP-Address'], FRAMED_IP);
      assert.equal(start['Calling-Station-Id'], vm.address);
      assert.equal(start['NAS-Identifier'], NAS_ID);
      assert.equal(start['Acct-Authentic'], 'RADIUS');

      // pppd hangs up: the session ends, and its Stop reaches FreeRADIUS.
      assert.equal(await pptp.stop(), PPPD_EXIT.signalled);
      await server.waitFor(/ session end /, 30_000);
      assert.equal(logFields(serverLog(), / session end /)?.sessions, '0');
      const stop = await until('an accounting Stop in the detail file', 30_000, () => accounting('Stop')[0]);
      assert.equal(stop['Acct-Session-Id'], start['Acct-Session-Id']);
      assert.equal(stop['User-Name'], USER.name);
      assert.equal(stop['Acct-Terminate-Cause'], 'User-Request');
      t.diagnostic(
        `Stop: ${['Acct-Session-Id', 'Acct-Session-Time', 'Acct-Input-Packets', 'Acct-Input-Octets', 'Acct-Output-Packets', 'Acct-Output-Octets', 'Acct-Terminate-Cause'].map((k) => `${k}=${stop[k]}`).join(' ')}`,
      );
      // What the user's IP layer sent and got (RFC 2866 §5.3-5.4, §5.8-5.9: whole IPv4 packets), and nothing
      // else on this link: from the VM 3 echo requests of 84 octets (20 IPv4 + 8 ICMP + 56 data), one of
      // 1328 (-s 1300) and 3 echo replies of 84 to the namespace's pings; back, the same in reverse.
      const octets = String(3 * 84 + 1328 + 3 * 84);
      assert.equal(stop['Acct-Input-Packets'], '7', JSON.stringify(stop));
      assert.equal(stop['Acct-Input-Octets'], octets, JSON.stringify(stop));
      assert.equal(stop['Acct-Output-Packets'], '7', JSON.stringify(stop));
      assert.equal(stop['Acct-Output-Octets'], octets, JSON.stringify(stop));

      // Graceful shutdown: exit 0 after Accounting-Off is answered.
      const r = await server.kill(15_000);
      assert.equal(r.code, 0, `serve exit ${r.code ?? r.signal}\n${serverLog().slice(-3000)}`);
      assert.ok(accounting('Accounting-Off').length === 1, fr.accountingDetail());
    } catch (e) {
      const log = pptp && vm.running ? await pptp.log().catch(() => '') : '';
      throw new Error(
        `${(e as Error).message}\n--- pptp-ts serve ---\n${serverLog().slice(-4000)}\n--- pppd ---\n${log.slice(-4000)}\n--- freeradius ---\n${fr.output().slice(-3000)}`,
      );
    } finally {
      if (pptp && vm.running) await pptp.stop().catch(() => {});
      await server.kill(15_000).catch(() => {});
      await cap.stop().catch(() => {});
    }

    // The capture: the call, LCP, CHAP, CCP, IPCP in order, then MPPE; every MPPE packet both ways
    // decrypted by `pptp-ts decode` from the password and the MS-CHAPv2 exchange on the wire.
    const { layers } = await assertCallSetUp(lab, cap.file);
    assertNegotiatedInOrder(layers);
    const password = lab.writeFile('serve-radius.password', `${USER.password}\n`);
    const flows = await mppeFlows(lab, cap.file, password);
    for (const source of [vm.address, LAB_NET.hostAddress]) {
      const f = flows.get(source);
      assert.ok(
        f && f.packets >= 7,
        `MPPE packets from ${source}: ${JSON.stringify(Object.fromEntries(flows))}`,
      );
      assert.equal(f.decrypted, f.packets, `${source}: every packet decrypted`);
      // Stateless (RFC 3078 §3: the FLUSHED bit "MUST be set on every encrypted packet").
      assert.equal(f.flushed, f.packets, `${source}: stateless`);
    }
    t.diagnostic(
      `case took ${Math.round((Date.now() - t0) / 1000)} s (VM boot and FreeRADIUS start not included)`,
    );
  });

  it('a wrong password: FreeRADIUS rejects it (Login incorrect), pppd gets E=691 with its Reply-Message and exits 19; no accounting', async () => {
    const { server, cap, log: serverLog } = await serve('serve-radius-wrong');
    const starts = accounting('Start').length;
    let pptp: PptpClient | undefined;
    try {
      pptp = await dial('not-the-secret');
      assert.equal(await pptp.waitExit(90_000), PPPD_EXIT.authToPeerFailed);
      // The Reply-Message of the Access-Reject (the test FreeRADIUS's Post-Auth-Type REJECT) is the MS-CHAP M= text.
      assert.match(
        await pptp.log(),
        /rcvd \[CHAP Failure id=0x[0-9a-f]+ "E=691 R=[01] [^"]*M=Wrong password for nt-only"/,
      );
      assert.match(fr.output(), new RegExp(`Login incorrect[^\\n]*\\[${USER.name}\\b`));
      assert.match(serverLog(), /radius: Access-Reject/);
      await server.waitFor(/ session end /, 30_000);
      assert.equal(logFields(serverLog(), / session end /)?.sessions, '0');
      // No network phase, so no Start (and no Stop) for this call.
      assert.equal(accounting('Start').length, starts, fr.accountingDetail());
    } catch (e) {
      const log = pptp && vm.running ? await pptp.log().catch(() => '') : '';
      throw new Error(
        `${(e as Error).message}\n--- pptp-ts serve ---\n${serverLog().slice(-4000)}\n--- pppd ---\n${log.slice(-4000)}\n--- freeradius ---\n${fr.output().slice(-3000)}`,
      );
    } finally {
      if (pptp && vm.running) await pptp.stop().catch(() => {});
      await server.kill(15_000).catch(() => {});
      await cap.stop().catch(() => {});
    }
    await assertCallSetUp(lab, cap.file);
  });
});
