/**
 * Builds captures of PPTP sessions with the stack's own encoders (wire/),
 * for the decode tests and the tshark oracle: every PPTP control message
 * type, GRE data and ack-only packets, LCP/PAP/CHAP/MS-CHAP/IPCP/IPv6CP/CCP,
 * MPPE-header packets, and a DNS query and answer inside the tunnel.
 *
 * The TCP and UDP headers (which the stack never encodes) and the link
 * headers are written here by hand from RFC 9293 §3.1, RFC 768 and the
 * link-type specifications; tshark checks them in the oracle test.
 */
import dnsPacket from 'dns-packet';
import { encodePcap } from '../../src/capture/pcap.js';
import type { Timestamp } from '../../src/capture/types.js';
import { concatBytes, fromHex, parseIpv4, utf8 } from '../../src/wire/bytes.js';
import { encodeCcpOption, encodeCcpPacket, mppeOptionFromBits } from '../../src/wire/ccp.js';
import { encodeChapPacket } from '../../src/wire/chap.js';
import { encodeGreHeader } from '../../src/wire/gre.js';
import { encodeIpcpOption, encodeIpcpPacket } from '../../src/wire/ipcp.js';
import { encodeIpv4Header } from '../../src/wire/ipv4.js';
import { encodeIpv6cpOption, encodeIpv6cpPacket } from '../../src/wire/ipv6cp.js';
import { authProtocolOption, encodeLcpOption, encodeLcpPacket, type LcpPacket } from '../../src/wire/lcp.js';
import { encodeMppePacket } from '../../src/wire/mppe.js';
import { encodeMsChapV2Response, formatMsChapFailure, formatMsChapV2Success } from '../../src/wire/mschap.js';
import { encodePapPacket } from '../../src/wire/pap.js';
import { encodePppFrame, PppProtocol } from '../../src/wire/ppp.js';
import { encodePptpMessage, type PptpMessage, PptpMessageType } from '../../src/wire/pptp/index.js';

export const PNS = '192.168.7.10';
export const PAC = '192.168.7.1';
/** Call IDs: the PNS's (in OCRQ) and the PAC's (in OCRP). GRE to a side carries that side's call ID. */
export const PNS_CALL_ID = 0x4001;
export const PAC_CALL_ID = 0x8007;
export const PNS_PORT = 50123;

/** RFC 2759 §9.2 worked example (independent vectors). */
export const RFC2759 = {
  user: 'User',
  authenticatorChallenge: fromHex('5B5D7C7D7B3F2F3E3C2C602132262628'),
  peerChallenge: fromHex('21402324255E262A28295F2B3A337C7E'),
  ntResponse: fromHex('82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF'),
  authenticatorResponse: fromHex('407A5589115FD0D6209F510FE9C04566932CDA56'),
};

/** The naive Internet checksum (RFC 1071), for the TCP/UDP headers written here. */
function checksum(parts: Uint8Array[]): number {
  let s = 0;
  const all = concatBytes(...parts);
  for (let i = 0; i < all.length; i += 2) s += (all[i]! << 8) | (all[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

function ip4(a: string): Uint8Array {
  const v = parseIpv4(a)!;
  return Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

function pseudo(src: string, dst: string, proto: number, len: number): Uint8Array {
  return concatBytes(ip4(src), ip4(dst), Uint8Array.of(0, proto, len >>> 8, len & 0xff));
}

/** A UDP datagram (RFC 768) with a correct checksum. */
export function udp(src: string, sport: number, dst: string, dport: number, payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(8 + payload.length);
  const v = new DataView(b.buffer);
  v.setUint16(0, sport);
  v.setUint16(2, dport);
  v.setUint16(4, b.length);
  b.set(payload, 8);
  const c = checksum([pseudo(src, dst, 17, b.length), b]) || 0xffff;
  v.setUint16(6, c);
  return b;
}

export interface TcpFlags {
  syn?: boolean;
  ack?: boolean;
  fin?: boolean;
  rst?: boolean;
  psh?: boolean;
}

/** A TCP segment (RFC 9293 §3.1), no options, with a correct checksum. */
export function tcp(
  src: string,
  sport: number,
  dst: string,
  dport: number,
  seq: number,
  ack: number,
  flags: TcpFlags,
  payload: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const b = new Uint8Array(20 + payload.length);
  const v = new DataView(b.buffer);
  v.setUint16(0, sport);
  v.setUint16(2, dport);
  v.setUint32(4, seq >>> 0);
  v.setUint32(8, flags.ack ? ack >>> 0 : 0);
  b[12] = 5 << 4;
  b[13] =
    (flags.fin ? 1 : 0) |
    (flags.syn ? 2 : 0) |
    (flags.rst ? 4 : 0) |
    (flags.psh ? 8 : 0) |
    (flags.ack ? 16 : 0);
  v.setUint16(14, 64240);
  b.set(payload, 20);
  v.setUint16(16, checksum([pseudo(src, dst, 6, b.length), b]));
  return b;
}

/** An ICMP echo (RFC 792) with 8 bytes of data and a correct checksum. */
export function icmpEcho(type: 0 | 8, id: number, seq: number): Uint8Array {
  const b = Uint8Array.of(type, 0, 0, 0, id >>> 8, id & 0xff, seq >>> 8, seq & 0xff, 1, 2, 3, 4, 5, 6, 7, 8);
  const c = checksum([b]);
  b[2] = c >>> 8;
  b[3] = c & 0xff;
  return b;
}

function ip6(a: string): Uint8Array {
  // Enough of RFC 4291 §2.2 for the fixtures: groups, one `::`.
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = Number.parseInt(g, 16);
    out[2 * i] = v >>> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

/** An IPv6 packet (RFC 8200 §3) carrying an ICMPv6 Echo Request (RFC 4443 §4.1) with a correct checksum. */
export function ipv6Echo(src: string, dst: string): Uint8Array {
  const icmp = Uint8Array.of(128, 0, 0, 0, 0xbe, 0xef, 0, 1, 0x61, 0x62, 0x63, 0x64);
  const s6 = ip6(src);
  const d6 = ip6(dst);
  // RFC 8200 §8.1 pseudo-header: addresses, upper-layer length (32 bits), 3 zeros, next header.
  const c = checksum([s6, d6, Uint8Array.of(0, 0, 0, icmp.length, 0, 0, 0, 58), icmp]);
  icmp[2] = c >>> 8;
  icmp[3] = c & 0xff;
  const hdr = new Uint8Array(40);
  hdr[0] = 0x60;
  hdr[5] = icmp.length;
  hdr[6] = 58;
  hdr[7] = 255;
  hdr.set(s6, 8);
  hdr.set(d6, 24);
  return concatBytes(hdr, icmp);
}

let ipId = 0x1000;

/** An IPv4 datagram around `payload`, header by the stack's encoder. */
export function ipv4(src: string, dst: string, protocol: number, payload: Uint8Array, ttl = 64): Uint8Array {
  const out = new Uint8Array(20 + payload.length);
  encodeIpv4Header(
    {
      typeOfService: 0,
      identification: ipId++ & 0xffff,
      dontFragment: true,
      moreFragments: false,
      fragmentOffset: 0,
      timeToLive: ttl,
      protocol,
      sourceAddress: parseIpv4(src)!,
      destinationAddress: parseIpv4(dst)!,
      options: new Uint8Array(0),
    },
    payload.length,
    out,
    0,
  );
  out.set(payload, 20);
  return out;
}

/**
 * Splits an IPv4 datagram (20-byte header) into fragments carrying at most
 * `chunk` payload bytes each (a multiple of 8), as a router would (RFC 791
 * §3.2), headers by the stack's encoder.
 */
export function fragmentIpv4(packet: Uint8Array, chunk: number): Uint8Array[] {
  const id = (packet[4]! << 8) | packet[5]!;
  const payload = packet.subarray(20, (packet[2]! << 8) | packet[3]!);
  const out: Uint8Array[] = [];
  for (let off = 0; off < payload.length; off += chunk) {
    const part = payload.subarray(off, off + chunk);
    const b = new Uint8Array(20 + part.length);
    encodeIpv4Header(
      {
        typeOfService: 0,
        identification: id,
        dontFragment: false,
        moreFragments: off + chunk < payload.length,
        fragmentOffset: off / 8,
        timeToLive: packet[8]!,
        protocol: packet[9]!,
        sourceAddress: ((packet[12]! << 24) | (packet[13]! << 16) | (packet[14]! << 8) | packet[15]!) >>> 0,
        destinationAddress:
          ((packet[16]! << 24) | (packet[17]! << 16) | (packet[18]! << 8) | packet[19]!) >>> 0,
        options: new Uint8Array(0),
      },
      part.length,
      b,
      0,
    );
    b.set(part, 20);
    out.push(b);
  }
  return out;
}

/** A GRE packet (header by the stack's encoder) around a PPP frame; ack-only when `ppp` is absent. */
export function gre(
  callId: number,
  seq: number | undefined,
  ack: number | undefined,
  ppp?: Uint8Array,
): Uint8Array {
  const payload = ppp ?? new Uint8Array(0);
  const hdr = new Uint8Array(16);
  const h: { callId: number; sequenceNumber?: number; acknowledgmentNumber?: number } = { callId };
  if (seq !== undefined) h.sequenceNumber = seq;
  if (ack !== undefined) h.acknowledgmentNumber = ack;
  const hlen = encodeGreHeader(h, payload.length, hdr, 0);
  return concatBytes(hdr.subarray(0, hlen), payload);
}

/** A PPP frame by the stack's encoder. */
export function ppp(protocol: number, info: Uint8Array, flags = { acfc: false, pfc: false }): Uint8Array {
  return encodePppFrame({ protocol, payload: info }, flags);
}

/** Link-layer framings the tests write. */
export type Framing = 'ethernet' | 'sll' | 'sll2' | 'raw';

export const LINK_TYPE_OF: Record<Framing, number> = { ethernet: 1, sll: 113, sll2: 276, raw: 101 };

const MAC_PNS = fromHex('525400000010');
const MAC_PAC = fromHex('525400000001');

/** Wraps an IPv4 packet in a link header; `outgoing` says which side sent it (for MACs / packet type). */
export function frameOf(framing: Framing, packet: Uint8Array, fromPns: boolean): Uint8Array {
  switch (framing) {
    case 'raw':
      return packet;
    case 'ethernet':
      return concatBytes(fromPns ? MAC_PAC : MAC_PNS, fromPns ? MAC_PNS : MAC_PAC, fromHex('0800'), packet);
    case 'sll':
      // packet type 4 = sent by us (the capture runs on the PNS), 0 = to us
      return concatBytes(
        fromHex(fromPns ? '0004' : '0000'),
        fromHex('0001 0006'),
        fromPns ? MAC_PNS : MAC_PAC,
        fromHex('0000 0800'),
        packet,
      );
    case 'sll2':
      return concatBytes(
        fromHex('0800 0000 00000002 0001'),
        Uint8Array.of(fromPns ? 4 : 0, 6),
        fromPns ? MAC_PNS : MAC_PAC,
        fromHex('0000'),
        packet,
      );
  }
}

/** One frame of a scenario, with what the tests expect to find in it. */
export interface ScenarioFrame {
  readonly timestamp: Timestamp;
  /** The IPv4 packet (before link framing). */
  readonly packet: Uint8Array;
  readonly fromPns: boolean;
  /** What this frame is, for test assertions. */
  readonly label: string;
  /** Control messages this frame completes (TCP 1723). */
  readonly pptp?: readonly PptpMessage[];
  /** For GRE frames: the header values. */
  readonly gre?: { callId: number; seq?: number; ack?: number; payloadLength: number };
  /** PPP protocol carried, if any. */
  readonly pppProtocol?: number;
}

/** Builds a scenario frame by frame, keeping TCP sequence numbers and GRE counters. */
export class ScenarioBuilder {
  readonly frames: ScenarioFrame[] = [];
  private t = { seconds: 1_718_000_000, nanoseconds: 0 };
  private seqPns = 1000;
  private seqPac = 90000;
  private greSeqPns = 0;
  private greSeqPac = 0;
  /** Highest GRE seq received by each side (for piggy-backed acks). */
  private lastFromPns: number | undefined;
  private lastFromPac: number | undefined;

  private tick(ms: number): Timestamp {
    const ns = this.t.nanoseconds + Math.round(ms * 1e6);
    this.t = { seconds: this.t.seconds + Math.floor(ns / 1e9), nanoseconds: ns % 1e9 };
    return this.t;
  }

  private add(f: Omit<ScenarioFrame, 'timestamp'>, ms = 1): void {
    this.frames.push({ ...f, timestamp: this.tick(ms) });
  }

  tcpHandshake(): void {
    this.add({
      packet: ipv4(PNS, PAC, 6, tcp(PNS, PNS_PORT, PAC, 1723, this.seqPns - 1, 0, { syn: true })),
      fromPns: true,
      label: 'SYN',
    });
    this.add({
      packet: ipv4(
        PAC,
        PNS,
        6,
        tcp(PAC, 1723, PNS, PNS_PORT, this.seqPac - 1, this.seqPns, { syn: true, ack: true }),
      ),
      fromPns: false,
      label: 'SYN-ACK',
    });
    this.add({
      packet: ipv4(PNS, PAC, 6, tcp(PNS, PNS_PORT, PAC, 1723, this.seqPns, this.seqPac, { ack: true })),
      fromPns: true,
      label: 'ACK',
    });
  }

  /** Control messages in one TCP segment (several = coalesced). */
  control(fromPns: boolean, ...messages: PptpMessage[]): void {
    const bytes = concatBytes(...messages.map((m) => encodePptpMessage(m)));
    this.segment(fromPns, bytes, messages, messages.map((m) => `PPTP type ${m.type}`).join('+'));
  }

  /** Raw stream bytes in one segment; `pptp` lists the messages this segment completes. */
  segment(fromPns: boolean, bytes: Uint8Array, pptp: PptpMessage[], label: string): void {
    const [src, sport, dst, dport] = fromPns ? [PNS, PNS_PORT, PAC, 1723] : [PAC, 1723, PNS, PNS_PORT];
    const seq = fromPns ? this.seqPns : this.seqPac;
    const ack = fromPns ? this.seqPac : this.seqPns;
    this.add({
      packet: ipv4(src, dst, 6, tcp(src, sport, dst, dport, seq, ack, { ack: true, psh: true }, bytes)),
      fromPns,
      label,
      pptp,
    });
    if (fromPns) this.seqPns += bytes.length;
    else this.seqPac += bytes.length;
  }

  tcpClose(): void {
    this.add({
      packet: ipv4(
        PNS,
        PAC,
        6,
        tcp(PNS, PNS_PORT, PAC, 1723, this.seqPns, this.seqPac, { fin: true, ack: true }),
      ),
      fromPns: true,
      label: 'FIN',
    });
    this.seqPns++;
    this.add({
      packet: ipv4(
        PAC,
        PNS,
        6,
        tcp(PAC, 1723, PNS, PNS_PORT, this.seqPac, this.seqPns, { fin: true, ack: true }),
      ),
      fromPns: false,
      label: 'FIN',
    });
    this.seqPac++;
  }

  /** A PPP frame over GRE, with a piggy-backed ack when the sender has received something. */
  pppFrame(
    fromPns: boolean,
    protocol: number,
    info: Uint8Array,
    label: string,
    flags = { acfc: false, pfc: false },
  ): void {
    const frame = ppp(protocol, info, flags);
    const seq = fromPns ? this.greSeqPns++ : this.greSeqPac++;
    const ack = fromPns ? this.lastFromPac : this.lastFromPns;
    if (fromPns) this.lastFromPns = seq;
    else this.lastFromPac = seq;
    const callId = fromPns ? PAC_CALL_ID : PNS_CALL_ID;
    this.add({
      packet: ipv4(fromPns ? PNS : PAC, fromPns ? PAC : PNS, 47, gre(callId, seq, ack, frame)),
      fromPns,
      label,
      gre:
        ack === undefined
          ? { callId, seq, payloadLength: frame.length }
          : { callId, seq, ack, payloadLength: frame.length },
      pppProtocol: protocol,
    });
  }

  /** An acknowledgment-only GRE packet (S=0, A=1). */
  greAckOnly(fromPns: boolean): void {
    const ack = (fromPns ? this.lastFromPac : this.lastFromPns) ?? 0;
    const callId = fromPns ? PAC_CALL_ID : PNS_CALL_ID;
    this.add({
      packet: ipv4(fromPns ? PNS : PAC, fromPns ? PAC : PNS, 47, gre(callId, undefined, ack)),
      fromPns,
      label: 'GRE ack-only',
      gre: { callId, ack, payloadLength: 0 },
    });
  }

  /** Any extra frame (malformed packets in tests). */
  raw(fromPns: boolean, packet: Uint8Array, label: string): void {
    this.add({ packet, fromPns, label });
  }

  pcap(framing: Framing = 'ethernet'): Uint8Array {
    return encodePcap(
      this.frames.map((f) => ({ timestamp: f.timestamp, data: frameOf(framing, f.packet, f.fromPns) })),
      { linkType: LINK_TYPE_OF[framing] },
    );
  }
}

const lcp = (p: LcpPacket) => encodeLcpPacket(p);
const opts = (...o: Parameters<typeof encodeLcpOption>[0][]) => o.map(encodeLcpOption);

/** The DNS query and answer of the demo's example, through dns-packet. */
export const DNS_QUERY = dnsPacket.encode({
  type: 'query',
  id: 0x3c5e,
  flags: dnsPacket.RECURSION_DESIRED,
  questions: [{ type: 'A', class: 'IN', name: 'www.example.com' }],
});
export const DNS_RESPONSE = dnsPacket.encode({
  type: 'response',
  id: 0x3c5e,
  flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
  questions: [{ type: 'A', class: 'IN', name: 'www.example.com' }],
  answers: [
    { type: 'CNAME', class: 'IN', name: 'www.example.com', ttl: 3600, data: 'example.com' },
    { type: 'A', class: 'IN', name: 'example.com', ttl: 300, data: '93.184.216.34' },
  ],
});

/** Inner (tunnel) addresses handed out by IPCP. */
export const CLIENT_TUNNEL_IP = '10.8.0.2';
export const SERVER_TUNNEL_IP = '10.8.0.1';
export const DNS_SERVER = '10.8.0.53';

/**
 * A complete session: TCP handshake, SCCRQ/SCCRP, OCRQ/OCRP, LCP with
 * MS-CHAPv2, the RFC 2759 exchange, SLI, CCP (MPPE-128 stateless), IPCP
 * with DNS, IPv6CP, MPPE data, an unencrypted DNS query and response,
 * LCP and PPTP echoes, an ack-only packet, PAP and an MS-CHAP failure, then
 * every other control message (ICRQ/ICRP/ICCN, WEN, CCRQ/CDN,
 * StopCCRQ/StopCCRP) and FIN.
 */
export function fullSession(): ScenarioBuilder {
  const s = new ScenarioBuilder();
  const T = PptpMessageType;
  s.tcpHandshake();
  s.control(true, {
    type: T.StartControlConnectionRequest,
    protocolVersion: 0x0100,
    framingCapabilities: 1,
    bearerCapabilities: 1,
    maximumChannels: 0,
    firmwareRevision: 1,
    hostName: 'pns.example',
    vendorString: 'pptp-ts',
  });
  s.control(false, {
    type: T.StartControlConnectionReply,
    protocolVersion: 0x0100,
    resultCode: 1,
    errorCode: 0,
    framingCapabilities: 3,
    bearerCapabilities: 3,
    maximumChannels: 16,
    firmwareRevision: 0x0200,
    hostName: 'pac.example',
    vendorString: 'test PAC',
  });
  s.control(true, {
    type: T.OutgoingCallRequest,
    callId: PNS_CALL_ID,
    callSerialNumber: 7,
    minimumBps: 2400,
    maximumBps: 100_000_000,
    bearerType: 3,
    framingType: 3,
    packetRecvWindowSize: 64,
    packetProcessingDelay: 0,
    phoneNumberLength: 0,
    phoneNumber: '',
    subaddress: '',
  });
  s.control(false, {
    type: T.OutgoingCallReply,
    callId: PAC_CALL_ID,
    peerCallId: PNS_CALL_ID,
    resultCode: 1,
    errorCode: 0,
    causeCode: 0,
    connectSpeed: 100_000_000,
    packetRecvWindowSize: 32,
    packetProcessingDelay: 0,
    physicalChannelId: 3,
  });
  // LCP: the PAC asks for MS-CHAPv2; both sides ask for ACFC/PFC.
  s.pppFrame(
    false,
    PppProtocol.Lcp,
    lcp({
      kind: 'configure-request',
      identifier: 1,
      options: opts(
        { kind: 'mru', mru: 1400 },
        authProtocolOption('mschap-v2'),
        { kind: 'magic-number', magicNumber: 0x6a5b4c3d },
        { kind: 'pfc' },
        { kind: 'acfc' },
      ),
    }),
    'LCP ConfReq (PAC)',
  );
  s.pppFrame(
    true,
    PppProtocol.Lcp,
    lcp({
      kind: 'configure-request',
      identifier: 1,
      options: opts(
        { kind: 'mru', mru: 1400 },
        { kind: 'accm', accm: 0 },
        { kind: 'magic-number', magicNumber: 0x11223344 },
        { kind: 'pfc' },
        { kind: 'acfc' },
      ),
    }),
    'LCP ConfReq (PNS)',
  );
  s.pppFrame(
    true,
    PppProtocol.Lcp,
    lcp({
      kind: 'configure-ack',
      identifier: 1,
      options: opts(
        { kind: 'mru', mru: 1400 },
        authProtocolOption('mschap-v2'),
        { kind: 'magic-number', magicNumber: 0x6a5b4c3d },
        { kind: 'pfc' },
        { kind: 'acfc' },
      ),
    }),
    'LCP ConfAck (PNS)',
  );
  s.pppFrame(
    false,
    PppProtocol.Lcp,
    lcp({ kind: 'configure-reject', identifier: 1, options: opts({ kind: 'accm', accm: 0 }) }),
    'LCP ConfRej (PAC)',
  );
  s.pppFrame(
    true,
    PppProtocol.Lcp,
    lcp({
      kind: 'configure-request',
      identifier: 2,
      options: opts(
        { kind: 'mru', mru: 1400 },
        { kind: 'magic-number', magicNumber: 0x11223344 },
        { kind: 'pfc' },
        { kind: 'acfc' },
      ),
    }),
    'LCP ConfReq 2 (PNS)',
  );
  s.pppFrame(
    false,
    PppProtocol.Lcp,
    lcp({
      kind: 'configure-ack',
      identifier: 2,
      options: opts(
        { kind: 'mru', mru: 1400 },
        { kind: 'magic-number', magicNumber: 0x11223344 },
        { kind: 'pfc' },
        { kind: 'acfc' },
      ),
    }),
    'LCP ConfAck (PAC)',
  );
  // Windows sends Set-Link-Info once LCP is up.
  s.control(true, {
    type: T.SetLinkInfo,
    peerCallId: PAC_CALL_ID,
    sendAccm: 0xffffffff,
    receiveAccm: 0xffffffff,
  });
  // MS-CHAPv2 with the RFC 2759 §9.2 values.
  const acfc = { acfc: true, pfc: true };
  s.pppFrame(
    false,
    PppProtocol.Chap,
    encodeChapPacket({
      kind: 'challenge',
      identifier: 0x42,
      value: RFC2759.authenticatorChallenge,
      name: utf8('pac'),
    }),
    'CHAP Challenge',
  );
  s.pppFrame(
    true,
    PppProtocol.Chap,
    encodeChapPacket({
      kind: 'response',
      identifier: 0x42,
      value: encodeMsChapV2Response({
        peerChallenge: RFC2759.peerChallenge,
        reserved: new Uint8Array(8),
        ntResponse: RFC2759.ntResponse,
        flags: 0,
      }),
      name: utf8(RFC2759.user),
    }),
    'CHAP Response',
  );
  s.pppFrame(
    false,
    PppProtocol.Chap,
    encodeChapPacket({
      kind: 'success',
      identifier: 0x42,
      message: formatMsChapV2Success({
        authenticatorResponse: RFC2759.authenticatorResponse,
        message: 'Access granted',
      }),
    }),
    'CHAP Success',
  );
  // CCP: MPPE 128-bit stateless.
  const mppe = encodeCcpOption(mppeOptionFromBits(0x01000040));
  s.pppFrame(
    true,
    PppProtocol.Ccp,
    encodeCcpPacket({ kind: 'configure-request', identifier: 1, options: [mppe] }),
    'CCP ConfReq',
    acfc,
  );
  s.pppFrame(
    false,
    PppProtocol.Ccp,
    encodeCcpPacket({ kind: 'configure-ack', identifier: 1, options: [mppe] }),
    'CCP ConfAck',
    acfc,
  );
  // IPCP: the PNS asks for an address and DNS; the PAC Naks with them; Ack.
  const ask = [
    { kind: 'ip-address', address: 0 },
    { kind: 'primary-dns', address: 0 },
    { kind: 'secondary-dns', address: 0 },
  ] as const;
  const got = [
    { kind: 'ip-address', address: parseIpv4(CLIENT_TUNNEL_IP)! },
    { kind: 'primary-dns', address: parseIpv4(DNS_SERVER)! },
    { kind: 'secondary-dns', address: parseIpv4('10.8.0.54')! },
  ] as const;
  s.pppFrame(
    true,
    PppProtocol.Ipcp,
    encodeIpcpPacket({ kind: 'configure-request', identifier: 1, options: ask.map(encodeIpcpOption) }),
    'IPCP ConfReq',
    acfc,
  );
  s.pppFrame(
    false,
    PppProtocol.Ipcp,
    encodeIpcpPacket({ kind: 'configure-nak', identifier: 1, options: got.map(encodeIpcpOption) }),
    'IPCP ConfNak',
    acfc,
  );
  s.pppFrame(
    true,
    PppProtocol.Ipcp,
    encodeIpcpPacket({ kind: 'configure-request', identifier: 2, options: got.map(encodeIpcpOption) }),
    'IPCP ConfReq 2',
    acfc,
  );
  s.pppFrame(
    false,
    PppProtocol.Ipcp,
    encodeIpcpPacket({ kind: 'configure-ack', identifier: 2, options: got.map(encodeIpcpOption) }),
    'IPCP ConfAck',
    acfc,
  );
  s.pppFrame(
    true,
    PppProtocol.Ipv6cp,
    encodeIpv6cpPacket({
      kind: 'configure-request',
      identifier: 1,
      options: [
        encodeIpv6cpOption({
          kind: 'interface-identifier',
          interfaceIdentifier: fromHex('021122fffe334455'),
        }),
      ],
    }),
    'IPv6CP ConfReq',
    acfc,
  );
  // Encrypted data (MPPE header; the bytes after it stand for ciphertext).
  s.pppFrame(
    true,
    PppProtocol.Compressed,
    encodeMppePacket({
      flushed: true,
      atFront: false,
      compressed: false,
      encrypted: true,
      coherencyCount: 0,
      payload: fromHex('8c3e5a1f09d2b47760a1c4e3'),
    }),
    'MPPE data',
    acfc,
  );
  s.pppFrame(
    false,
    PppProtocol.Compressed,
    encodeMppePacket({
      flushed: true,
      atFront: false,
      compressed: false,
      encrypted: true,
      coherencyCount: 0x0fff,
      payload: fromHex('1f2e3d4c5b6a7988'),
    }),
    'MPPE data (count 4095)',
    acfc,
  );
  // The demo's example: a DNS query and its answer inside the tunnel (sent in the clear here so it can be read).
  s.pppFrame(
    true,
    PppProtocol.Ipv4,
    ipv4(CLIENT_TUNNEL_IP, DNS_SERVER, 17, udp(CLIENT_TUNNEL_IP, 41337, DNS_SERVER, 53, DNS_QUERY)),
    'DNS query',
    acfc,
  );
  s.pppFrame(
    false,
    PppProtocol.Ipv4,
    ipv4(DNS_SERVER, CLIENT_TUNNEL_IP, 17, udp(DNS_SERVER, 53, CLIENT_TUNNEL_IP, 41337, DNS_RESPONSE), 63),
    'DNS response',
    acfc,
  );
  s.greAckOnly(true);
  // Keep-alives: LCP echo over GRE (full header, as Linux sends LCP), PPTP echo over TCP.
  s.pppFrame(
    false,
    PppProtocol.Lcp,
    lcp({ kind: 'echo-request', identifier: 9, magicNumber: 0x6a5b4c3d, data: new Uint8Array(0) }),
    'LCP Echo-Request',
  );
  s.pppFrame(
    true,
    PppProtocol.Lcp,
    lcp({ kind: 'echo-reply', identifier: 9, magicNumber: 0x11223344, data: new Uint8Array(0) }),
    'LCP Echo-Reply',
  );
  s.control(false, { type: T.EchoRequest, identifier: 0xdeadbeef });
  s.control(true, { type: T.EchoReply, identifier: 0xdeadbeef, resultCode: 1, errorCode: 0 });
  // PAP and an MS-CHAPv2 failure, as another session would send them (same tunnel here, for coverage).
  s.pppFrame(
    true,
    PppProtocol.Pap,
    encodePapPacket({
      kind: 'authenticate-request',
      identifier: 3,
      peerId: utf8('alice'),
      password: utf8('s3cret'),
    }),
    'PAP Request',
  );
  s.pppFrame(
    false,
    PppProtocol.Pap,
    encodePapPacket({ kind: 'authenticate-nak', identifier: 3, message: utf8('Login incorrect') }),
    'PAP Nak',
  );
  s.pppFrame(
    false,
    PppProtocol.Chap,
    encodeChapPacket({
      kind: 'failure',
      identifier: 0x43,
      message: formatMsChapFailure({
        error: 691,
        retry: true,
        challenge: RFC2759.authenticatorChallenge,
        version: 3,
        message: 'Authentication failed',
      }),
    }),
    'CHAP Failure',
  );
  s.pppFrame(
    true,
    PppProtocol.Pap,
    encodePapPacket({ kind: 'authenticate-ack', identifier: 4, message: utf8('Welcome') }),
    'PAP Ack',
  );
  // The rest of LCP (RFC 1661 §5.5–5.9, RFC 1570 §1), CCP's resets (RFC 1962 §3.1)
  // and an IPCP VJ option (RFC 1332 §4.1).
  s.pppFrame(
    false,
    PppProtocol.Lcp,
    lcp({ kind: 'discard-request', identifier: 10, magicNumber: 0x6a5b4c3d, data: utf8('pad') }),
    'LCP Discard-Request',
  );
  s.pppFrame(
    false,
    PppProtocol.Lcp,
    lcp({ kind: 'identification', identifier: 11, magicNumber: 0x6a5b4c3d, message: utf8('pptp-ts PAC') }),
    'LCP Identification',
  );
  s.pppFrame(
    false,
    PppProtocol.Lcp,
    lcp({
      kind: 'time-remaining',
      identifier: 12,
      magicNumber: 0x6a5b4c3d,
      secondsRemaining: 3600,
      message: utf8('1 hour'),
    }),
    'LCP Time-Remaining',
  );
  s.pppFrame(
    true,
    PppProtocol.Lcp,
    lcp({
      kind: 'protocol-reject',
      identifier: 13,
      rejectedProtocol: 0x8281,
      rejectedInformation: fromHex('01010004'),
    }),
    'LCP Protocol-Reject',
  );
  s.pppFrame(
    true,
    PppProtocol.Lcp,
    lcp({ kind: 'code-reject', identifier: 14, rejectedPacket: fromHex('2001 0004') }),
    'LCP Code-Reject',
  );
  s.pppFrame(
    true,
    PppProtocol.Ccp,
    encodeCcpPacket({ kind: 'reset-request', identifier: 2, data: new Uint8Array(0) }),
    'CCP Reset-Request',
    acfc,
  );
  s.pppFrame(
    false,
    PppProtocol.Ccp,
    encodeCcpPacket({ kind: 'reset-ack', identifier: 2, data: new Uint8Array(0) }),
    'CCP Reset-Ack',
    acfc,
  );
  s.pppFrame(
    true,
    PppProtocol.Ipcp,
    encodeIpcpPacket({
      kind: 'configure-request',
      identifier: 3,
      options: [
        encodeIpcpOption({ kind: 'ip-compression-protocol', protocol: 0x002d, data: fromHex('0f01') }),
      ],
    }),
    'IPCP VJ',
    acfc,
  );
  // ICMP echo over IPv4 and ICMPv6 echo over IPv6, inside the tunnel.
  s.pppFrame(
    true,
    PppProtocol.Ipv4,
    ipv4(CLIENT_TUNNEL_IP, SERVER_TUNNEL_IP, 1, icmpEcho(8, 0x1234, 1)),
    'ICMP echo request',
    acfc,
  );
  s.pppFrame(
    false,
    PppProtocol.Ipv4,
    ipv4(SERVER_TUNNEL_IP, CLIENT_TUNNEL_IP, 1, icmpEcho(0, 0x1234, 1)),
    'ICMP echo reply',
    acfc,
  );
  s.pppFrame(
    true,
    PppProtocol.Ipv6,
    ipv6Echo('fe80::211:22ff:fe33:4455', 'fe80::1'),
    'ICMPv6 echo request',
    acfc,
  );
  s.pppFrame(
    false,
    PppProtocol.Lcp,
    lcp({ kind: 'terminate-request', identifier: 15, data: utf8('bye') }),
    'LCP Terminate-Request',
  );
  s.pppFrame(
    true,
    PppProtocol.Lcp,
    lcp({ kind: 'terminate-ack', identifier: 15, data: new Uint8Array(0) }),
    'LCP Terminate-Ack',
  );
  // The other control messages. (Each in its own segment: tshark 4.0 dissects only the first
  // message of a segment, and the oracle test checks every one; coalescing has its own test.)
  s.control(false, {
    type: T.IncomingCallRequest,
    callId: 0x0102,
    callSerialNumber: 8,
    callBearerType: 1,
    physicalChannelId: 4,
    dialedNumberLength: 4,
    dialingNumberLength: 8,
    dialedNumber: '5551',
    dialingNumber: '55501234',
    subaddress: 'sub',
  });
  s.control(true, {
    type: T.IncomingCallReply,
    callId: 0x0203,
    peerCallId: 0x0102,
    resultCode: 1,
    errorCode: 0,
    packetRecvWindowSize: 16,
    packetTransmitDelay: 0,
  });
  s.control(false, {
    type: T.IncomingCallConnected,
    peerCallId: 0x0203,
    connectSpeed: 56000,
    packetRecvWindowSize: 8,
    packetTransmitDelay: 0,
    framingType: 1,
  });
  s.control(false, {
    type: T.WanErrorNotify,
    peerCallId: 0x0203,
    crcErrors: 1,
    framingErrors: 2,
    hardwareOverruns: 3,
    bufferOverruns: 4,
    timeoutErrors: 5,
    alignmentErrors: 6,
  });
  s.control(true, { type: T.CallClearRequest, callId: PNS_CALL_ID });
  s.control(false, {
    type: T.CallDisconnectNotify,
    callId: PAC_CALL_ID,
    resultCode: 4,
    errorCode: 0,
    causeCode: 0,
    callStatistics: 'rx 12 tx 13',
  });
  s.control(true, { type: T.StopControlConnectionRequest, reason: 1 });
  s.control(false, { type: T.StopControlConnectionReply, resultCode: 1, errorCode: 0 });
  s.tcpClose();
  return s;
}
