/**
 * Layers for the link and IP parts of a frame: the capture's link header,
 * IPv4/IPv6 (outer, carrying GRE or TCP 1723; or inner, carried in PPP),
 * TCP, UDP, ICMP and ICMPv6, down to DNS. Display only: checksums are
 * verified and reported, never enforced (see `capture/inet.ts`).
 */

import {
  type ChecksumOffload,
  type ChecksumStatus,
  decodeIpv4Packet,
  decodeIpv6Packet,
  decodeTcpSegment,
  decodeUdpDatagram,
  IP_PROTOCOL_NAMES,
  IpProtocol,
  type Ipv4Packet,
  type Ipv6Packet,
  internetChecksum,
  ipv4BytesToString,
  type TcpSegment,
  type UdpDatagram,
} from '../capture/inet.js';
import { type LinkFrame, SLL_PACKET_TYPES } from '../capture/link.js';
import { ipv6ToString, u16, u32 } from '../wire/bytes.js';
import { WireError, WireErrorCode } from '../wire/errors.js';
import { dnsLayer } from './dns.js';
import {
  ARPHRD_NAMES,
  ETHER_TYPE_NAMES,
  ICMP_TYPE_NAMES,
  ICMP_UNREACHABLE_CODE_NAMES,
  ICMPV6_TYPE_NAMES,
  named,
} from './names.js';
import { type Field, flag, hex, hidden, kv, type Layer, malformedLayer, shown } from './tree.js';

/** The DNS port (RFC 1035 §4.2). */
const DNS_PORT = 53;

/** What the text says after `[unverified]` for a checksum left to offload. */
const OFFLOAD_TEXT: Readonly<Record<ChecksumOffload, string>> = {
  'not-computed': 'not computed: left to offload',
  partial: 'pseudo-header sum only: left to offload',
};

/** `checksum 0x1234 [good]`; `checksum 0x0000 [unverified] (not computed: left to offload)`. */
function checksumField(value: number, status: ChecksumStatus, offload?: ChecksumOffload): Field[] {
  const why = offload ? ` (${OFFLOAD_TEXT[offload]})` : '';
  const fields = [
    kv('checksum', value, 'checksum', `${hex(value)} [${status === 'none' ? 'not used' : status}]${why}`),
    hidden('checksumStatus', status),
  ];
  if (offload) fields.push(hidden('checksumOffload', offload));
  return fields;
}

/** The capture's link-layer header. */
export function linkLayer(f: LinkFrame): Layer | undefined {
  const h = f.header;
  switch (h.kind) {
    case 'ethernet': {
      const fields: Field[] = [
        shown('source', h.source, `${h.source} → ${h.destination}`),
        hidden('destination', h.destination),
      ];
      // 802.1Q/802.1ad tags, outermost first.
      for (const [i, v] of h.vlans.entries()) {
        fields.push(shown(`vlan${i}`, v.id, `VLAN ${v.id}${v.priority ? ` prio ${v.priority}` : ''}`));
      }
      fields.push(
        h.etherType <= 1500
          ? kv('length', h.etherType, '802.3 length')
          : kv('etherType', h.etherType, 'type', named(ETHER_TYPE_NAMES, h.etherType, 4)),
      );
      return { protocol: 'Ethernet', fields };
    }
    case 'sll':
    case 'sll2': {
      const fields: Field[] = [
        kv('packetType', h.packetType, '', SLL_PACKET_TYPES[h.packetType] ?? `packet type ${h.packetType}`),
      ];
      if (h.kind === 'sll2') fields.push(kv('interfaceIndex', h.interfaceIndex, 'ifindex'));
      if (h.address) fields.push(kv('address', h.address, 'from'));
      fields.push(
        kv('arphrdType', h.arphrdType, 'hw', named(ARPHRD_NAMES, h.arphrdType)),
        kv('protocol', h.protocol, 'type', named(ETHER_TYPE_NAMES, h.protocol, 4)),
      );
      return { protocol: h.kind === 'sll' ? 'SLL' : 'SLL2', fields };
    }
    case 'loopback':
      return { protocol: 'Loopback', fields: [kv('family', h.family, 'address family')] };
    case 'raw':
      return undefined;
  }
}

/** The IPv4 header line. `tunnel` notes an inner (tunnelled) header. */
export function ipv4Layer(p: Ipv4Packet): Layer {
  const fields: Field[] = [
    shown('source', p.source, `${p.source} → ${p.destination}`),
    hidden('destination', p.destination),
    kv('identification', p.identification, 'id', hex(p.identification)),
    kv('ttl', p.ttl),
    flag('dontFragment', p.dontFragment, 'DF'),
    flag('moreFragments', p.moreFragments, 'MF'),
    flag('reservedFlag', p.reservedFlag, 'RESERVED-FLAG'),
  ];
  if (p.fragmentOffset) fields.push(kv('fragmentOffset', p.fragmentOffset, 'frag offset'));
  fields.push(kv('protocol', p.protocol, 'proto', named(IP_PROTOCOL_NAMES, p.protocol)));
  if (p.dscp || p.ecn) fields.push(kv('dscp', p.dscp), kv('ecn', p.ecn));
  else fields.push(hidden('dscp', 0), hidden('ecn', 0));
  fields.push(
    ...checksumField(p.checksum, p.checksumStatus, p.checksumOffload),
    kv('totalLength', p.totalLength, 'len'),
  );
  if (p.headerLength > 20)
    fields.push(kv('optionsLength', p.headerLength - 20, 'options', `${p.headerLength - 20} bytes`));
  const note = p.missing ? `${p.missing} bytes of the datagram were not captured` : undefined;
  return note ? { protocol: 'IPv4', fields, note } : { protocol: 'IPv4', fields };
}

/** The IPv6 header line. */
export function ipv6Layer(p: Ipv6Packet): Layer {
  const fields: Field[] = [
    shown('source', p.source, `${p.source} → ${p.destination}`),
    hidden('destination', p.destination),
    kv('hopLimit', p.hopLimit, 'hop limit'),
    kv('nextHeader', p.nextHeader, 'next', named(IP_PROTOCOL_NAMES, p.nextHeader)),
  ];
  if (p.extensionHeaders.length) {
    fields.push(
      kv('protocol', p.protocol, 'proto', named(IP_PROTOCOL_NAMES, p.protocol)),
      shown('extensionHeaders', p.extensionHeaders.join(','), `ext ${p.extensionHeaders.join(',')}`),
    );
  }
  if (p.trafficClass || p.flowLabel)
    fields.push(
      kv('trafficClass', p.trafficClass, 'tc'),
      kv('flowLabel', p.flowLabel, 'flow', hex(p.flowLabel, 5)),
    );
  fields.push(kv('payloadLength', p.payloadLength, 'payload length'));
  if (p.fragment) {
    fields.push(
      kv('fragmentOffset', p.fragment.offset, 'frag offset'),
      flag('moreFragments', p.fragment.moreFragments, 'M'),
      kv('fragmentId', p.fragment.identification, 'frag id', hex(p.fragment.identification, 8)),
    );
  }
  const note = p.missing ? `${p.missing} bytes of the datagram were not captured` : undefined;
  return note ? { protocol: 'IPv6', fields, note } : { protocol: 'IPv6', fields };
}

const TCP_FLAG_ORDER: readonly [keyof TcpSegment['flags'], string][] = [
  ['syn', 'SYN'],
  ['fin', 'FIN'],
  ['rst', 'RST'],
  ['psh', 'PSH'],
  ['ack', 'ACK'],
  ['urg', 'URG'],
  ['ece', 'ECE'],
  ['cwr', 'CWR'],
];

/** The TCP header line. */
export function tcpLayer(t: TcpSegment): Layer {
  const names = TCP_FLAG_ORDER.filter(([k]) => t.flags[k]).map(([, n]) => n);
  const fields: Field[] = [
    shown('sourcePort', t.sourcePort, `${t.sourcePort} → ${t.destinationPort}`),
    hidden('destinationPort', t.destinationPort),
    shown('flags', names.join(','), `[${names.join(' ')}]`),
    kv('sequenceNumber', t.sequenceNumber, 'seq'),
  ];
  if (t.flags.ack) fields.push(kv('acknowledgmentNumber', t.acknowledgmentNumber, 'ack'));
  fields.push(
    kv('window', t.window, 'win'),
    ...checksumField(t.checksum, t.checksumStatus, t.checksumOffload),
  );
  if (t.flags.urg) fields.push(kv('urgentPointer', t.urgentPointer, 'urg'));
  fields.push(kv('payloadLength', t.payload.length, 'len'));
  return { protocol: 'TCP', fields };
}

/** The UDP header line. */
export function udpLayer(u: UdpDatagram): Layer {
  const fields: Field[] = [
    shown('sourcePort', u.sourcePort, `${u.sourcePort} → ${u.destinationPort}`),
    hidden('destinationPort', u.destinationPort),
    kv('length', u.length, 'len'),
    ...checksumField(u.checksum, u.checksumStatus, u.checksumOffload),
  ];
  const note = u.missing ? `${u.missing} bytes of the datagram were not captured` : undefined;
  return note ? { protocol: 'UDP', fields, note } : { protocol: 'UDP', fields };
}

/** A short description of the IP header quoted inside an ICMP error (RFC 792: "Internet Header + 64 bits of Original Data Datagram"). */
function quotedHeader(b: Uint8Array): string | undefined {
  if (b.length >= 20 && b[0]! >>> 4 === 4) {
    const proto = b[9]!;
    const ihl = (b[0]! & 15) * 4;
    let s = `${ipv4BytesToString(b.subarray(12, 16))} → ${ipv4BytesToString(b.subarray(16, 20))} ${named(IP_PROTOCOL_NAMES, proto)}`;
    if ((proto === IpProtocol.Udp || proto === IpProtocol.Tcp) && b.length >= ihl + 4) {
      s += ` ${u16(b, ihl)} → ${u16(b, ihl + 2)}`;
    }
    return s;
  }
  if (b.length >= 40 && b[0]! >>> 4 === 6) {
    return `${ipv6ToString(b.subarray(8, 24))} → ${ipv6ToString(b.subarray(24, 40))} ${named(IP_PROTOCOL_NAMES, b[6]!)}`;
  }
  return undefined;
}

/**
 * ICMP (RFC 792) or ICMPv6 (RFC 4443). `pseudo` holds the IPv6 addresses
 * for the ICMPv6 checksum (RFC 4443 §2.3); ICMPv4's covers the message only.
 */
export function icmpLayer(
  b: Uint8Array,
  v6: boolean,
  pseudo?: { src: Uint8Array; dst: Uint8Array },
  complete = true,
): Layer {
  const protocol = v6 ? 'ICMPv6' : 'ICMP';
  if (b.length < 4) {
    return malformedLayer(
      protocol,
      new WireError(WireErrorCode.Truncated, `${protocol}: ${b.length} bytes < 4-byte header`),
      b,
    );
  }
  const type = b[0]!;
  const code = b[1]!;
  const checksum = u16(b, 2);
  let status: ChecksumStatus = 'unverified';
  if (complete) {
    let init = 0;
    if (v6 && pseudo) {
      for (const a of [pseudo.src, pseudo.dst]) for (let i = 0; i < 16; i += 2) init += u16(a, i);
      init += b.length + IpProtocol.Icmpv6;
    }
    if (!v6 || pseudo) status = internetChecksum([b], init) === 0 ? 'good' : 'bad';
  }
  const fields: Field[] = [kv('type', type, '', named(v6 ? ICMPV6_TYPE_NAMES : ICMP_TYPE_NAMES, type))];
  const unreachable = v6 ? type === 1 : type === 3;
  if (!v6 && type === 3) fields.push(kv('code', code, 'code', named(ICMP_UNREACHABLE_CODE_NAMES, code)));
  else fields.push(kv('code', code));
  fields.push(...checksumField(checksum, status));
  const isEcho = v6 ? type === 128 || type === 129 : type === 0 || type === 8;
  if (isEcho && b.length >= 8) {
    fields.push(kv('identifier', u16(b, 4), 'id', hex(u16(b, 4))), kv('sequenceNumber', u16(b, 6), 'seq'));
    fields.push(kv('dataLength', b.length - 8, 'data', `${b.length - 8} bytes`));
  }
  // RFC 1191 §4: "Next-Hop MTU" in the low 16 bits of the second word of "fragmentation needed".
  if (!v6 && type === 3 && code === 4 && b.length >= 8)
    fields.push(kv('nextHopMtu', u16(b, 6), 'next-hop MTU'));
  // RFC 4443 §3.2: Packet Too Big carries the 32-bit MTU.
  if (v6 && type === 2 && b.length >= 8) fields.push(kv('mtu', u32(b, 4), 'MTU'));
  const quotes =
    unreachable || (v6 ? type === 2 || type === 3 || type === 4 : type === 11 || type === 12 || type === 5);
  if (quotes && b.length > 8) {
    const q = quotedHeader(b.subarray(8));
    if (q) fields.push(kv('original', q, 'about'));
  }
  return { protocol, fields };
}

/**
 * Dissects an IP packet (version from the first nibble, or as `family`
 * says) and everything above it that we know: TCP/UDP/ICMP and DNS.
 * Appends layers to `out`; never throws.
 */
export function dissectIp(bytes: Uint8Array, out: Layer[], family?: 'ipv4' | 'ipv6'): void {
  const v = family ?? (bytes.length && bytes[0]! >>> 4 === 6 ? 'ipv6' : 'ipv4');
  let payload: Uint8Array;
  let protocol: number;
  let missing: number;
  let addrs: { sourceBytes: Uint8Array; destinationBytes: Uint8Array };
  let fragment = false;
  try {
    if (v === 'ipv4') {
      const p = decodeIpv4Packet(bytes);
      out.push(ipv4Layer(p));
      ({ payload, protocol, missing } = p);
      addrs = p;
      if (p.fragmentOffset !== 0) fragment = true;
      else if (p.moreFragments) fragment = true;
    } else {
      const p = decodeIpv6Packet(bytes);
      out.push(ipv6Layer(p));
      ({ payload, protocol, missing } = p);
      addrs = p;
      if (p.fragment && (p.fragment.offset !== 0 || p.fragment.moreFragments)) fragment = true;
    }
  } catch (e) {
    out.push(malformedLayer(v === 'ipv4' ? 'IPv4' : 'IPv6', e, bytes));
    return;
  }
  if (fragment) {
    out.push({
      protocol: 'Data',
      fields: [kv('length', payload.length, '', `${payload.length} bytes`)],
      note: 'IP fragment: not reassembled',
    });
    return;
  }
  dissectTransport(protocol, payload, missing, addrs, out);
}

/** The layer(s) above IP (TCP/UDP/ICMP and DNS); never throws. */
export function dissectTransport(
  protocol: number,
  payload: Uint8Array,
  missing: number,
  addrs: { sourceBytes: Uint8Array; destinationBytes: Uint8Array },
  out: Layer[],
): void {
  const complete = missing === 0;
  switch (protocol) {
    case IpProtocol.Udp: {
      let u: UdpDatagram;
      try {
        u = decodeUdpDatagram(payload, addrs, payload.length + missing);
      } catch (e) {
        out.push(malformedLayer('UDP', e, payload));
        return;
      }
      out.push(udpLayer(u));
      if (u.sourcePort === DNS_PORT || u.destinationPort === DNS_PORT) {
        const dns = dnsLayer(u.payload);
        // A message cut by the capture fails for want of bytes: say that, not "malformed".
        const cut = (u.missing > 0 || missing > 0) && dns.malformed;
        out.push(cut ? { ...dns, malformed: { ...dns.malformed, code: WireErrorCode.Truncated } } : dns);
      } else if (u.payload.length) out.push(dataLayer(u.payload));
      return;
    }
    case IpProtocol.Tcp: {
      let t: TcpSegment;
      try {
        t = decodeTcpSegment(payload, addrs, payload.length + missing);
      } catch (e) {
        out.push(malformedLayer('TCP', e, payload));
        return;
      }
      out.push(tcpLayer(t));
      if ((t.sourcePort === DNS_PORT || t.destinationPort === DNS_PORT) && t.payload.length >= 2) {
        // RFC 1035 §4.2.2: over TCP "the message is prefixed with a two byte length field".
        const len = u16(t.payload, 0);
        if (len + 2 <= t.payload.length) out.push(dnsLayer(t.payload.subarray(2, 2 + len)));
        else out.push(dataLayer(t.payload, 'DNS over TCP: message continues in another segment'));
      } else if (t.payload.length) out.push(dataLayer(t.payload));
      return;
    }
    case IpProtocol.Icmp:
      out.push(icmpLayer(payload, false, undefined, complete));
      return;
    case IpProtocol.Icmpv6:
      out.push(icmpLayer(payload, true, { src: addrs.sourceBytes, dst: addrs.destinationBytes }, complete));
      return;
    default:
      if (payload.length) out.push(dataLayer(payload));
  }
}

/** Undecoded bytes. */
export function dataLayer(b: Uint8Array, note?: string): Layer {
  const fields = [kv('length', b.length, '', `${b.length} bytes`)];
  return note ? { protocol: 'Data', fields, note } : { protocol: 'Data', fields };
}
