/**
 * The whole GRE data channel, transmit and receive: one operation
 * is one 1400-byte PPP frame sent by channel A (window check, PPP + GRE +
 * IPv4 headers written in place, sequence and piggy-backed ack) and received
 * by channel B through its demultiplexer (IPv4 checksum, strict GRE, call
 * lookup, sequencing, PPP frame) up to the delivered frame. B's
 * acknowledgment-only packets flow back to A, so A's sliding window (64)
 * stays honest.
 */
import assert from 'node:assert/strict';
import { GRE_CHANNEL_HEADROOM, GreChannel } from '../../src/pptp/gre-channel.js';
import { GreDemux } from '../../src/pptp/gre-demux.js';
import { type Benchmark, blackhole } from '../harness.js';

const PAYLOAD = 1400;
const A_ADDR = 0xc0000201;
const B_ADDR = 0xc6336401;
const RING = 64;

function setupPair(reorderTimeoutMs: number) {
  let outA: Uint8Array | undefined;
  let delivered = 0;
  let deliveredBytes = 0;
  const demuxA = new GreDemux();
  const demuxB = new GreDemux();
  const a = new GreChannel(
    { localAddress: A_ADDR, peerAddress: B_ADDR, callId: 1, peerCallId: 2, peerReceiveWindow: 64 },
    {
      transmit: (p) => {
        outA = p;
      },
      deliver: () => {},
    },
  );
  const b = new GreChannel(
    {
      localAddress: B_ADDR,
      peerAddress: A_ADDR,
      callId: 2,
      peerCallId: 1,
      reorderTimeoutMs,
      receiveWindow: 64,
    },
    {
      transmit: (p) => {
        demuxA.receive(p, 0);
      },
      deliver: (f) => {
        delivered++;
        deliveredBytes += f.payload.length;
      },
    },
  );
  demuxA.add(a);
  demuxB.add(b);
  const bufs = Array.from({ length: RING }, () => {
    const buf = new Uint8Array(GRE_CHANNEL_HEADROOM + PAYLOAD);
    buf[GRE_CHANNEL_HEADROOM] = 0x45;
    return buf;
  });
  let i = 0;
  const step = (now: number) => {
    outA = undefined;
    const r = a.sendInPlace(bufs[i++ & (RING - 1)]!, GRE_CHANNEL_HEADROOM, PAYLOAD, 0x0021, now);
    if (r !== 'sent') throw new Error(`window closed: ${r}`);
    demuxB.receive(outA!, now);
  };
  return { a, b, step, stats: () => ({ delivered, deliveredBytes }) };
}

function channelBench(name: string, reorderTimeoutMs: number): Benchmark {
  return {
    name,
    unit: 'pkt',
    bytesPerOp: PAYLOAD,
    targetOpsPerSec: 1e6,
    setup() {
      const pair = setupPair(reorderTimeoutMs);
      for (let k = 0; k < 1000; k++) pair.step(0);
      assert.equal(pair.stats().delivered, 1000);
      assert.equal(pair.stats().deliveredBytes, 1000 * PAYLOAD);
      assert.ok(pair.a.counters.rxAcks > 0, 'acks flow back');
      return (n) => {
        for (let k = 0; k < n; k++) pair.step(0);
        blackhole.value += pair.stats().delivered;
      };
    },
  };
}

export const benchmarks: Benchmark[] = [
  channelBench('gre-channel: send A → receive B (1400 B, window 64, reorder buffer on)', 300),
];
