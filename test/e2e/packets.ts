/**
 * Inner packets for the end-to-end tests, built from scratch here (not with
 * the project's codecs, so they check them independently): ICMP echo and a
 * small UDP datagram with a sequence number and a payload digest.
 */
import { createHash } from 'node:crypto';

/** RFC 1071 Internet checksum. */
export function inetChecksum(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i + 1 < b.length; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if (b.length % 2) s += b[b.length - 1]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

function addr(s: string): number[] {
  return s.split('.').map(Number);
}

function ipHeader(b: Uint8Array, protocol: number, src: string, dst: string, id: number): void {
  b[0] = 0x45;
  b[2] = b.length >> 8;
  b[3] = b.length & 0xff;
  b[4] = (id >> 8) & 0xff;
  b[5] = id & 0xff;
  b[8] = 64;
  b[9] = protocol;
  b.set(addr(src), 12);
  b.set(addr(dst), 16);
  const c = inetChecksum(b.subarray(0, 20));
  b[10] = c >> 8;
  b[11] = c & 0xff;
}

/** An ICMP Echo Request (type 8) of `size` bytes in total. */
export function icmpEcho(src: string, dst: string, id: number, seq: number, size = 84): Uint8Array {
  const b = new Uint8Array(size);
  ipHeader(b, 1, src, dst, seq);
  b[20] = 8;
  b[24] = id >> 8;
  b[25] = id & 0xff;
  b[26] = seq >> 8;
  b[27] = seq & 0xff;
  for (let i = 28; i < size; i++) b[i] = (i * 7 + seq) & 0xff;
  const c = inetChecksum(b.subarray(20));
  b[22] = c >> 8;
  b[23] = c & 0xff;
  return b;
}

/** Whether `p` is a valid IPv4 packet whose header and ICMP checksums verify. */
export function checksumsOk(p: Uint8Array): boolean {
  if (p.length < 28 || p[0] !== 0x45) return false;
  if (inetChecksum(p.subarray(0, 20)) !== 0) return false;
  if (p[9] === 1) return inetChecksum(p.subarray(20)) === 0;
  return true;
}

export function srcOf(p: Uint8Array): string {
  return `${p[12]}.${p[13]}.${p[14]}.${p[15]}`;
}

export function dstOf(p: Uint8Array): string {
  return `${p[16]}.${p[17]}.${p[18]}.${p[19]}`;
}

/**
 * A UDP datagram (checksum 0: allowed over IPv4) carrying a kind byte, a
 * 32-bit tag, a 32-bit serial and a SHA-256 of the rest.
 */
export function taggedUdp(
  src: string,
  dst: string,
  tag: number,
  size: number,
  kind = 0,
  serial = 0,
): Uint8Array {
  const b = new Uint8Array(size);
  ipHeader(b, 17, src, dst, tag & 0xffff);
  const udpLen = size - 20;
  b[20] = 0x30;
  b[21] = 0x39; // port 12345
  b[22] = 0x30;
  b[23] = 0x39;
  b[24] = udpLen >> 8;
  b[25] = udpLen & 0xff;
  b[28] = kind;
  new DataView(b.buffer).setUint32(29, tag);
  new DataView(b.buffer).setUint32(33, serial);
  for (let i = 69; i < size; i++) b[i] = (tag * 13 + i * 31) & 0xff;
  b.set(createHash('sha256').update(b.subarray(69)).update(b.subarray(28, 37)).digest(), 37);
  return b;
}

/** The tag of a datagram made by {@link taggedUdp}, or undefined if it is damaged. */
export function readTaggedUdp(p: Uint8Array): { tag: number; kind: number; serial: number } | undefined {
  if (p.length < 69 || inetChecksum(p.subarray(0, 20)) !== 0) return undefined;
  const digest = createHash('sha256').update(p.subarray(69)).update(p.subarray(28, 37)).digest();
  for (let i = 0; i < 32; i++) if (digest[i] !== p[37 + i]) return undefined;
  const v = new DataView(p.buffer, p.byteOffset);
  return { tag: v.getUint32(29), kind: p[28]!, serial: v.getUint32(33) };
}
