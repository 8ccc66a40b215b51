/**
 * TUN offloads (src/io/tun.ts `offload`) on a real kernel. Two namespaces,
 * each with an offload TUN, and this process as the wire between them:
 * whatever one TUN reads is written to the other. Real kernel TCP (and UDP
 * with UDP_SEGMENT) then runs through our segmentation (super-packets read
 * from the sender's TUN) and our coalescing (super-packets written to the
 * receiver's TUN):
 *  - the bytes arrive intact (SHA-256 end to end), IPv4 and IPv6;
 *  - the kernel really handed us super-packets and really took merged ones;
 *  - no TCP checksum error anywhere (kernel counters), and tshark finds every
 *    segment we produced valid;
 *  - a segment corrupted on the wire is not merged: the kernel drops it and
 *    TCP repairs the stream (with merging it would have been trusted).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LinkType } from '../../src/capture/link.js';
import { encodePcap } from '../../src/capture/pcap.js';
import { addPointToPointAddress, setLinkUp, setMtu } from '../../src/io/ip.js';
import { Tun } from '../../src/io/tun.js';
import { createLab, listNamespaces, run } from '../helpers/netns.js';
import { requireRoot } from '../helpers/tools.js';
import { tsharkPackets } from '../helpers/tshark.js';

const A4 = '10.91.0.1';
const B4 = '10.91.0.2';
const A6 = 'fd91::1';
const B6 = 'fd91::2';

/** A deterministic byte stream of `mb` MiB sent over TCP; prints its SHA-256. */
const SENDER = `
const net = require('node:net'), crypto = require('node:crypto');
const [host, port, mb] = process.argv.slice(1);
const chunk = Buffer.alloc(65536); let x = 1;
const h = crypto.createHash('sha256');
const s = net.connect({ host, port: +port }, () => {
  let left = +mb * 16;
  const pump = () => {
    while (left > 0) {
      for (let i = 0; i < chunk.length; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; chunk[i] = x & 255; }
      h.update(chunk); left--;
      if (!s.write(Buffer.from(chunk))) return s.once('drain', pump);
    }
    s.end(() => console.log('sent ' + h.digest('hex')));
  };
  pump();
});
s.on('error', (e) => { console.error(e.message); process.exit(1); });
`;

/** Receives one connection; prints the byte count and SHA-256 at its end. */
const RECEIVER = `
const net = require('node:net'), crypto = require('node:crypto');
const [host, port] = process.argv.slice(1);
const srv = net.createServer((c) => {
  const h = crypto.createHash('sha256'); let n = 0;
  c.on('data', (d) => { n += d.length; h.update(d); });
  c.on('end', () => { console.log('got ' + n + ' ' + h.digest('hex')); srv.close(); c.end(); });
});
srv.listen(+port, host, () => console.log('listening'));
`;

/** Sends one UDP datagram of `size` bytes with UDP_SEGMENT (USO) `seg`; the receiver prints what arrives. */
const USO_SEND = `
import socket, sys
host, port, size, seg = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(17, 103, seg)  # SOL_UDP, UDP_SEGMENT
s.sendto(bytes((i * 7) & 255 for i in range(size)), (host, port))
`;
const UDP_RECV = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
s.settimeout(5)
print('listening', flush=True)
data = b''
try:
    while len(data) < int(sys.argv[3]):
        d = s.recv(65536)
        print('datagram', len(d), flush=True)
        data += d
except socket.timeout:
    pass
ok = data == bytes((i * 7) & 255 for i in range(len(data)))
print('total', len(data), 'ok' if ok else 'corrupt', flush=True)
`;

/** Counters from /proc/net/snmp inside `ns`, keyed like `TcpInCsumErrors`. */
async function snmp(ns: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const r = await run(['ip', 'netns', 'exec', ns, 'cat', '/proc/net/snmp']);
  const lines = r.stdout.split('\n');
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const k = lines[i]!.split(/\s+/);
    const v = lines[i + 1]!.split(/\s+/);
    const group = k[0]!.replace(':', '');
    for (let j = 1; j < k.length; j++) out[`${group}${k[j]}`] = Number(v[j]);
  }
  return out;
}

describe('TUN offloads (segmentation and coalescing) on a real kernel', () => {
  before(() => requireRoot('ip', 'ping', 'tshark', 'python3'));
  const lab = createLab('iooff');
  const dir = mkdtempSync(join(tmpdir(), 'pptp-ts-iooff-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let nsA = '';
  let nsB = '';
  let ta: Tun | undefined;
  let tb: Tun | undefined;
  /** The first segments read from A's TUN, for tshark. */
  const sample: Uint8Array[] = [];
  /** Corrupts one byte of the n-th TCP packet with payload from A to B (0 = never). */
  let corruptAt = 0;
  let tcpFromA = 0;
  after(() => {
    ta?.close();
    tb?.close();
  });

  before(async () => {
    nsA = await lab.addNamespace('a');
    nsB = await lab.addNamespace('b');
    ta = Tun.open({ name: 'offa%d', netns: nsA, offload: true });
    tb = Tun.open({ name: 'offb%d', netns: nsB, offload: true });
    assert.equal(ta.offloads?.tso, true);
    assert.equal(ta.offloads?.coalesce, true);
    for (const [t, ns, l4, p4, l6, p6] of [
      [ta, nsA, A4, B4, A6, B6],
      [tb, nsB, B4, A4, B6, A6],
    ] as const) {
      await setMtu(t.name, 1400, { netns: ns });
      await addPointToPointAddress(t.name, l4, p4, { netns: ns });
      await setLinkUp(t.name, { netns: ns });
      // IPv6 on a point-to-point TUN: our address, and the peer's as an on-link host route.
      await run(['ip', '-n', ns, '-6', 'addr', 'add', `${l6}/128`, 'dev', t.name, 'nodad']);
      await run(['ip', '-n', ns, '-6', 'route', 'add', `${p6}/128`, 'dev', t.name]);
    }
    const a = ta;
    const b = tb;
    a.start({
      onPacket(p) {
        if (sample.length < 400 && p[0]! >> 4 === 4 && p[9] === 6) sample.push(p.slice());
        if (corruptAt > 0 && p[0]! >> 4 === 4 && p[9] === 6 && p.length > 500 && ++tcpFromA === corruptAt) {
          const q = p.slice();
          q[q.length - 100]! ^= 0x10;
          b.write(q);
          return;
        }
        b.write(p);
      },
      onBatchEnd: () => b.flush(),
    });
    b.start({ onPacket: (p) => a.write(p), onBatchEnd: () => a.flush() });
    await lab.exec(nsA, ['ping', '-c', '2', '-i', '0.2', '-W', '2', B4]);
    await lab.exec(nsA, ['ping', '-6', '-c', '1', '-W', '2', B6]);
  });

  async function transfer(host: string, mb: number): Promise<{ sent: string; got: string }> {
    const rx = lab.spawn(nsB, [process.execPath, '-e', RECEIVER, host, '5201']);
    await rx.waitFor(/listening/, 10_000);
    const tx = lab.spawn(nsA, [process.execPath, '-e', SENDER, host, '5201', String(mb)]);
    await rx.waitFor(/got \d+/, 60_000);
    await tx.waitFor(/sent/, 10_000);
    const got = /got (\d+) ([0-9a-f]+)/.exec(rx.stdout())!;
    const sent = /sent ([0-9a-f]+)/.exec(tx.stdout())!;
    await rx.kill();
    await tx.kill();
    assert.equal(Number(got[1]), mb << 20, 'every byte arrived');
    return { sent: sent[1]!, got: got[2]! };
  }

  it('a 24 MiB TCP transfer over IPv4 arrives intact through super-packets both ways', async () => {
    const before = { a: await snmp(nsA), b: await snmp(nsB) };
    const r = await transfer(B4, 24);
    assert.equal(r.got, r.sent, 'SHA-256 end to end');
    const sa = ta!.offloadStats!;
    const sb = tb!.offloadStats!;
    assert.ok(sa.gsoPackets > 0, `the kernel gave A's TUN super-packets (${JSON.stringify(sa)})`);
    assert.ok(sa.gsoSegments > 2 * sa.gsoPackets, 'that we cut into several segments each');
    assert.ok(
      sb.coalesce.superPackets > 0,
      `B's TUN took merged super-packets (${JSON.stringify(sb.coalesce)})`,
    );
    assert.ok(sb.coalesce.merged > 1000, 'many segments merged');
    assert.equal(sb.coalesce.badChecksums, 0);
    assert.equal(sa.offloadErrors + sb.offloadErrors, 0);
    assert.ok(tb!.stats.txPackets < sa.gsoSegments / 2, 'B wrote far fewer packets than A produced segments');
    const after = { a: await snmp(nsA), b: await snmp(nsB) };
    for (const side of ['a', 'b'] as const) {
      assert.equal(
        after[side].TcpInCsumErrors,
        before[side].TcpInCsumErrors,
        `${side}: no TCP checksum errors`,
      );
      assert.equal(after[side].IpInHdrErrors, before[side].IpInHdrErrors, `${side}: no IP header errors`);
    }
  });

  it('tshark verifies the IPv4 and TCP checksums of the segments we cut', () => {
    assert.ok(sample.length >= 100);
    const file = join(dir, 'segments.pcap');
    writeFileSync(
      file,
      encodePcap(
        sample.map((data, i) => ({ timestamp: { seconds: 1_700_000_000, nanoseconds: i * 1000 }, data })),
        { linkType: LinkType.Raw },
      ),
    );
    const pk = tsharkPackets(file);
    assert.equal(pk.length, sample.length);
    for (const [i, p] of pk.entries()) {
      assert.equal(p.first('ip.checksum.status'), '1', `frame ${i + 1}: IPv4 header checksum`);
      assert.equal(p.first('tcp.checksum.status'), '1', `frame ${i + 1}: TCP checksum`);
      assert.ok(Number(p.first('ip.len')) <= 1400, `frame ${i + 1}: no longer than the MTU`);
    }
  });

  it('IPv6: a 6 MiB transfer arrives intact (TSO6 and IPv6 merging)', async () => {
    const segs = ta!.offloadStats!.gsoSegments;
    const merged = tb!.offloadStats!.coalesce.merged;
    const r = await transfer(B6, 6);
    assert.equal(r.got, r.sent);
    assert.ok(ta!.offloadStats!.gsoSegments > segs);
    assert.ok(tb!.offloadStats!.coalesce.merged > merged);
  });

  it('a segment corrupted on the wire is not merged: the kernel drops it and TCP repairs the stream', async () => {
    const before = await snmp(nsB);
    const bad = tb!.offloadStats!.coalesce.badChecksums;
    tcpFromA = 0;
    corruptAt = 300;
    const r = await transfer(B4, 4);
    corruptAt = 0;
    assert.equal(r.got, r.sent, 'the application never sees the corrupted byte');
    const afterB = await snmp(nsB);
    assert.equal(
      afterB.TcpInCsumErrors! - before.TcpInCsumErrors!,
      1,
      "B's kernel dropped exactly that segment",
    );
    assert.ok(tb!.offloadStats!.coalesce.badChecksums - bad <= 1);
  });

  it('UDP with UDP_SEGMENT arrives as 12 datagrams: one super-packet cut by us with USO, cut by the kernel without', async () => {
    // TUN USO exists since Linux 6.2; without it the kernel segments before the TUN and we read 12 packets.
    const uso = ta!.offloads!.uso;
    const before = ta!.offloadStats!.gsoPackets;
    const rx = lab.spawn(nsB, ['python3', '-c', UDP_RECV, B4, '5300', '12000']);
    await rx.waitFor(/listening/, 10_000);
    await lab.exec(nsA, ['python3', '-c', USO_SEND, B4, '5300', '12000', '1000']);
    await rx.waitFor(/total \d+/, 10_000);
    await rx.kill();
    const out = rx.stdout();
    assert.match(out, /total 12000 ok/);
    assert.equal((out.match(/datagram 1000/g) ?? []).length, 12, '12 datagrams of 1000 bytes');
    assert.equal(
      ta!.offloadStats!.gsoPackets,
      uso ? before + 1 : before,
      uso ? 'one UDP super-packet read' : 'no super-packet without USO',
    );
  });

  it('closes cleanly and leaves no namespace behind', async () => {
    ta!.close();
    tb!.close();
    await lab.cleanup();
    assert.deepEqual(
      (await listNamespaces()).filter((n) => n.startsWith(lab.prefix)),
      [],
    );
  });
});
