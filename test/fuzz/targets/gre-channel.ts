/**
 * Fuzz target for the GRE data channel (src/pptp/gre-channel.ts) behind its
 * demultiplexer. Not a decoder: hostile packets are dropped and counted, so
 * nothing may escape; the reorder buffer and the transmit queue must stay
 * within their slots, and every frame delivered or packet transmitted must
 * fit an IPv4 datagram.
 *
 * The corpus is the engine's own output: a peer channel sends our channel
 * LCP echoes, IPv4, CCP and MPPE frames of several sizes, and the
 * acknowledgment-only packets it owes for what our channel sent it. Each
 * input is one outer IPv4 packet from the raw socket; between inputs the
 * clock moves 0–765 ms (so acknowledgment, adaptive and reorder time-outs
 * fire) and our side sends a frame every third input (so acknowledgments
 * meet a live window). A channel is replaced after 5,000 inputs.
 */
import { GreChannel } from '../../../src/pptp/gre-channel.js';
import type { GreChannelConfig } from '../../../src/pptp/gre-channel-types.js';
import { GreDemux } from '../../../src/pptp/gre-demux.js';
import { IPV4_MAX_TOTAL_LENGTH } from '../../../src/wire/ipv4.js';
import type { PppFrame } from '../../../src/wire/ppp.js';
import { CLIENT, OUR_CALL_ID, PEER_CALL_ID, SERVER } from '../../pptp/gre-helpers.js';
import type { FuzzTarget } from '../mutate.js';

const REORDER_SLOTS = 64;
const QUEUE = 16;

const OURS: GreChannelConfig = {
  localAddress: CLIENT,
  peerAddress: SERVER,
  callId: OUR_CALL_ID,
  peerCallId: PEER_CALL_ID,
  peerReceiveWindow: 8,
  reorderBufferPackets: REORDER_SLOTS,
  transmitQueuePackets: QUEUE,
};

function frame(protocol: number, length: number, fill: number): PppFrame {
  const payload = new Uint8Array(length).fill(fill);
  if (protocol === 0x21 && length >= 20) payload[0] = 0x45;
  return { protocol, payload };
}

const LCP_ECHO: PppFrame = { protocol: 0xc021, payload: Uint8Array.of(9, 1, 0, 8, 0x12, 0x34, 0x56, 0x78) };
const CCP_RESET: PppFrame = { protocol: 0x80fd, payload: Uint8Array.of(14, 3, 0, 4) };

/** Packets a peer channel transmits to ours: data with sequence numbers, piggy-backed and bare acknowledgments. */
function peerTraffic(): Uint8Array[] {
  const out: Uint8Array[] = [];
  let now = 0;
  const peerDemux = new GreDemux();
  const peer = new GreChannel(
    {
      localAddress: SERVER,
      peerAddress: CLIENT,
      callId: PEER_CALL_ID,
      peerCallId: OUR_CALL_ID,
      peerReceiveWindow: 64,
    },
    { transmit: (p) => out.push(p.slice()), deliver: () => {} },
  );
  peerDemux.add(peer);
  const ours = new GreChannel(OURS, { transmit: (p) => peerDemux.receive(p, now), deliver: () => {} });
  const frames = [
    LCP_ECHO,
    frame(0x21, 20, 1),
    frame(0x21, 100, 2),
    CCP_RESET,
    frame(0xfd, 60, 3),
    frame(0x21, 1400, 4),
    frame(0x57, 48, 5),
  ];
  for (const [i, f] of frames.entries()) {
    peer.send(f, now);
    ours.send(frame(0x21, 40 + i, 9), now);
    now += 150; // past the acknowledgment time-out: the peer owes an acknowledgment-only packet
    peer.poll(now);
  }
  if (out.length < frames.length + 2) throw new Error('fuzz fixture: the peer channel sent too little');
  return out;
}

let ch: GreChannel | undefined;
let demux = new GreDemux();
let now = 0;
let fed = 0;
const sink = {
  transmit: (p: Uint8Array) => {
    if (p.length > IPV4_MAX_TOTAL_LENGTH) throw new Error(`transmitted ${p.length} bytes`);
  },
  deliver: (f: PppFrame) => {
    if (f.payload.length > IPV4_MAX_TOTAL_LENGTH) throw new Error(`delivered ${f.payload.length} bytes`);
  },
};
const ourFrames = [frame(0x21, 64, 7), LCP_ECHO, frame(0xfd, 300, 8)];

function feed(b: Uint8Array): void {
  if (!ch || fed++ >= 5000) {
    ch = new GreChannel(OURS, sink);
    demux = new GreDemux();
    demux.add(ch);
    now = 0;
    fed = 0;
  }
  demux.receive(b, now);
  now += b.length ? b[b.length - 1]! * 3 : 1;
  if (fed % 3 === 0) ch.send(ourFrames[fed % ourFrames.length]!, now);
  const at = ch.pollAt();
  if (at !== undefined && at <= now) ch.poll(now);
}

export const targets: FuzzTarget[] = [
  {
    name: 'gre channel + demux (peer traffic, live window)',
    engine: true,
    decode: feed,
    corpus: peerTraffic(),
    check: () => {
      if (!ch) return;
      const held = (ch as unknown as { reorder: { size: number } }).reorder.size;
      if (held > REORDER_SLOTS) throw new Error(`reorder buffer holds ${held}`);
      if (ch.queueLength > QUEUE) throw new Error(`transmit queue holds ${ch.queueLength}`);
      if (demux.size !== 1) throw new Error(`demux has ${demux.size} channels`);
    },
  },
];
