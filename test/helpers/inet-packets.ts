/**
 * Naive, independent builders of IPv4/IPv6 TCP and UDP packets for the
 * offload tests (io/tcp-segment*.ts): every header written field by
 * field from the RFC diagrams and every checksum computed with the plain
 * byte-pair loop of RFC 1071, so they share no code with what they test.
 */

/** RFC 1071: one's complement sum of big-endian 16-bit words, a trailing odd byte padded; folded, not complemented. */
export function naiveSum(bytes: readonly number[] | Uint8Array, initial = 0): number {
  let s = initial;
  for (let i = 0; i < bytes.length; i += 2)
    s += (bytes[i]! << 8) | (i + 1 < bytes.length ? bytes[i + 1]! : 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

export interface FlowSpec {
  version: 4 | 6;
  src: number[];
  dst: number[];
  srcPort: number;
  dstPort: number;
  /** IPv4 TTL / IPv6 hop limit (default 64). */
  ttl?: number;
  /** IPv4 TOS / IPv6 traffic class (default 0). */
  tos?: number;
  /** IPv6 flow label (default 0). */
  flowLabel?: number;
  /** IPv4 Identification (default 0x1000). */
  id?: number;
  /** IPv4 DF (default true). */
  df?: boolean;
}

export interface TcpSpec {
  seq: number;
  ack: number;
  flags: number;
  window?: number;
  /** TCP options, a multiple of 4 bytes. */
  options?: number[];
  payload: Uint8Array;
}

export const V4_FLOW: FlowSpec = {
  version: 4,
  src: [10, 0, 0, 1],
  dst: [10, 0, 0, 2],
  srcPort: 40000,
  dstPort: 5201,
};

export const V6_FLOW: FlowSpec = {
  version: 6,
  src: [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
  dst: [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
  srcPort: 40001,
  dstPort: 443,
  flowLabel: 0x12345,
};

/** TCP timestamps option padded with two NOPs, as Linux sends it: NOP NOP TS(10) tsval tsecr. */
export function timestampOption(tsval: number, tsecr: number): number[] {
  return [1, 1, 8, 10, ...be32(tsval), ...be32(tsecr)];
}

function be32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

function ipHeader(f: FlowSpec, protocol: number, l4Length: number): number[] {
  if (f.version === 4) {
    const total = 20 + l4Length;
    const id = f.id ?? 0x1000;
    const h = [
      0x45,
      f.tos ?? 0,
      total >> 8,
      total & 0xff,
      (id >> 8) & 0xff,
      id & 0xff,
      f.df === false ? 0 : 0x40,
      0,
      f.ttl ?? 64,
      protocol,
      0,
      0,
      ...f.src,
      ...f.dst,
    ];
    const c = ~naiveSum(h) & 0xffff;
    h[10] = c >> 8;
    h[11] = c & 0xff;
    return h;
  }
  const tc = f.tos ?? 0;
  const fl = f.flowLabel ?? 0;
  return [
    0x60 | (tc >> 4),
    ((tc & 0xf) << 4) | ((fl >> 16) & 0xf),
    (fl >> 8) & 0xff,
    fl & 0xff,
    l4Length >> 8,
    l4Length & 0xff,
    protocol,
    f.ttl ?? 64,
    ...f.src,
    ...f.dst,
  ];
}

function pseudo(f: FlowSpec, protocol: number, l4Length: number): number {
  if (f.version === 4) return naiveSum([...f.src, ...f.dst, 0, protocol, l4Length >> 8, l4Length & 0xff]);
  return naiveSum([...f.src, ...f.dst, ...be32(l4Length), 0, 0, 0, protocol]);
}

/** A complete IPv4/IPv6 TCP packet with correct checksums. */
export function tcpPacket(f: FlowSpec, t: TcpSpec): Uint8Array {
  const opts = t.options ?? [];
  const doff = 20 + opts.length;
  const tcp = [
    f.srcPort >> 8,
    f.srcPort & 0xff,
    f.dstPort >> 8,
    f.dstPort & 0xff,
    ...be32(t.seq >>> 0),
    ...be32(t.ack >>> 0),
    (doff / 4) << 4,
    t.flags,
    ((t.window ?? 502) >> 8) & 0xff,
    (t.window ?? 502) & 0xff,
    0,
    0,
    0,
    0,
    ...opts,
  ];
  const l4 = doff + t.payload.length;
  const sum = naiveSum(t.payload, naiveSum(tcp, pseudo(f, 6, l4)));
  const c = ~sum & 0xffff;
  tcp[16] = c >> 8;
  tcp[17] = c & 0xff;
  const ip = ipHeader(f, 6, l4);
  const out = new Uint8Array(ip.length + tcp.length + t.payload.length);
  out.set(ip, 0);
  out.set(tcp, ip.length);
  out.set(t.payload, ip.length + tcp.length);
  return out;
}

/** A complete IPv4/IPv6 UDP packet with a correct checksum (0 sent as 0xffff, RFC 768). */
export function udpPacket(f: FlowSpec, payload: Uint8Array): Uint8Array {
  const l4 = 8 + payload.length;
  const udp = [f.srcPort >> 8, f.srcPort & 0xff, f.dstPort >> 8, f.dstPort & 0xff, l4 >> 8, l4 & 0xff, 0, 0];
  const c = ~naiveSum(payload, naiveSum(udp, pseudo(f, 17, l4))) & 0xffff || 0xffff;
  udp[6] = c >> 8;
  udp[7] = c & 0xff;
  const ip = ipHeader(f, 17, l4);
  const out = new Uint8Array(ip.length + l4);
  out.set(ip, 0);
  out.set(udp, ip.length);
  out.set(payload, ip.length + 8);
  return out;
}

/** True when the packet's IPv4 header checksum (if any) and its TCP/UDP checksum verify. */
export function checksumsOk(p: Uint8Array): boolean {
  const v4 = p[0]! >> 4 === 4;
  const thoff = v4 ? (p[0]! & 0xf) * 4 : 40;
  if (v4 && naiveSum(p.subarray(0, thoff)) !== 0xffff) return false;
  const proto = v4 ? p[9]! : p[6]!;
  const l4 = p.length - thoff;
  const ps = v4
    ? naiveSum([...p.subarray(12, 20), 0, proto, l4 >> 8, l4 & 0xff])
    : naiveSum([...p.subarray(8, 40), ...be32(l4), 0, 0, 0, proto]);
  return naiveSum(p.subarray(thoff), ps) === 0xffff;
}

/** Deterministic pseudo-random bytes. */
export function patternBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
