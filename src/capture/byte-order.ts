/**
 * Reading the numbers of a capture file in the byte order its writer used:
 * pcap (magic number) and pcapng (Byte-Order Magic of each section) both
 * let the writer choose, so every reader here takes the order as an argument.
 */

/** Unsigned 32-bit number at `off`, little-endian when `le`, else big-endian. */
export function rd32(b: Uint8Array, off: number, le: boolean): number {
  return le
    ? (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0
    : ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

/** Unsigned 16-bit number at `off`, little-endian when `le`, else big-endian. */
export function rd16(b: Uint8Array, off: number, le: boolean): number {
  return le ? b[off]! | (b[off + 1]! << 8) : (b[off]! << 8) | b[off + 1]!;
}
