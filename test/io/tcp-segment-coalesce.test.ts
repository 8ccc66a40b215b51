/**
 * io/tcp-segment-coalesce.ts (GRO before the TUN): which segments merge
 * and which do not, what a merged super-packet looks like (virtio-net
 * header, lengths, IPv4 header checksum, partial TCP checksum), and that no
 * byte is lost, duplicated or reordered within a flow. Oracles: packets
 * built naively (test/helpers/inet-packets.ts), the naive checksum, and the
 * inverse operation: completing a merged packet's checksum must give
 * exactly the checksum a naive builder computes for the whole payload.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  completeChecksum,
  decodeVirtioNetHdr,
  TCP_FLAG,
  VIRTIO_NET_HDR_LENGTH,
  VirtioNetGso,
  VirtioNetHdrFlag,
} from '../../src/io/tcp-segment.js';
import { type CoalesceOptions, TcpCoalescer, type TxSlots } from '../../src/io/tcp-segment-coalesce.js';
import { toHex } from '../../src/wire/bytes.js';
import {
  type FlowSpec,
  patternBytes,
  type TcpSpec,
  tcpPacket,
  timestampOption,
  udpPacket,
  V4_FLOW,
  V6_FLOW,
} from '../helpers/inet-packets.js';

/** A transmit ring in memory: what RingPort gives the TUN. */
class FakeSlots implements TxSlots {
  readonly bytes: Uint8Array;
  readonly lengths: number[] = [];
  flushes = 0;
  coalescer?: TcpCoalescer;
  /** Slot contents of earlier flushes. */
  readonly sent: Uint8Array[] = [];
  constructor(
    readonly slotSize: number,
    readonly slots: number,
    private readonly flushWhenFull = false,
  ) {
    this.bytes = new Uint8Array(slotSize * slots).fill(0xa5);
  }
  allocSlot(): number {
    if (this.lengths.length === this.slots) {
      if (!this.flushWhenFull) return -1;
      this.flush();
    }
    this.lengths.push(0);
    return this.lengths.length - 1;
  }
  setSlotLength(i: number, length: number): void {
    this.lengths[i] = length;
  }
  /** What a RingPort flush does: finish(), then send every slot. */
  flush(): void {
    this.coalescer?.finish();
    this.flushes++;
    this.sent.push(...this.queued());
    this.lengths.length = 0;
  }
  queued(): Uint8Array[] {
    return this.lengths.map((len, i) => this.bytes.slice(i * this.slotSize, i * this.slotSize + len));
  }
}

function setup(opts: CoalesceOptions = {}, slots = 32, flushWhenFull = false) {
  const ring = new FakeSlots(65536 + 128, slots, flushWhenFull);
  const c = new TcpCoalescer(ring, opts);
  ring.coalescer = c;
  return { ring, c };
}

/** `n` consecutive full segments of one flow starting at `seq`, then an optional shorter one. */
function run(
  f: FlowSpec,
  seq: number,
  n: number,
  mss: number,
  last = 0,
  t: Partial<TcpSpec> = {},
): Uint8Array[] {
  const out: Uint8Array[] = [];
  let s = seq;
  for (let i = 0; i < n + (last ? 1 : 0); i++) {
    const len = i < n ? mss : last;
    out.push(
      tcpPacket(
        { ...f, id: 100 + i },
        { seq: s >>> 0, ack: 999, flags: TCP_FLAG.ACK, payload: patternBytes(len, s), ...t },
      ),
    );
    s += len;
  }
  return out;
}

interface Unpacked {
  hdr: ReturnType<typeof decodeVirtioNetHdr>;
  ip: Uint8Array;
}

function unpack(slot: Uint8Array): Unpacked {
  return { hdr: decodeVirtioNetHdr(slot), ip: slot.subarray(VIRTIO_NET_HDR_LENGTH) };
}

/** The TCP payload of an IP packet. */
function payloadOf(ip: Uint8Array): Uint8Array {
  const thoff = ip[0]! >> 4 === 4 ? (ip[0]! & 15) * 4 : 40;
  return ip.subarray(thoff + (ip[thoff + 12]! >> 4) * 4);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Checks a merged slot against the naive packet with the whole payload:
 * same headers but for the TCP checksum, which holds the pseudo-header sum
 * and completes to the naive checksum.
 */
function assertMerged(slot: Uint8Array, f: FlowSpec, first: TcpSpec, payload: Uint8Array, mss: number): void {
  const { hdr, ip } = unpack(slot);
  const thoff = f.version === 4 ? 20 : 40;
  const hlen = thoff + 20 + (first.options?.length ?? 0);
  assert.deepEqual(hdr, {
    flags: VirtioNetHdrFlag.NeedsCsum,
    gsoType: f.version === 4 ? VirtioNetGso.TcpV4 : VirtioNetGso.TcpV6,
    hdrLen: hlen,
    gsoSize: mss,
    csumStart: thoff,
    csumOffset: 16,
  });
  const want = tcpPacket({ ...f, id: 100 }, { ...first, payload });
  const completed = ip.slice();
  completeChecksum(completed, thoff, 16);
  assert.equal(toHex(completed), toHex(want), 'completing the partial checksum gives the whole packet');
}

describe('TcpCoalescer: merging TCP segments before the TUN (GRO)', () => {
  it('merges a run of in-order full segments plus a short last one into one super-packet', () => {
    for (const f of [V4_FLOW, V6_FLOW]) {
      const { ring, c } = setup();
      const segs = run(f, 5000, 20, 1448, 300);
      for (const s of segs) assert.equal(c.push(s), true);
      c.finish();
      const q = ring.queued();
      assert.equal(q.length, 1, `IPv${f.version}: one slot`);
      assertMerged(
        q[0]!,
        f,
        { seq: 5000, ack: 999, flags: TCP_FLAG.ACK, payload: new Uint8Array() },
        concat(segs.map(payloadOf)),
        1448,
      );
      assert.deepEqual(c.stats, { packets: 21, merged: 20, superPackets: 1, badChecksums: 0, dropped: 0 });
    }
  });

  it('keeps timestamps and other options: merges only identical ones', () => {
    const { ring, c } = setup();
    const opts = { options: timestampOption(7, 8) };
    const segs = run(V4_FLOW, 1, 5, 1000, 0, opts);
    const other = run(V4_FLOW, 1 + 5000, 3, 1000, 0, { options: timestampOption(9, 8) });
    for (const s of [...segs, ...other]) c.push(s);
    c.finish();
    const q = ring.queued();
    assert.equal(q.length, 2, 'a new TSval starts a new super-packet');
    assertMerged(
      q[0]!,
      V4_FLOW,
      { seq: 1, ack: 999, flags: TCP_FLAG.ACK, payload: new Uint8Array(), ...opts },
      concat(segs.map(payloadOf)),
      1000,
    );
    assert.equal(payloadOf(unpack(q[1]!).ip).length, 3000);
  });

  it('interleaved flows each get their own super-packet, in slot order', () => {
    const { ring, c } = setup();
    const a = run(V4_FLOW, 100, 6, 1200);
    const b = run({ ...V4_FLOW, srcPort: 40002 }, 9000, 6, 1200);
    for (let i = 0; i < 6; i++) {
      c.push(a[i]!);
      c.push(b[i]!);
    }
    c.finish();
    const q = ring.queued();
    assert.equal(q.length, 2);
    assert.deepEqual(payloadOf(unpack(q[0]!).ip), concat(a.map(payloadOf)));
    assert.deepEqual(payloadOf(unpack(q[1]!).ip), concat(b.map(payloadOf)));
  });

  /** Pushes `packets`, finishes, returns the slots. */
  function outcome(packets: Uint8Array[], opts: CoalesceOptions = {}) {
    const { ring, c } = setup(opts);
    for (const p of packets) c.push(p);
    c.finish();
    return { q: ring.queued(), c };
  }

  /** The slot is the packet as given, behind an all-zero virtio-net header. */
  function assertPlain(slot: Uint8Array, p: Uint8Array): void {
    assert.equal(toHex(slot), toHex(new Uint8Array([...new Uint8Array(10), ...p])));
  }

  it('never merges across a gap, a step back, or a different acknowledgment number', () => {
    const segs = run(V4_FLOW, 0, 4, 1000);
    for (const [name, list] of [
      ['gap', [segs[0]!, segs[2]!]],
      ['duplicate', [segs[0]!, segs[1]!, segs[1]!]],
      ['step back', [segs[1]!, segs[0]!]],
    ] as const) {
      const { q } = outcome([...list]);
      assert.equal(q.length, list.length - (name === 'duplicate' ? 1 : 0), name);
    }
    const ack2 = tcpPacket(V4_FLOW, {
      seq: 1000,
      ack: 1000,
      flags: TCP_FLAG.ACK,
      payload: patternBytes(1000, 1),
    });
    assert.equal(outcome([segs[0]!, ack2]).q.length, 2, 'different ack');
  });

  it('a segment after a short one starts anew; PSH ends a run (and is merged as its last)', () => {
    const short = run(V4_FLOW, 0, 2, 1000, 500);
    const after = run(V4_FLOW, 2500, 1, 1000);
    const { q } = outcome([...short, ...after]);
    assert.equal(q.length, 2);
    assert.equal(payloadOf(unpack(q[0]!).ip).length, 2500);

    const segs = run(V4_FLOW, 0, 3, 1000);
    const psh = tcpPacket(
      { ...V4_FLOW, id: 103 },
      { seq: 3000, ack: 999, flags: TCP_FLAG.ACK | TCP_FLAG.PSH, payload: patternBytes(1000, 3000) },
    );
    const next = run(V4_FLOW, 4000, 2, 1000);
    const r = outcome([...segs, psh, ...next]);
    assert.equal(r.q.length, 2);
    const first = unpack(r.q[0]!).ip;
    assert.equal(payloadOf(first).length, 4000);
    assert.equal(first[20 + 13], TCP_FLAG.ACK | TCP_FLAG.PSH, 'PSH carried to the super-packet');
    assert.equal(payloadOf(unpack(r.q[1]!).ip).length, 2000);
  });

  it('passes through untouched: SYN, FIN, RST, URG, CWR, pure ACKs, IPv4 options, fragments, UDP', () => {
    const pkt = (flags: number, n = 100) =>
      tcpPacket(V4_FLOW, { seq: 0, ack: 1, flags, payload: patternBytes(n, flags) });
    const withOptions = (() => {
      const p = tcpPacket(V4_FLOW, { seq: 0, ack: 1, flags: TCP_FLAG.ACK, payload: patternBytes(100, 1) });
      const q = new Uint8Array(p.length + 4);
      q.set(p.subarray(0, 20));
      q[0] = 0x46;
      q[3] += 4;
      q.set([1, 1, 1, 0], 20); // NOP NOP NOP EOL
      q.set(p.subarray(20), 24);
      return q;
    })();
    const fragment = (() => {
      const p = pkt(TCP_FLAG.ACK);
      p[6] = 0x20; // MF
      return p;
    })();
    const list = [
      pkt(TCP_FLAG.SYN | TCP_FLAG.ACK),
      pkt(TCP_FLAG.FIN | TCP_FLAG.ACK),
      pkt(TCP_FLAG.RST | TCP_FLAG.ACK),
      pkt(TCP_FLAG.URG | TCP_FLAG.ACK),
      pkt(TCP_FLAG.CWR | TCP_FLAG.ACK),
      pkt(TCP_FLAG.ACK, 0),
      pkt(0),
      withOptions,
      fragment,
      udpPacket(V4_FLOW, patternBytes(100, 2)),
      Uint8Array.of(0x45, 0, 0, 20, ...new Uint8Array(16)),
    ];
    // Each twice in a row: nothing merges with its twin either.
    const { q, c } = outcome(list.flatMap((p) => [p, p]));
    assert.equal(q.length, list.length * 2);
    for (const [i, s] of q.entries()) assertPlain(s, list[i >> 1]!);
    assert.equal(c.stats.merged, 0);
  });

  it('TTL, TOS or DF changes end a run (inet_gro_receive); so does an IPv6 flow label change', () => {
    for (const change of [{ ttl: 63 }, { tos: 4 }, { df: false }]) {
      const a = run(V4_FLOW, 0, 2, 1000);
      const b = run({ ...V4_FLOW, ...change }, 2000, 2, 1000);
      assert.equal(outcome([...a, ...b]).q.length, 2, JSON.stringify(change));
    }
    const a = run(V6_FLOW, 0, 2, 1000);
    const b = run({ ...V6_FLOW, flowLabel: 7 }, 2000, 2, 1000);
    assert.equal(outcome([...a, ...b]).q.length, 2);
  });

  it('a segment with a bad checksum is not merged (and counted); without verification it would be', () => {
    const segs = run(V4_FLOW, 0, 4, 1000);
    const bad = segs[2]!.slice();
    bad[100] ^= 1; // payload corruption the TCP checksum catches
    const r = outcome([segs[0]!, segs[1]!, bad, segs[3]!]);
    assert.equal(r.c.stats.badChecksums, 1);
    assert.equal(r.q.length, 3, 'merged [0,1], then the bad one alone, then [3] alone');
    assertPlain(r.q[1]!, bad);
    const corruptFirst = segs[0]!.slice();
    corruptFirst[60] ^= 0x80;
    const r2 = outcome([corruptFirst, segs[1]!]);
    assert.equal(r2.q.length, 2, 'a bad first segment is found when the second arrives');
    assertPlain(r2.q[0]!, corruptFirst);
    const r3 = outcome([segs[0]!, segs[1]!, bad, segs[3]!], { verifyChecksums: false });
    assert.equal(r3.q.length, 1, 'verification off: merged blindly');
  });

  it('stops at 65535 bytes of IPv4 total length', () => {
    const segs = run(V4_FLOW, 0, 50, 1448);
    const { q } = outcome(segs);
    assert.equal(q.length, 2);
    const first = unpack(q[0]!).ip;
    const perSlot = Math.floor((65535 - 40) / 1448);
    assert.equal(payloadOf(first).length, perSlot * 1448);
    assert.ok(first.length <= 65535);
    assert.equal(payloadOf(unpack(q[1]!).ip).length, (50 - perSlot) * 1448);
  });

  it('refuses when no slot is free, and a flush in the middle never lets old slots grow', () => {
    const { ring, c } = setup({}, 2);
    assert.equal(c.push(udpPacket(V4_FLOW, patternBytes(10, 1))), true);
    assert.equal(c.push(udpPacket(V4_FLOW, patternBytes(10, 2))), true);
    assert.equal(c.push(udpPacket(V4_FLOW, patternBytes(10, 3))), false);
    assert.equal(c.push(new Uint8Array(0)), false, 'an empty packet');
    assert.equal(c.stats.dropped, 2);
    assert.equal(ring.queued().length, 2);

    const f = setup({}, 2, true);
    const a = run(V4_FLOW, 0, 3, 1000);
    const b = run({ ...V4_FLOW, srcPort: 1 }, 0, 3, 1000);
    const u = udpPacket(V4_FLOW, patternBytes(10, 1));
    // a0 b0 fill both slots; u forces a flush; then a1 must not join a0 (already sent).
    for (const p of [a[0]!, b[0]!, u, a[1]!, a[2]!]) assert.equal(f.c.push(p), true);
    f.ring.flush();
    assert.equal(f.ring.flushes, 2);
    const sent = f.ring.sent.map(unpack);
    assert.equal(sent.length, 4);
    assert.deepEqual(payloadOf(sent[0]!.ip), payloadOf(a[0]!));
    assert.deepEqual(payloadOf(sent[3]!.ip), concat([payloadOf(a[1]!), payloadOf(a[2]!)]));
  });

  it('random traffic: per flow, the bytes come out complete and in order, and every slot is valid', () => {
    let x = 99;
    const rnd = (n: number) => {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      return x % n;
    };
    const flows = [V4_FLOW, { ...V4_FLOW, srcPort: 1 }, V6_FLOW];
    const seq = [0, 0, 0];
    const input: Uint8Array[][] = [[], [], []];
    const { ring, c } = setup({}, 64, true);
    for (let i = 0; i < 600; i++) {
      const k = rnd(3);
      const len = rnd(4) === 0 ? 1 + rnd(1000) : 1000;
      const p = tcpPacket(flows[k]!, {
        seq: seq[k]!,
        ack: 5,
        flags: TCP_FLAG.ACK | (rnd(20) === 0 ? TCP_FLAG.PSH : 0),
        payload: patternBytes(len, i),
      });
      seq[k]! += len;
      input[k]!.push(payloadOf(p));
      c.push(p);
    }
    ring.flush();
    const out: Uint8Array[][] = [[], [], []];
    for (const s of ring.sent) {
      const { hdr, ip } = unpack(s);
      const k = ip[0]! >> 4 === 6 ? 2 : ip[21] === 1 ? 1 : 0;
      if (hdr.gsoType !== VirtioNetGso.None) {
        const thoff = k === 2 ? 40 : 20;
        const copy = ip.slice();
        completeChecksum(copy, thoff, 16);
        assert.ok(payloadOf(copy).length > hdr.gsoSize, 'a super-packet is longer than one segment');
      }
      out[k]!.push(payloadOf(ip));
    }
    for (let k = 0; k < 3; k++) assert.deepEqual(concat(out[k]!), concat(input[k]!), `flow ${k}`);
    assert.ok(c.stats.superPackets > 10 && c.stats.merged > 200, JSON.stringify(c.stats));
  });
});
