/**
 * Native packet capture (src/io/capture.ts) on a real kernel, without
 * tcpdump: two namespaces joined by veth; we capture on one end while it
 * pings the other and while GRE packets cross in both directions, then read
 * the pcap back with our own reader (capture/open.ts) and with tshark, an
 * independent decoder. Also: directions and time stamps, the filter, the
 * snap length, a TUN (raw IP link type), clear errors, and a stop() that
 * leaves no fd behind.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LinkType } from '../../src/capture/link.js';
import { openCapture } from '../../src/capture/open.js';
import type { CapturedPacket } from '../../src/capture/types.js';
import { type CapturedFrameInfo, startCapture } from '../../src/io/capture.js';
import { addPointToPointAddress, setLinkUp } from '../../src/io/ip.js';
import { RawGreSocket } from '../../src/io/raw-gre.js';
import { Tun } from '../../src/io/tun.js';
import { createLab, listNamespaces, run } from '../helpers/netns.js';
import { requireRoot } from '../helpers/tools.js';
import { tsharkNumber, tsharkPackets } from '../helpers/tshark.js';

const A = '10.89.0.1';
const B = '10.89.0.2';
const bytesOf = (a: string) => a.split('.').map(Number);

/** IPv4 + enhanced GRE (RFC 2637 §4.1) + a 2-byte PPP protocol and `n` payload bytes; length and checksum left to the kernel. */
function grePacket(src: string, dst: string, seq: number, n: number): Uint8Array {
  const p = new Uint8Array(20 + 12 + 2 + n);
  const v = new DataView(p.buffer);
  p[0] = 0x45;
  v.setUint16(6, 0x4000);
  p[8] = 64;
  p[9] = 47;
  p.set(bytesOf(src), 12);
  p.set(bytesOf(dst), 16);
  p[20] = 0x30; // K, S
  p[21] = 0x01; // version 1
  v.setUint16(22, 0x880b);
  v.setUint16(24, 2 + n);
  v.setUint16(26, 0x1234 + seq);
  v.setUint32(28, seq);
  v.setUint16(32, 0xc021); // LCP, so tshark has a PPP layer to show
  for (let i = 0; i < n; i++) p[34 + i] = (seq * 7 + i) & 0xff;
  return p;
}

/** The IPv4 packet inside an Ethernet II frame, or undefined. */
function ipv4Of(frame: Uint8Array): Uint8Array | undefined {
  if (frame.length < 34 || frame[12] !== 0x08 || frame[13] !== 0x00) return undefined;
  return frame.subarray(14);
}

async function until(cond: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

function socketFds(): Set<string> {
  const out = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:')) out.add(fd);
    } catch {}
  }
  return out;
}

describe('native packet capture (AF_PACKET) on a real kernel', () => {
  before(() => requireRoot('ip', 'ping', 'tshark'));
  const lab = createLab('iocap');
  const dir = mkdtempSync(join(tmpdir(), 'pptp-ts-iocap-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let nsA = '';
  let nsB = '';

  before(async () => {
    nsA = await lab.addNamespace('a');
    nsB = await lab.addNamespace('b');
    await lab.addVeth(nsA, 'a0', nsB, 'b0');
    await run(['ip', '-n', nsA, 'addr', 'add', `${A}/24`, 'dev', 'a0']);
    await run(['ip', '-n', nsB, 'addr', 'add', `${B}/24`, 'dev', 'b0']);
    await lab.exec(nsA, ['ping', '-c', '1', '-W', '2', B]); // neighbours resolved
  });

  it('captures a ping and GRE both ways into a pcap that our reader and tshark agree on', async () => {
    const file = join(dir, 'a0.pcap');
    const fdsBefore = socketFds();
    // Time stamps as bigint nanoseconds: 1.7e18 is beyond a double's exact integers.
    const seen: { dir: CapturedFrameInfo['direction']; ns: bigint; ip?: Uint8Array }[] = [];
    const t0 = BigInt(Date.now()) * 1_000_000n;
    const cap = startCapture({
      ifname: 'a0',
      netns: nsA,
      file,
      onPacket(frame, info) {
        const ns = BigInt(info.timestamp.seconds) * 1_000_000_000n + BigInt(info.timestamp.nanoseconds);
        seen.push({ dir: info.direction, ns, ip: ipv4Of(frame)?.slice() });
      },
    });
    assert.equal(cap.linkType, LinkType.Ethernet);
    const txA = RawGreSocket.open({ netns: nsA, bindAddress: A });
    const txB = RawGreSocket.open({ netns: nsB, bindAddress: B });
    const sentA = [grePacket(A, B, 1, 40), grePacket(A, B, 2, 300)];
    const sentB = [grePacket(B, A, 3, 17)];
    let stats: Awaited<ReturnType<typeof cap.stop>>;
    try {
      await lab.exec(nsA, ['ping', '-c', '2', '-i', '0.2', '-W', '2', B]);
      for (const p of sentA) txA.send(p);
      for (const p of sentB) txB.send(p);
      txA.flush();
      txB.flush();
      const isGre = (s: (typeof seen)[number]) => s.ip?.[9] === 47;
      await until(() => seen.filter(isGre).length >= 3, 5000);
    } finally {
      txA.close();
      txB.close();
      stats = await cap.stop();
    }
    const t1 = BigInt(Date.now()) * 1_000_000n;
    assert.deepEqual(await cap.stop(), stats, 'stop() is idempotent');
    assert.deepEqual(socketFds(), fdsBefore, 'the packet socket is closed');

    // What the live callback saw: directions and time stamps.
    const icmp = seen.filter((s) => s.ip?.[9] === 1);
    const req = icmp.filter((s) => s.ip![20] === 8);
    const rep = icmp.filter((s) => s.ip![20] === 0);
    assert.equal(req.length, 2, 'two echo requests');
    assert.equal(rep.length, 2, 'two echo replies');
    assert.ok(
      req.every((s) => s.dir === 'out'),
      'requests leave a0',
    );
    assert.ok(
      rep.every((s) => s.dir === 'in'),
      'replies arrive on a0',
    );
    const gre = seen.filter((s) => s.ip?.[9] === 47);
    assert.deepEqual(
      gre.map((s) => s.dir),
      ['out', 'out', 'in'],
    );
    for (const [i, s] of gre.entries()) {
      const want = [...sentA, ...sentB][i]!;
      assert.equal(s.ip!.length, want.length);
      assert.deepEqual(
        s.ip!.subarray(20),
        want.subarray(20),
        `GRE packet ${i}: every byte after the IPv4 header`,
      );
    }
    for (let i = 1; i < seen.length; i++)
      assert.ok(seen[i]!.ns >= seen[i - 1]!.ns, 'time stamps never go back');
    assert.ok(
      seen.every((s) => s.ns >= t0 - 1_000_000_000n && s.ns <= t1 + 1_000_000_000n),
      'kernel time stamps are wall-clock times of this test',
    );
    assert.equal(stats.packets, seen.length);
    assert.equal(stats.kept, seen.length);
    assert.equal(stats.outgoing + stats.incoming, seen.length);

    // Our own reader: the file holds exactly what the callback saw, in order.
    const bytes = new Uint8Array(readFileSync(file));
    const reader = openCapture(bytes);
    assert.equal(reader.format, 'pcap');
    const packets: CapturedPacket[] = [...reader];
    assert.equal(packets.length, seen.length);
    for (const [i, p] of packets.entries()) {
      assert.equal(p.linkType, LinkType.Ethernet);
      const ip = ipv4Of(p.data);
      assert.deepEqual(ip, seen[i]!.ip, `frame ${i + 1}`);
      const ns = BigInt(p.timestamp.seconds) * 1_000_000_000n + BigInt(p.timestamp.nanoseconds);
      const d = seen[i]!.ns - ns;
      assert.ok(d >= 0n && d < 1000n, `microsecond time stamps in the file (off by ${d} ns)`);
    }

    // tshark, independently.
    const ts = tsharkPackets(file);
    assert.equal(ts.length, packets.length, 'tshark reads every frame');
    const tsIcmp = ts.filter((p) => p.protocols.includes('icmp'));
    assert.deepEqual(
      tsIcmp.map((p) => tsharkNumber(p.first('icmp.type'))),
      [8, 0, 8, 0],
    );
    const tsGre = ts.filter((p) => p.protocols.includes('gre'));
    assert.deepEqual(
      tsGre.map((p) => tsharkNumber(p.first('gre.key.call_id'))),
      [0x1235, 0x1236, 0x1237],
    );
    assert.deepEqual(
      tsGre.map((p) => p.first('ip.src')),
      [A, A, B],
    );
    assert.ok(
      tsGre.every((p) => p.protocols.includes('ppp')),
      'tshark sees the PPP frame inside',
    );
    assert.ok(
      ts.every((p) => p.first('ip.checksum.status') !== '0'),
      'no IPv4 header checksum is bad',
    );
  });

  it('keeps only what the filter accepts, and cuts frames to the snap length', async () => {
    const file = join(dir, 'filtered.pcap');
    const cap = startCapture({
      ifname: 'b0',
      netns: nsB,
      file,
      snapLength: 128,
      filter: (frame) => ipv4Of(frame)?.[9] === 1, // ICMP only
    });
    try {
      await lab.exec(nsA, ['ping', '-c', '1', '-s', '1000', '-W', '2', B]);
      await lab.exec(nsB, ['ip', 'neigh', 'flush', 'dev', 'b0']); // some non-ICMP traffic (ARP) next
      await lab.exec(nsB, ['ping', '-c', '1', '-W', '2', A]);
      await until(() => cap.stats.kept >= 4, 5000);
    } finally {
      await cap.stop();
    }
    const st = cap.stats;
    assert.equal(st.kept, 4, 'two echo exchanges');
    assert.ok(st.filtered >= 1, `the ARP exchange was filtered out (${JSON.stringify(st)})`);
    const packets = [...openCapture(new Uint8Array(readFileSync(file)))];
    assert.equal(packets.length, 4);
    const big = packets.slice(0, 2);
    for (const p of big) {
      assert.equal(p.data.length, 128, 'cut to the snap length');
      assert.equal(p.originalLength, 14 + 20 + 8 + 1000, 'the original length is kept');
    }
    assert.equal(st.truncated, 2);
    assert.ok(packets.slice(2).every((p) => p.data.length === p.originalLength && p.data.length === 98));
  });

  it('captures bare IP packets on a TUN (raw IP link type)', async () => {
    const tun = Tun.open({ name: 'cap%d', netns: nsA });
    const file = join(dir, 'tun.pcap');
    try {
      await addPointToPointAddress(tun.name, '10.90.0.1', '10.90.0.2', { netns: nsA });
      await setLinkUp(tun.name, { netns: nsA });
      const cap = startCapture({ ifname: tun.name, netns: nsA, file });
      assert.equal(cap.linkType, LinkType.Raw);
      await lab.exec(nsA, ['ping', '-c', '1', '-W', '1', '10.90.0.2'], { allowFail: true }); // nobody answers
      await until(() => cap.stats.outgoing >= 1, 5000);
      await cap.stop();
      assert.ok(cap.stats.outgoing >= 1, 'the echo request is outgoing on the TUN');
    } finally {
      tun.close();
    }
    const packets = [...openCapture(new Uint8Array(readFileSync(file)))];
    const req = packets.find((p) => p.data[0] === 0x45 && p.data[9] === 1 && p.data[20] === 8);
    assert.ok(req, 'the echo request, starting with its IPv4 header');
    assert.equal(req.linkType, LinkType.Raw);
    assert.deepEqual([...req.data.subarray(16, 20)], [10, 90, 0, 2]);
  });

  it('reports errors clearly', () => {
    assert.throws(
      () => startCapture({ ifname: 'nosuch0', netns: nsA }),
      (e: NodeJS.ErrnoException) => e.code === 'ENODEV' && /if_nametoindex nosuch0/.test(e.message),
    );
    assert.throws(() => startCapture({ ifname: 'a0', netns: nsA, snapLength: 10 }), RangeError);
    assert.throws(() => startCapture({ ifname: 'x'.repeat(16), netns: nsA }), TypeError);
  });

  it('leaves no namespace behind', async () => {
    await lab.cleanup();
    assert.deepEqual(
      (await listNamespaces()).filter((n) => n.startsWith(lab.prefix)),
      [],
    );
  });
});
