/**
 * Byte helpers shared by every codec in `wire/` (docs/style.md §2).
 *
 * Everything here works on `Uint8Array` (never Node's `Buffer`, which is an
 * `io/` concern) and big-endian ("network order") unless a name says
 * otherwise. 32-bit values are read and written with `>>> 0` or DataView so
 * that bit 31 never turns a number negative (docs/style.md §2.4).
 */

/** A DataView over exactly the bytes of `b` (respects `byteOffset`). */
export function viewOf(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * The buffer an encoder writes `length` bytes into at `offset`: `out`, or a
 * new buffer of exactly `length` bytes when `out` is omitted. Throws
 * `RangeError` ("`what`: output buffer too small") when they do not fit.
 */
export function outputBuffer(
  out: Uint8Array | undefined,
  offset: number,
  length: number,
  what: string,
): Uint8Array {
  const buf = out ?? new Uint8Array(length);
  if (offset < 0 || offset + length > buf.length) throw new RangeError(`${what}: output buffer too small`);
  return buf;
}

/** Big-endian unsigned 16-bit read. Caller has checked `off + 2 <= b.length`. */
export function u16(b: Uint8Array, off: number): number {
  return (b[off]! << 8) | b[off + 1]!;
}

/** Big-endian unsigned 32-bit read. Caller has checked `off + 4 <= b.length`. */
export function u32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

/** Big-endian 16-bit write. */
export function put16(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 8) & 0xff;
  b[off + 1] = v & 0xff;
}

/** Big-endian 32-bit write (any value, taken modulo 2^32). */
export function put32(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 24) & 0xff;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}

/**
 * Sequence-number arithmetic modulo 2^32 (RFC 1982 style), for GRE sequence
 * and acknowledgment numbers (RFC 2637 §4.3). Plain `<` on sequence numbers
 * is banned (docs/style.md §2.4): use these.
 */
export const seq32 = {
  /** `a + n` modulo 2^32. */
  add(a: number, n: number): number {
    return (a + n) >>> 0;
  },
  /** Signed distance `a - b` in (-2^31, 2^31]: positive when `a` is after `b`. */
  diff(a: number, b: number): number {
    return (a - b) | 0;
  },
  /** `a` is strictly before `b`. */
  lt(a: number, b: number): boolean {
    return ((a - b) | 0) < 0;
  },
  /** `a` is before or equal to `b`. */
  le(a: number, b: number): boolean {
    return ((a - b) | 0) <= 0;
  },
  /** `a` is strictly after `b`. */
  gt(a: number, b: number): boolean {
    return ((a - b) | 0) > 0;
  },
} as const;

/** Lower-case hex of `b` with no separators. */
export function toHex(b: Uint8Array, max = Number.POSITIVE_INFINITY): string {
  const n = Math.min(b.length, max);
  let s = '';
  for (let i = 0; i < n; i++) s += (b[i]! < 16 ? '0' : '') + b[i]!.toString(16);
  return n < b.length ? `${s}…` : s;
}

/** Parses hex, ignoring whitespace, `:` and `-`. Throws `TypeError` on odd length or a bad digit (test/config helper, not for network input). */
export function fromHex(s: string): Uint8Array {
  const clean = s.replace(/[\s:-]/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean))
    throw new TypeError(`bad hex string: ${s.slice(0, 40)}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Byte-wise equality (not constant time: use `crypto.timingSafeEqual` for secrets). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Concatenates byte arrays into a new one. Not for the hot path. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: false });
const latin1Decoder = new TextDecoder('latin1');

/** UTF-8 encode. */
export function utf8(s: string): Uint8Array {
  return textEncoder.encode(s);
}

/** UTF-8 decode; invalid sequences become U+FFFD (peer text is untrusted). */
export function fromUtf8(b: Uint8Array): string {
  return textDecoder.decode(b);
}

/** Decodes bytes one char per byte (for fixed-width ASCII fields such as PPTP host names). */
export function fromLatin1(b: Uint8Array): string {
  return latin1Decoder.decode(b);
}

/**
 * Reads a NUL-padded fixed-width ASCII field (RFC 2637 host name, vendor
 * string, phone number...): stops at the first NUL.
 */
export function readFixedString(b: Uint8Array, off: number, width: number): string {
  let end = off;
  const lim = off + width;
  while (end < lim && b[end] !== 0) end++;
  return fromLatin1(b.subarray(off, end));
}

/**
 * Writes `s` into a fixed-width field, NUL-padded. Characters are truncated
 * to 8 bits and the string is cut at `width` bytes.
 */
export function writeFixedString(b: Uint8Array, off: number, width: number, s: string): void {
  const n = Math.min(s.length, width);
  for (let i = 0; i < n; i++) b[off + i] = s.charCodeAt(i) & 0xff;
  b.fill(0, off + n, off + width);
}

/** Dotted-quad text of a 32-bit IPv4 address held as a number. */
export function ipv4ToString(a: number): string {
  return `${(a >>> 24) & 0xff}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
}

/** Parses a dotted quad into an unsigned 32-bit number; returns `undefined` when malformed. */
export function parseIpv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255) return undefined;
    v = v * 256 + o;
  }
  return v >>> 0;
}

/** IPv6 text form of 16 bytes, compressed as RFC 5952 §4 says (lower case, longest zero run → `::`). */
export function ipv6ToString(b: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push(u16(b, i));
  // RFC 5952 §4.2.3: the longest run of two or more zero groups, the first if tied.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (x: number) => x.toString(16);
  // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad.
  if (bestStart === 0 && bestLen === 5 && g[5] === 0xffff) return `::ffff:${ipv4ToString(u32(b, 12))}`;
  if (bestStart < 0) return g.map(hex).join(':');
  const head = g.slice(0, bestStart).map(hex).join(':');
  const tail = g
    .slice(bestStart + bestLen)
    .map(hex)
    .join(':');
  return `${head}::${tail}`;
}

/** Exhaustiveness check for `switch` over unions (docs/style.md §4). */
export function assertNever(x: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${String(x)}`);
}
