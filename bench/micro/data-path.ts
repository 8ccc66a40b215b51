/**
 * Data-path codec benchmarks: encapsulate (outer IPv4 + enhanced
 * GRE + PPP headers written in place around a 1400-byte payload, IPv4
 * checksum included) and decapsulate+validate (IPv4 → GRE → PPP with every
 * check the receive path makes, ending in the PppFrame the unit gets).
 * Target: 5 million packets per second each, on one core.
 *
 * Baselines in the same run: a plain 1400-byte copy (what one memcpy per
 * packet would cost) and the naive allocating codecs (encode/decode to new
 * buffers and values), to show what the in-place design buys.
 */
import assert from 'node:assert/strict';
import { decodeGrePacket, encodeGrePacket, GreView, writeGreDataHeader } from '../../src/wire/gre.js';
import {
  decodeIpv4Packet,
  encodeIpv4Packet,
  IpProtocol,
  Ipv4View,
  writeIpv4Header,
} from '../../src/wire/ipv4.js';
import {
  decodePppFrame,
  encodePppFrame,
  encodePppHeader,
  PPP_NO_COMPRESSION,
  type PppFrame,
  PppFrameView,
  type PppFramingFlags,
} from '../../src/wire/ppp.js';
import { type Benchmark, blackhole } from '../harness.js';

const PAYLOAD = 1400;
/** Headroom in front of the PPP Information field: IPv4 20 + GRE 16 + addr/ctl 2 + protocol 2. */
const HEADROOM = 40;
const SRC = 0xc0a80001;
const DST = 0xc0a80002;
const PEER_CALL_ID = 0x1234;
const FLAGS: PppFramingFlags = PPP_NO_COMPRESSION;
const RING = 64; // distinct buffers, so the loop does not run on one hot cache line

function payload(): Uint8Array {
  const p = new Uint8Array(PAYLOAD);
  for (let i = 0; i < PAYLOAD; i++) p[i] = (i * 7 + 3) & 0xff;
  p[0] = 0x45;
  return p;
}

/**
 * Writes PPP, GRE (with seq, and an ack on every other packet, as piggy-
 * backing does) and IPv4 headers in front of `buf[HEADROOM, HEADROOM+len)`;
 * returns the packet's start offset.
 */
function encapsulate(buf: Uint8Array, len: number, seq: number): number {
  let off = HEADROOM;
  const pppLen = FLAGS.acfc ? 2 : 4;
  off -= pppLen;
  encodePppHeader(0x0021, buf[HEADROOM]!, FLAGS, buf, off);
  const frameLen = pppLen + len;
  const ack = seq & 1 ? seq - 1 : -1;
  off -= ack < 0 ? 12 : 16;
  writeGreDataHeader(buf, off, PEER_CALL_ID, frameLen, seq, ack);
  const ipPayloadLen = HEADROOM + len - off;
  off -= 20;
  writeIpv4Header(buf, off, ipPayloadLen, seq & 0xffff, true, 64, IpProtocol.Gre, SRC, DST);
  return off;
}

function ring(): Uint8Array[] {
  const p = payload();
  return Array.from({ length: RING }, () => {
    const b = new Uint8Array(HEADROOM + PAYLOAD);
    b.set(p, HEADROOM);
    return b;
  });
}

const encap: Benchmark = {
  name: 'data: encapsulate IPv4+GRE+PPP in place (1400 B)',
  unit: 'pkt',
  bytesPerOp: PAYLOAD,
  targetOpsPerSec: 5e6,
  baseline: 'data: naive encapsulate (allocating codecs)',
  setup() {
    const bufs = ring();
    // Check once that the result is a valid packet carrying the payload.
    const start = encapsulate(bufs[1]!, PAYLOAD, 1);
    const ip = decodeIpv4Packet(bufs[1]!.subarray(start));
    const gre = decodeGrePacket(ip.payload);
    const frame = decodePppFrame(gre.payload);
    assert.equal(frame.protocol, 0x21);
    assert.deepEqual(frame.payload, payload());
    assert.equal(gre.acknowledgmentNumber, 0);
    let seq = 0;
    return (n) => {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        seq = (seq + 1) >>> 0;
        acc += encapsulate(bufs[i & (RING - 1)]!, PAYLOAD, seq);
      }
      blackhole.value += acc;
    };
  },
};

const decap: Benchmark = {
  name: 'data: decapsulate+validate IPv4→GRE→PPP (1400 B)',
  unit: 'pkt',
  bytesPerOp: PAYLOAD,
  targetOpsPerSec: 5e6,
  baseline: 'data: naive decapsulate (allocating codecs)',
  setup() {
    const bufs = ring();
    const pkts = bufs.map((b, i) => b.subarray(encapsulate(b, PAYLOAD, i + 1)));
    const ip = Ipv4View.check(pkts[0]!);
    const gre = GreView.check(pkts[0]!, undefined, ip.payloadStart, ip.payloadEnd);
    const ppp = PppFrameView.check(pkts[0]!, undefined, gre.payloadStart, gre.payloadEnd);
    const decapsulate = (pkt: Uint8Array): PppFrame => {
      Ipv4View.check(pkt, ip);
      if (ip.protocol !== IpProtocol.Gre || ip.isFragment) throw new Error('not GRE');
      GreView.check(pkt, gre, ip.payloadStart, ip.payloadEnd);
      if (gre.callId !== PEER_CALL_ID || ip.sourceAddress !== SRC) throw new Error('no such call');
      PppFrameView.check(pkt, ppp, gre.payloadStart, gre.payloadEnd);
      return { protocol: ppp.protocol, payload: pkt.subarray(ppp.informationStart, ppp.informationEnd) };
    };
    const f = decapsulate(pkts[3]!);
    assert.equal(gre.sequenceNumber, 4);
    assert.equal(f.protocol, 0x21);
    assert.deepEqual(f.payload, payload());
    return (n) => {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        const fr = decapsulate(pkts[i & (RING - 1)]!);
        acc += fr.payload.length + gre.sequenceNumber;
      }
      blackhole.value += acc;
    };
  },
};

const naiveEncap: Benchmark = {
  name: 'data: naive encapsulate (allocating codecs)',
  unit: 'pkt',
  bytesPerOp: PAYLOAD,
  setup() {
    const p = payload();
    const empty = new Uint8Array(0);
    let seq = 0;
    return (n) => {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        seq = (seq + 1) >>> 0;
        const frame = encodePppFrame({ protocol: 0x21, payload: p }, FLAGS);
        const gre = encodeGrePacket({ callId: PEER_CALL_ID, sequenceNumber: seq, payload: frame });
        const pkt = encodeIpv4Packet({
          typeOfService: 0,
          identification: seq & 0xffff,
          dontFragment: true,
          moreFragments: false,
          fragmentOffset: 0,
          timeToLive: 64,
          protocol: IpProtocol.Gre,
          sourceAddress: SRC,
          destinationAddress: DST,
          options: empty,
          payload: gre,
        });
        acc += pkt.length;
      }
      blackhole.value += acc;
    };
  },
};

const naiveDecap: Benchmark = {
  name: 'data: naive decapsulate (allocating codecs)',
  unit: 'pkt',
  bytesPerOp: PAYLOAD,
  setup() {
    const pkts = ring().map((b, i) => b.subarray(encapsulate(b, PAYLOAD, i + 1)));
    return (n) => {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        const ip = decodeIpv4Packet(pkts[i & (RING - 1)]!);
        const gre = decodeGrePacket(ip.payload);
        const f = decodePppFrame(gre.payload);
        acc += f.payload.length;
      }
      blackhole.value += acc;
    };
  },
};

const copy: Benchmark = {
  name: 'data: copy 1400 B (Uint8Array.set), for scale',
  unit: 'pkt',
  bytesPerOp: PAYLOAD,
  setup() {
    const src = payload();
    const dst = ring();
    return (n) => {
      for (let i = 0; i < n; i++) dst[i & (RING - 1)]!.set(src, HEADROOM);
      blackhole.value += dst[0]![HEADROOM]!;
    };
  },
};

export const benchmarks: Benchmark[] = [copy, naiveEncap, encap, naiveDecap, decap];
