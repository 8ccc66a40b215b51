/**
 * Scripted-exchange helpers for the GRE data channel (docs/style.md §5.5): a
 * recording sink, packet builders that use the wire encoders, and decoders
 * for what the channel transmitted.
 */
import assert from 'node:assert/strict';
import { GreChannel } from '../../src/pptp/gre-channel.js';
import type { GreChannelConfig, GreChannelSink } from '../../src/pptp/gre-channel-types.js';
import { GreDemux } from '../../src/pptp/gre-demux.js';
import { parseIpv4 } from '../../src/wire/bytes.js';
import { decodeGrePacket, encodeGrePacket, type GrePacket } from '../../src/wire/gre.js';
import { decodeIpv4Packet, encodeIpv4Packet, IpProtocol, type Ipv4Packet } from '../../src/wire/ipv4.js';
import {
  decodePppFrame,
  encodePppFrame,
  PPP_NO_COMPRESSION,
  type PppFrame,
  type PppFramingFlags,
} from '../../src/wire/ppp.js';

export const CLIENT = parseIpv4('192.0.2.10')!;
export const SERVER = parseIpv4('198.51.100.1')!;
export const OUR_CALL_ID = 0x1111;
export const PEER_CALL_ID = 0x2222;

/** A transmitted packet, decoded layer by layer (copies, safe to keep). */
export interface Sent {
  ip: Ipv4Packet;
  gre: GrePacket;
  /** The PPP frame, when the packet carried one. */
  frame?: PppFrame;
  /** The raw PPP bytes (to check ACFC/PFC). */
  pppBytes: Uint8Array;
}

export class RecordingSink implements GreChannelSink {
  sent: Sent[] = [];
  delivered: PppFrame[] = [];
  wakes = 0;
  plausible?: (frame: PppFrame) => boolean;
  transmit(packet: Uint8Array): void {
    const copy = packet.slice();
    const ip = decodeIpv4Packet(copy);
    const gre = decodeGrePacket(ip.payload);
    const s: Sent = { ip, gre, pppBytes: gre.payload };
    if (gre.payload.length) s.frame = decodePppFrame(gre.payload);
    this.sent.push(s);
  }
  deliver(frame: PppFrame): void {
    this.delivered.push({ protocol: frame.protocol, payload: frame.payload.slice() });
  }
  wake(): void {
    this.wakes++;
  }
  /** Takes and clears what was transmitted. */
  takeSent(): Sent[] {
    const s = this.sent;
    this.sent = [];
    return s;
  }
  takeDelivered(): PppFrame[] {
    const d = this.delivered;
    this.delivered = [];
    return d;
  }
}

/** A channel on the client side (our address CLIENT, peer SERVER) behind a demux. */
export function makeChannel(config: Partial<GreChannelConfig> = {}): {
  ch: GreChannel;
  sink: RecordingSink;
  demux: GreDemux;
} {
  const sink = new RecordingSink();
  const ch = new GreChannel(
    { localAddress: CLIENT, peerAddress: SERVER, callId: OUR_CALL_ID, peerCallId: PEER_CALL_ID, ...config },
    sink,
  );
  const demux = new GreDemux();
  demux.add(ch);
  return { ch, sink, demux };
}

/** An IPv4 frame whose payload says which packet it is. */
export function ipFrame(n: number, size = 8): PppFrame {
  const p = new Uint8Array(size);
  p[0] = 0x45;
  p[1] = (n >>> 16) & 0xff;
  p[2] = (n >>> 8) & 0xff;
  p[3] = n & 0xff;
  for (let i = 4; i < size; i++) p[i] = (n * 31 + i) & 0xff;
  return { protocol: 0x0021, payload: p };
}

/** The packet number ipFrame wrote. */
export function frameNumber(f: PppFrame): number {
  return (f.payload[1]! << 16) | (f.payload[2]! << 8) | f.payload[3]!;
}

export interface PeerPacket {
  seq?: number;
  ack?: number;
  frame?: PppFrame;
  flags?: PppFramingFlags;
  callId?: number;
  from?: number;
}

/** A GRE packet as the server would send it to us, inside its outer IPv4 header. */
export function peerPacket(p: PeerPacket): Uint8Array {
  const payload = p.frame ? encodePppFrame(p.frame, p.flags ?? PPP_NO_COMPRESSION) : new Uint8Array(0);
  const gre: GrePacket = {
    callId: p.callId ?? OUR_CALL_ID,
    ...(p.seq !== undefined ? { sequenceNumber: p.seq } : {}),
    ...(p.ack !== undefined ? { acknowledgmentNumber: p.ack } : {}),
    payload,
  };
  return encodeIpv4Packet({
    typeOfService: 0,
    identification: 7,
    dontFragment: true,
    moreFragments: false,
    fragmentOffset: 0,
    timeToLive: 64,
    protocol: IpProtocol.Gre,
    sourceAddress: p.from ?? SERVER,
    destinationAddress: CLIENT,
    options: new Uint8Array(0),
    payload: encodeGrePacket(gre),
  });
}

/** Delivers a peer packet through the demux at `now`. */
export function deliver(demux: GreDemux, p: PeerPacket, now: number): void {
  demux.receive(peerPacket(p), now);
}

/** Asserts the delivered frames are exactly the numbered IPv4 frames `ns`, in order. */
export function expectDelivered(sink: RecordingSink, ns: number[]): void {
  assert.deepEqual(sink.takeDelivered().map(frameNumber), ns);
}

/** Asserts nothing was transmitted or delivered. */
export function expectNothing(sink: RecordingSink): void {
  assert.deepEqual(sink.sent.length, 0, 'nothing transmitted');
  assert.deepEqual(sink.delivered.length, 0, 'nothing delivered');
}
