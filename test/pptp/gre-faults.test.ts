/**
 * Seeded fault injection (docs/style.md §5.6) on the GRE data channel: two
 * channels joined by a simulated link that drops 5 % of packets, duplicates
 * 3 %, and delays 15 % by up to 20 ms extra (reordering them), in both
 * directions, data and acknowledgments alike. A 10,000-packet stream must
 * arrive intact, each packet at most once, in order, and every packet the
 * link did not drop must arrive: the reorder buffer promises that as long as
 * reordering stays within its time-out (300 ms) and capacity (64).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GreChannel } from '../../src/pptp/gre-channel.js';
import type { GreChannelConfig } from '../../src/pptp/gre-channel-types.js';
import { GreDemux } from '../../src/pptp/gre-demux.js';
import type { PppFrame } from '../../src/wire/ppp.js';
import { prng } from '../fuzz/mutate.js';
import { CLIENT, frameNumber, ipFrame, SERVER } from './gre-helpers.js';

interface InFlight {
  at: number;
  order: number;
  to: GreDemux;
  bytes: Uint8Array;
}

interface LinkStats {
  sent: number;
  dropped: number;
  duplicated: number;
  delayed: number;
  /** Data packets (by frame number) whose only copy was dropped. */
  droppedFrames: Set<number>;
  duplicatedFrames: number;
}

function newStats(): LinkStats {
  return { sent: 0, dropped: 0, duplicated: 0, delayed: 0, droppedFrames: new Set(), duplicatedFrames: 0 };
}

class FaultyLink {
  private queue: InFlight[] = [];
  private order = 0;
  now = 0;
  constructor(
    private readonly rnd: () => number,
    private readonly latencyMs = 5,
  ) {}

  /** Sends `packet` towards `to`, applying the faults. `frameNo` identifies data packets for the bookkeeping. */
  send(to: GreDemux, packet: Uint8Array, stats: LinkStats, frameNo: number | undefined): void {
    stats.sent++;
    if (this.rnd() < 0.05) {
      stats.dropped++;
      if (frameNo !== undefined) stats.droppedFrames.add(frameNo);
      return;
    }
    const bytes = packet.slice();
    let at = this.now + this.latencyMs;
    if (this.rnd() < 0.15) {
      stats.delayed++;
      at += 1 + Math.floor(this.rnd() * 20);
    }
    this.queue.push({ at, order: this.order++, to, bytes });
    if (this.rnd() < 0.03) {
      stats.duplicated++;
      if (frameNo !== undefined) stats.duplicatedFrames++;
      this.queue.push({ at: at + Math.floor(this.rnd() * 10), order: this.order++, to, bytes });
    }
  }

  /** Delivers everything due by `now`, in time order. */
  pump(now: number): void {
    this.now = now;
    for (;;) {
      let best = -1;
      for (let i = 0; i < this.queue.length; i++) {
        const q = this.queue[i]!;
        if (q.at > now) continue;
        const b = best < 0 ? undefined : this.queue[best]!;
        if (!b || q.at < b.at || (q.at === b.at && q.order < b.order)) best = i;
      }
      if (best < 0) return;
      const [q] = this.queue.splice(best, 1);
      q!.to.receive(q!.bytes, now);
    }
  }

  get idle(): boolean {
    return this.queue.length === 0;
  }
}

interface End {
  ch: GreChannel;
  demux: GreDemux;
  received: PppFrame[];
  stats: LinkStats;
}

function pair(link: FaultyLink, config: Partial<GreChannelConfig>): [End, End] {
  const mk = (): End => ({ received: [] as PppFrame[], stats: newStats(), demux: new GreDemux() }) as End;
  const a = mk();
  const b = mk();
  const wire = (self: End, other: End, local: number, peer: number, callId: number, peerCallId: number) => {
    self.ch = new GreChannel(
      { localAddress: local, peerAddress: peer, callId, peerCallId, ...config },
      {
        transmit: (p) => {
          // Data packets carry the frame number at a fixed place: IPv4 20 +
          // GRE 12/16 + PPP 4 → bytes 1..3 of the payload.
          const greLen = p[21]! & 0x80 ? 16 : 12;
          const hasSeq = (p[20]! & 0x10) !== 0;
          const frameNo = hasSeq
            ? (p[20 + greLen + 5]! << 16) | (p[20 + greLen + 6]! << 8) | p[20 + greLen + 7]!
            : undefined;
          link.send(other.demux, p, self.stats, frameNo);
        },
        deliver: (f) => self.received.push({ protocol: f.protocol, payload: f.payload.slice() }),
      },
    );
    self.demux.add(self.ch);
  };
  wire(a, b, CLIENT, SERVER, 0x0a0a, 0x0b0b);
  wire(b, a, SERVER, CLIENT, 0x0b0b, 0x0a0a);
  return [a, b];
}

function checkStream(received: PppFrame[], sent: number, dropped: Set<number>, label: string): void {
  const expected: number[] = [];
  for (let n = 0; n < sent; n++) if (!dropped.has(n)) expected.push(n);
  const got = received.map(frameNumber);
  const g = new Set(got);
  const e = new Set(expected);
  const missing = expected.filter((x) => !g.has(x));
  const extra = got.filter((x) => !e.has(x));
  assert.deepEqual(
    [missing.slice(0, 10), extra.slice(0, 10)],
    [[], []],
    `${label}: [missing, extra] packets`,
  );
  for (let i = 1; i < got.length; i++) assert.ok(got[i]! > got[i - 1]!, `${label}: in order at ${i}`);
  assert.deepEqual(got, expected, `${label}: exactly the packets the link did not drop`);
  for (const f of received) {
    const want = ipFrame(frameNumber(f), f.payload.length);
    assert.deepEqual(f.payload, want.payload, `${label}: frame ${frameNumber(f)} intact`);
  }
}

describe('GRE channel under seeded faults (loss 5 %, reorder, duplicates)', () => {
  for (const seed of [1, 2, 3]) {
    it(`10k-packet stream arrives intact and in order (seed ${seed})`, () => {
      const rnd = prng(seed);
      const link = new FaultyLink(rnd);
      const [a, b] = pair(link, { peerReceiveWindow: 64, receiveWindow: 64, transmitQueuePackets: 256 });
      const TOTAL = 10_000;
      const BACK = 300;
      let nextA = 0;
      let nextB = 0;
      let t = 0;
      const sizes = [40, 576, 1400, 100];
      for (; t < 200_000; t++) {
        link.pump(t);
        // A is a bulk sender that respects the channel's stop/wake, two
        // packets per ms after a lone first packet (nothing can be reordered
        // before the first packet received: it defines the start);
        // B answers with a packet every 25 ms, so acks ride on
        // its data or, between, go out on their own.
        const burst = t === 0 ? 1 : t < 50 ? 0 : 2;
        for (let k = 0; k < burst && nextA < TOTAL && a.ch.writable; k++) {
          assert.equal(a.ch.send(ipFrame(nextA, sizes[nextA % 4]), t), 'sent');
          nextA++;
        }
        if (t % 25 === 0 && nextB < BACK) b.ch.send(ipFrame(nextB++, 60), t);
        for (const e of [a, b]) {
          const due = e.ch.pollAt();
          if (due !== undefined && due <= t) e.ch.poll(t);
        }
        if (nextA === TOTAL && nextB === BACK && link.idle && t > 2000) {
          // Let held packets time out, then stop.
          const due = [a.ch.pollAt(), b.ch.pollAt()].filter((x) => x !== undefined);
          if (due.length === 0) break;
        }
      }
      assert.ok(t < 200_000, 'the simulation finished');
      assert.equal(a.ch.counters.txDroppedQueueFull, 0);
      checkStream(b.received, TOTAL, a.stats.droppedFrames, 'A→B');
      checkStream(a.received, BACK, b.stats.droppedFrames, 'B→A');
      const rb = b.ch.counters;
      // Every injected duplicate of a data packet was recognised as one
      // (the original arrived: a dropped original gets no duplicate).
      assert.equal(rb.rxDuplicate, a.stats.duplicatedFrames, 'duplicates detected');
      assert.equal(rb.rxStale, 0, 'no packet outlived its reorder time-out');
      assert.ok(rb.rxReordered > 0, 'the reorder buffer was exercised');
      assert.ok(rb.rxLost <= a.stats.droppedFrames.size, 'only dropped packets are given up');
      assert.ok(a.ch.counters.rxAcks > 0 && a.ch.counters.rxAckOnly > 0, 'acks flowed, some ack-only');
      assert.ok(a.stats.dropped > 0 && a.stats.duplicated > 0 && a.stats.delayed > 0, 'faults were injected');
    });
  }

  it('without a reorder buffer (the kernel behaviour) order still holds but reordered packets are lost', () => {
    const link = new FaultyLink(prng(9));
    const [a, b] = pair(link, { reorderTimeoutMs: 0, ignorePeerWindow: true });
    for (let t = 0; t < 3000; t++) {
      link.pump(t);
      if (t < 2000) a.ch.send(ipFrame(t), t);
      a.ch.poll(t);
      b.ch.poll(t);
    }
    const got = b.received.map(frameNumber);
    for (let i = 1; i < got.length; i++) assert.ok(got[i]! > got[i - 1]!);
    const delivered = new Set(got);
    let missingNotDropped = 0;
    for (let n = 0; n < 2000; n++)
      if (!delivered.has(n) && !a.stats.droppedFrames.has(n)) missingNotDropped++;
    assert.ok(missingNotDropped > 0, 'reordered packets are discarded as stale');
    assert.equal(b.ch.counters.rxStale + b.ch.counters.rxDuplicate > 0, true);
  });
});
