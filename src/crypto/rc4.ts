/**
 * RC4 stream cipher, as MPPE uses it (RFC 3078 §5–§7) and MS-CHAP's
 * password-change blocks describe it (RFC 2759 §8.11 Rc4Encrypt).
 *
 * Why our own: Node 20's OpenSSL 3 only offers RC4 through the legacy
 * provider, and an OpenSSL cipher object cannot be re-keyed in place (MPPE
 * re-keys on every packet in stateless mode), so each key change would
 * allocate a new `Cipher`. This one keeps its 256-entry state in one
 * reused array: {@link Rc4.setKey} and {@link Rc4.process} never allocate.
 * docs/crypto.md compares its throughput with OpenSSL's legacy RC4.
 *
 * The state is an `Int32Array` and the byte loop is unrolled by four: both
 * measured faster in V8 than a `Uint8Array` state and a plain loop.
 *
 * RC4 is a broken cipher. PPTP fixes it; nothing else here should use it.
 */

/** Identity permutation, copied into the state at the start of every key schedule. */
const IDENTITY = Int32Array.from({ length: 256 }, (_, i) => i);

/** An RC4 keystream generator with reusable state. */
export class Rc4 {
  private readonly s = new Int32Array(256);
  private i = 0;
  private j = 0;

  /** Creates a generator keyed with `key` (1–256 bytes), or unkeyed (call {@link setKey} before use). */
  constructor(key?: Uint8Array) {
    if (key) this.setKey(key);
    else this.s.set(IDENTITY);
  }

  /**
   * Runs the key-scheduling algorithm over `key[offset..offset+length)`
   * (1–256 bytes) and resets the stream position. Allocation-free.
   */
  setKey(key: Uint8Array, offset = 0, length = key.length - offset): void {
    if (length < 1 || length > 256 || offset < 0 || offset + length > key.length) {
      throw new RangeError(
        `RC4 key must be 1..256 bytes inside the buffer (offset ${offset}, length ${length})`,
      );
    }
    const s = this.s;
    s.set(IDENTITY);
    let j = 0;
    let k = offset;
    const kEnd = offset + length;
    for (let i = 0; i < 256; i++) {
      const t = s[i]!;
      j = (j + t + key[k]!) & 0xff;
      if (++k === kEnd) k = offset;
      s[i] = s[j]!;
      s[j] = t;
    }
    this.i = 0;
    this.j = 0;
  }

  /** Makes this generator an exact copy of `other` (state and stream position). Allocation-free. */
  copyFrom(other: Rc4): void {
    this.s.set(other.s);
    this.i = other.i;
    this.j = other.j;
  }

  /** XORs the next `end - start` keystream bytes into `data[start..end)` (encrypts or decrypts in place). */
  process(data: Uint8Array, start = 0, end = data.length): void {
    const s = this.s;
    let i = this.i;
    let j = this.j;
    let p = start;
    const end4 = end - 3;
    for (; p < end4; p += 4) {
      i = (i + 1) & 0xff;
      let si = s[i]!;
      j = (j + si) & 0xff;
      let sj = s[j]!;
      s[i] = sj;
      s[j] = si;
      data[p] ^= s[(si + sj) & 0xff]!;
      i = (i + 1) & 0xff;
      si = s[i]!;
      j = (j + si) & 0xff;
      sj = s[j]!;
      s[i] = sj;
      s[j] = si;
      data[p + 1] ^= s[(si + sj) & 0xff]!;
      i = (i + 1) & 0xff;
      si = s[i]!;
      j = (j + si) & 0xff;
      sj = s[j]!;
      s[i] = sj;
      s[j] = si;
      data[p + 2] ^= s[(si + sj) & 0xff]!;
      i = (i + 1) & 0xff;
      si = s[i]!;
      j = (j + si) & 0xff;
      sj = s[j]!;
      s[i] = sj;
      s[j] = si;
      data[p + 3] ^= s[(si + sj) & 0xff]!;
    }
    for (; p < end; p++) {
      i = (i + 1) & 0xff;
      const si = s[i]!;
      j = (j + si) & 0xff;
      const sj = s[j]!;
      s[i] = sj;
      s[j] = si;
      data[p] ^= s[(si + sj) & 0xff]!;
    }
    this.i = i;
    this.j = j;
  }
}

/**
 * RFC 2759 §8.11 Rc4Encrypt(): a fresh RC4 keyed with `key` applied to a
 * copy of `clear`. Returns the new ciphertext array. Not for the hot path.
 */
export function rc4Encrypt(clear: Uint8Array, key: Uint8Array): Uint8Array {
  const out = clear.slice();
  new Rc4(key).process(out);
  return out;
}
