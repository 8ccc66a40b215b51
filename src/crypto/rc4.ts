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
 * The state is an `Int32Array` and the loops are unrolled by four: both
 * measured faster in V8 than a `Uint8Array` state and a plain loop. The key
 * schedule of a key whose length is a power of two (MPPE's 8 and 16 bytes)
 * indexes the key with a mask instead of a wrapping counter (half the time).
 * On little-endian hosts the keystream is XORed into the data four bytes at
 * a time through an `Int32Array` view of the data's buffer (about a fifth
 * faster); the view is made once per buffer and kept for the next call,
 * which on the data path is nearly always the same buffer.
 *
 * RC4 is a broken cipher. PPTP fixes it; nothing else here should use it.
 */

/** Identity permutation, copied into the state at the start of every key schedule. */
const IDENTITY = Int32Array.from({ length: 256 }, (_, i) => i);

/** Whether 32-bit words are stored least significant byte first here (the word-wise XOR needs it). */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** The last buffer {@link Rc4.process} made a word view of, and that view (one entry, shared). */
let viewedBuffer: ArrayBufferLike | undefined;
let wordView: Int32Array = new Int32Array(0);

/** An `Int32Array` over all whole words of `buffer` (cached for the next call). */
function wordsOf(buffer: ArrayBufferLike): Int32Array {
  if (buffer !== viewedBuffer) {
    wordView = new Int32Array(buffer, 0, buffer.byteLength >>> 2);
    viewedBuffer = buffer;
  }
  return wordView;
}

/** Packets shorter than this are XORed byte by byte (no word view for a handful of bytes). */
const WORD_XOR_MIN_BYTES = 32;

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
    if ((length & (length - 1)) === 0) {
      // Power-of-two length: key[i mod length] is key[i & mask].
      const mask = length - 1;
      for (let i = 0; i < 256; i += 4) {
        let t = s[i]!;
        j = (j + t + key[offset + (i & mask)]!) & 0xff;
        s[i] = s[j]!;
        s[j] = t;
        t = s[i + 1]!;
        j = (j + t + key[offset + ((i + 1) & mask)]!) & 0xff;
        s[i + 1] = s[j]!;
        s[j] = t;
        t = s[i + 2]!;
        j = (j + t + key[offset + ((i + 2) & mask)]!) & 0xff;
        s[i + 2] = s[j]!;
        s[j] = t;
        t = s[i + 3]!;
        j = (j + t + key[offset + ((i + 3) & mask)]!) & 0xff;
        s[i + 3] = s[j]!;
        s[j] = t;
      }
    } else {
      let k = offset;
      const kEnd = offset + length;
      for (let i = 0; i < 256; i++) {
        const t = s[i]!;
        j = (j + t + key[k]!) & 0xff;
        if (++k === kEnd) k = offset;
        s[i] = s[j]!;
        s[j] = t;
      }
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
    if (LITTLE_ENDIAN && end - start >= WORD_XOR_MIN_BYTES) this.processWords(data, start, end);
    else this.processBytes(data, start, end);
  }

  /** {@link process} a byte at a time. */
  private processBytes(data: Uint8Array, start: number, end: number): void {
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

  /**
   * {@link process} a 32-bit word at a time where the data is word-aligned
   * in its buffer (little-endian: keystream byte n goes to bits 8n..8n+7);
   * the unaligned head and the tail bytes one by one.
   */
  private processWords(data: Uint8Array, start: number, end: number): void {
    const head = (4 - ((data.byteOffset + start) & 3)) & 3;
    const words = (end - start - head) >>> 2;
    const mid = start + head;
    if (head > 0) this.processBytes(data, start, mid);
    const w = wordsOf(data.buffer);
    const s = this.s;
    let i = this.i;
    let j = this.j;
    let wi = (data.byteOffset + mid) >>> 2;
    const wEnd = wi + words;
    for (; wi < wEnd; wi++) {
      i = (i + 1) & 0xff;
      let si = s[i]!;
      j = (j + si) & 0xff;
      let sj = s[j]!;
      s[i] = sj;
      s[j] = si;
      let k = s[(si + sj) & 0xff]!;
      i = (i + 1) & 0xff;
      si = s[i]!;
      j = (j + si) & 0xff;
      sj = s[j]!;
      s[i] = sj;
      s[j] = si;
      k |= s[(si + sj) & 0xff]! << 8;
      i = (i + 1) & 0xff;
      si = s[i]!;
      j = (j + si) & 0xff;
      sj = s[j]!;
      s[i] = sj;
      s[j] = si;
      k |= s[(si + sj) & 0xff]! << 16;
      i = (i + 1) & 0xff;
      si = s[i]!;
      j = (j + si) & 0xff;
      sj = s[j]!;
      s[i] = sj;
      s[j] = si;
      k |= s[(si + sj) & 0xff]! << 24;
      w[wi] ^= k;
    }
    this.i = i;
    this.j = j;
    const tail = mid + (words << 2);
    if (tail < end) this.processBytes(data, tail, end);
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
