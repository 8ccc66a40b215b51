/**
 * RADIUS accounting of a real `pptp-ts serve` against a real FreeRADIUS 3.2
 * (both in the server's network namespace), read back from FreeRADIUS's
 * `detail` file: Accounting-On at start; for a session of `pptp-ts connect`
 * that sends a known number of bytes, Start, Interim-Update and Stop whose
 * octets, less the IP/TCP headers of their packets, give back what was sent
 * within 1 %; an outage (FreeRADIUS stopped while a session ends, started
 * again) after which the Stop arrives with the Acct-Delay-Time it waited;
 * Accounting-Off at shutdown.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type FreeRadius, requireFreeRadius, startFreeRadius } from '../helpers/freeradius.js';
import { createLab, type NetnsLab, type Spawned } from '../helpers/netns.js';
import { requireRoot } from '../helpers/tools.js';
import {
  CLIENT_IP,
  eventually,
  PPTP_TS,
  startClient,
  TOOL,
  TUNNEL_LOCAL,
  tempDir,
  twoHosts,
  waitExit,
  waitUp,
  writePassword,
  writeServerConfig,
} from './tunnel-lab.js';

const SECRET = 'acct-test-secret';
const TRAFFIC_BYTES = 2 * 1024 * 1024;

type Record = Map<string, string>;

/** FreeRADIUS `detail` records: blocks of `Name = value` lines after a date line. */
function records(detail: string): Record[] {
  const out: Record[] = [];
  for (const block of detail.split(/\n\s*\n/)) {
    const r: Record = new Map();
    for (const line of block.split('\n')) {
      const m = /^\s+([A-Za-z0-9-]+(?::\d+)?) = (.*)$/.exec(line);
      if (m) r.set(m[1]!, m[2]!.replace(/^"(.*)"$/, '$1'));
    }
    if (r.size) out.push(r);
  }
  return out;
}

const octets = (r: Record, dir: 'Input' | 'Output') =>
  Number(r.get(`Acct-${dir}-Octets`) ?? 0) + Number(r.get(`Acct-${dir}-Gigawords`) ?? 0) * 2 ** 32;

async function linkBytes(lab: NetnsLab, ns: string, ifname: string): Promise<{ rx: number; tx: number }> {
  const r = await lab.exec(ns, ['ip', '-j', '-s', 'link', 'show', 'dev', ifname]);
  const s = (JSON.parse(r.stdout) as { stats64: { rx: { bytes: number }; tx: { bytes: number } } }[])[0]!
    .stats64;
  return { rx: s.rx.bytes, tx: s.tx.bytes };
}

describe('RADIUS accounting of pptp-ts serve against FreeRADIUS', () => {
  // Both clean up in this suite's `after` (so they are made here, not in `before`).
  const lab = createLab('racct');
  const dir = tempDir('racct');
  let ns: { server: string; client: string };
  let fr: FreeRadius | undefined;
  let server: Spawned;
  let pw: string;

  before(async () => {
    requireRoot();
    requireFreeRadius();
    ns = await twoHosts(lab);
    fr = await startFreeRadius({
      secret: SECRET,
      users: '',
      netns: { lab, ns: ns.server, address: '127.0.0.1' },
    });
    const config = writeServerConfig(dir, {
      radius: {
        order: ['secrets'],
        accounting: [{ address: `127.0.0.1:${fr.acctPort}`, secret: SECRET }],
        'nas-identifier': 'racct-nas',
        'interim-interval': 2,
        timeout: 3,
        retries: 1,
        'dead-time': 1,
        'accounting-queue': { path: join(dir, 'acct.spool') },
      },
      limits: { 'shutdown-timeout': 6 },
    });
    // As tunnel-lab's startServer, with more patience: FreeRADIUS and the server start on a busy machine.
    server = lab.spawn(ns.server, [...PPTP_TS, 'serve', '--config', config]);
    await server.waitFor(/listening on /, 90_000);
    pw = writePassword(dir, 'correct horse');
  });

  after(async () => {
    await fr?.stop();
  });

  it('Accounting-On at start; Start, Interim-Update, Stop with the bytes the client sent', async () => {
    await eventually(
      () => records(fr!.accountingDetail()).some((r) => r.get('Acct-Status-Type') === 'Accounting-On'),
      60_000,
      'Accounting-On',
    );
    const on = records(fr!.accountingDetail()).find((r) => r.get('Acct-Status-Type') === 'Accounting-On')!;
    assert.equal(on.get('NAS-Identifier'), 'racct-nas');

    const client = startClient(lab, ns.client, [
      '--user',
      'alice',
      '--password-file',
      pw,
      '--ifname',
      'ppacct0',
    ]);
    const up = await waitUp(client, 90_000);
    const sink = lab.spawn(ns.server, [...TOOL, 'tcp-sink', TUNNEL_LOCAL, '5001']);
    await sink.waitFor(/sink ready/, 90_000);
    await lab.exec(ns.client, [...TOOL, 'tcp-send', TUNNEL_LOCAL, '5001', String(TRAFFIC_BYTES)], {
      timeoutMs: 120_000,
    });
    await sink.waitFor(/sink \d+ [0-9a-f]{64}/, 60_000);
    await sink.kill();
    // An Interim-Update that already counts the transfer (every 2 s).
    await eventually(
      () =>
        records(fr!.accountingDetail()).some(
          (r) => r.get('Acct-Status-Type') === 'Interim-Update' && octets(r, 'Input') >= TRAFFIC_BYTES,
        ),
      60_000,
      'an Interim-Update with the transfer',
    );
    const kernel = await linkBytes(lab, ns.client, up.ifname);
    await client.kill();
    await eventually(
      () => records(fr!.accountingDetail()).some((r) => r.get('Acct-Status-Type') === 'Stop'),
      60_000,
      'the Stop',
    );
    const all = records(fr!.accountingDetail());
    const start = all.find((r) => r.get('Acct-Status-Type') === 'Start')!;
    const stop = all.find((r) => r.get('Acct-Status-Type') === 'Stop')!;
    const id = start.get('Acct-Session-Id')!;
    assert.match(id, /^[0-9A-F]{16}-[0-9A-F]{8}$/);
    assert.equal(stop.get('Acct-Session-Id'), id);
    assert.ok(
      all.some((r) => r.get('Acct-Status-Type') === 'Interim-Update' && r.get('Acct-Session-Id') === id),
      'interims carry the session id',
    );
    for (const r of [start, stop]) {
      assert.equal(r.get('User-Name'), 'alice');
      assert.equal(r.get('Calling-Station-Id'), CLIENT_IP);
      assert.equal(r.get('Framed-IP-Address'), up.local);
      assert.equal(r.get('NAS-Identifier'), 'racct-nas');
      assert.equal(r.get('Acct-Authentic'), 'Local');
      assert.match(r.get('NAS-Port') ?? '', /^\d+$/);
    }
    assert.equal(stop.get('Acct-Terminate-Cause'), 'User-Request');
    assert.ok(Number(stop.get('Acct-Session-Time')) >= 1);
    // The octets are whole IP packets: the TCP payload the client sent plus 52 octets of IPv4, TCP and
    // timestamp-option headers per packet, which must give back the payload within 1 %. (The client
    // kernel's own TUN counter is no oracle: with segmentation offload it counts unsegmented packets.)
    const input = octets(stop, 'Input');
    const output = octets(stop, 'Output');
    const packetsIn = Number(stop.get('Acct-Input-Packets'));
    const payload = input - 52 * packetsIn;
    assert.ok(input >= TRAFFIC_BYTES, `Acct-Input-Octets ${input} < ${TRAFFIC_BYTES}`);
    assert.ok(
      Math.abs(payload - TRAFFIC_BYTES) <= TRAFFIC_BYTES * 0.01,
      `payload ${payload} (${input} octets, ${packetsIn} packets) vs ${TRAFFIC_BYTES} sent`,
    );
    assert.ok(output > 0 && output < input, `output ${output}: the acknowledgments`);
    assert.ok(input >= kernel.tx, `input ${input} vs the client's unsegmented ${kernel.tx}`);
    assert.ok(Number(stop.get('Acct-Input-Packets')) > TRAFFIC_BYTES / 1500);
  });

  it('an outage: the Stop of a session that ended meanwhile arrives later, with its Acct-Delay-Time', async () => {
    const client = startClient(lab, ns.client, [
      '--user',
      'bob',
      '--password-file',
      writePassword(dir, 'hunter2'),
    ]);
    await waitUp(client, 90_000);
    await eventually(
      () =>
        records(fr!.accountingDetail()).some(
          (r) => r.get('Acct-Status-Type') === 'Start' && r.get('User-Name') === 'bob',
        ),
      60_000,
      "bob's Start",
    );
    await fr!.pause();
    await client.kill();
    // Long enough for the Stop to fail on the (only) server and the queue to pause.
    await new Promise((r) => setTimeout(r, 4000));
    await fr!.resume();
    await eventually(
      () =>
        records(fr!.accountingDetail()).some(
          (r) => r.get('Acct-Status-Type') === 'Stop' && r.get('User-Name') === 'bob',
        ),
      120_000,
      "bob's Stop after the outage",
    );
    const stop = records(fr!.accountingDetail()).find(
      (r) => r.get('Acct-Status-Type') === 'Stop' && r.get('User-Name') === 'bob',
    )!;
    const delay = Number(stop.get('Acct-Delay-Time'));
    assert.ok(delay >= 4, `Acct-Delay-Time ${delay}`);
    assert.equal(stop.get('Acct-Terminate-Cause'), 'User-Request');
  });

  it('Accounting-Off at shutdown, after the Stops of the sessions it ends', async () => {
    const client = startClient(lab, ns.client, [
      '--user',
      'alice',
      '--password-file',
      pw,
      '--ifname',
      'ppacct2',
    ]);
    await waitUp(client, 90_000);
    await eventually(
      () => records(fr!.accountingDetail()).filter((r) => r.get('Acct-Status-Type') === 'Start').length === 3,
      60_000,
      'the third Start',
    );
    process.kill(server.pid, 'SIGTERM');
    const exit = await waitExit(server, 15_000);
    assert.equal(exit.code, 0, exit.stderr);
    await client.kill();
    const all = records(fr!.accountingDetail());
    const types = all.map((r) => r.get('Acct-Status-Type'));
    const off = types.lastIndexOf('Accounting-Off');
    assert.ok(off >= 0, `no Accounting-Off in ${types.join(', ')}`);
    const stops = all.filter((r) => r.get('Acct-Status-Type') === 'Stop');
    assert.equal(stops.length, 3);
    const last = stops[2]!;
    assert.equal(last.get('Acct-Terminate-Cause'), 'NAS-Reboot');
    assert.ok(types.lastIndexOf('Stop') < off, 'the Stop comes before the Off');
  });
});
