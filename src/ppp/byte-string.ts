/**
 * Short byte strings kept as JS strings, one character per byte
 * (U+0000..U+00FF): the automaton holds two of them for as long as a link
 * lives, and a one-byte string costs far less heap than a typed array
 * (figures in docs/performance.md, "PPP automaton memory").
 */

/** The empty byte string, shared (an empty typed array still costs about 200 bytes of heap). Never written to. */
const NO_BYTES = new Uint8Array(0);

/**
 * `bytes` as a string of one character per byte (U+0000..U+00FF).
 * `apply` with the typed array reads it as an array-like; the spread
 * syntax would walk an iterator instead, about five times slower for the
 * short packets kept here (0.2 against 1.2 µs for 60 bytes), and this
 * runs for every authenticated link.
 */
export function toLatin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 4096) {
    const chunk = bytes.subarray(i, Math.min(bytes.length, i + 4096));
    s += String.fromCharCode.apply(null, chunk as unknown as number[]);
  }
  return s;
}

/** The bytes of a {@link toLatin1} string. */
export function fromLatin1Text(s: string): Uint8Array {
  if (s.length === 0) return NO_BYTES;
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

/** Whether `bytes` are the bytes of the {@link toLatin1} string `s`. */
export function latin1Equals(bytes: Uint8Array, s: string): boolean {
  if (bytes.length !== s.length) return false;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== s.charCodeAt(i)) return false;
  return true;
}
