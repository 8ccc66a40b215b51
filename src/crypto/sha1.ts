/**
 * SHA-1 (FIPS 180-1), as MS-CHAPv2 and MPPE use it (RFC 2759 §8.2/§8.7,
 * RFC 3078 §7.3, RFC 3079 §2.4/§3.4).
 *
 * Two forms, one implementation of our own:
 *  - {@link Sha1}: an allocation-free incremental hasher, for the MPPE key
 *    change that runs on every packet in stateless mode. A `createHash()`
 *    object per packet costs an allocation and a trip into C++ for four
 *    tiny updates; for these ~100-byte inputs the JS version measures
 *    faster and produces no garbage (docs/crypto.md has figures).
 *  - {@link sha1}: one-shot over several parts, on one shared {@link Sha1},
 *    for authentication and key derivation. They run a few times per
 *    session set-up, which a login storm makes a hot path too: 0.7 µs a
 *    call against 2.1 µs for `createHash('sha1')` (warm, three parts of
 *    16-39 bytes, as in RFC 2759 §8.7).
 *
 * SHA-1 is broken for collisions; MPPE fixes it and only needs it as a PRF.
 */
/** Digest size in bytes. */
export const SHA1_DIGEST_LENGTH = 20;

/** One-shot SHA-1 of the concatenation of `parts`. Returns a new 20-byte array. */
export function sha1(...parts: readonly Uint8Array[]): Uint8Array {
  shared ??= new Sha1();
  const h = shared;
  h.reset();
  for (const p of parts) h.update(p);
  const out = new Uint8Array(SHA1_DIGEST_LENGTH);
  h.digestInto(out, 0);
  return out;
}

/** The hasher behind {@link sha1} (made on first use: the class is defined below). */
let shared: Sha1 | undefined;

/** FIPS 180-1 §7: initial H0..H4. */
const H0 = 0x67452301;
const H1 = 0xefcdab89;
const H2 = 0x98badcfe;
const H3 = 0x10325476;
const H4 = 0xc3d2e1f0;

/**
 * Incremental SHA-1 that never allocates after construction. Usage:
 * `reset()`, any number of `update()`, then `digestInto(out, offset)`.
 * Messages up to 2^53 bits: far beyond anything MPPE hashes.
 */
export class Sha1 {
  private readonly h = new Int32Array(5);
  private readonly w = new Int32Array(16);
  private readonly block = new Uint8Array(64);
  private blockLength = 0;
  private totalLength = 0;

  constructor() {
    this.reset();
  }

  /** Starts a new message. */
  reset(): void {
    const h = this.h;
    h[0] = H0;
    h[1] = H1;
    h[2] = H2;
    h[3] = H3;
    h[4] = H4;
    this.blockLength = 0;
    this.totalLength = 0;
  }

  /** Appends `data[start..end)`. */
  update(data: Uint8Array, start = 0, end = data.length): void {
    const block = this.block;
    this.totalLength += end - start;
    let p = start;
    let n = this.blockLength;
    if (n > 0) {
      while (n < 64 && p < end) block[n++] = data[p++]!;
      if (n < 64) {
        this.blockLength = n;
        return;
      }
      this.compress(block, 0);
      n = 0;
    }
    while (end - p >= 64) {
      this.compress(data, p);
      p += 64;
    }
    while (p < end) block[n++] = data[p++]!;
    this.blockLength = n;
  }

  /** Appends `n` copies of `byte` (MPPE's SHApad1/SHApad2 without storing them). */
  updateRepeated(byte: number, n: number): void {
    const block = this.block;
    for (let k = 0; k < n; k++) {
      block[this.blockLength++] = byte;
      if (this.blockLength === 64) {
        this.compress(block, 0);
        this.blockLength = 0;
      }
    }
    this.totalLength += n;
  }

  /** Finishes the message and writes the 20-byte digest to `out[offset..offset+20)`. */
  digestInto(out: Uint8Array, offset = 0): void {
    const block = this.block;
    const bits = this.totalLength * 8;
    let n = this.blockLength;
    block[n++] = 0x80;
    if (n > 56) {
      block.fill(0, n, 64);
      this.compress(block, 0);
      n = 0;
    }
    block.fill(0, n, 56);
    const hi = Math.floor(bits / 0x100000000);
    const lo = bits >>> 0;
    block[56] = hi >>> 24;
    block[57] = (hi >>> 16) & 0xff;
    block[58] = (hi >>> 8) & 0xff;
    block[59] = hi & 0xff;
    block[60] = lo >>> 24;
    block[61] = (lo >>> 16) & 0xff;
    block[62] = (lo >>> 8) & 0xff;
    block[63] = lo & 0xff;
    this.compress(block, 0);
    const h = this.h;
    for (let i = 0; i < 5; i++) {
      const v = h[i]!;
      out[offset + 4 * i] = v >>> 24;
      out[offset + 4 * i + 1] = (v >>> 16) & 0xff;
      out[offset + 4 * i + 2] = (v >>> 8) & 0xff;
      out[offset + 4 * i + 3] = v & 0xff;
    }
    this.reset();
  }

  /** FIPS 180-1 §7 method 1, on the 64 bytes at `data[p..p+64)`. */
  private compress(data: Uint8Array, p: number): void {
    compressBlock(this.h, this.w, data, p);
  }
}

/**
 * FIPS 180-1 §7 method 2 ("a method that saves 64 32-bit words of
 * storage"): folds the 64 bytes at `data[p..p+64)` into `h`, keeping only a
 * 16-word circular schedule in `w`, each word expanded when its round needs
 * it: W[s] = S^1(W[(s+13) & 15] XOR W[(s+8) & 15] XOR W[(s+2) & 15] XOR W[s]),
 * s = t & 15. Measured ~25 % faster in V8 than expanding all 80 words first
 * (and slower again when the expansion is a function of its own).
 */
function compressBlock(h: Int32Array, w: Int32Array, data: Uint8Array, p: number): void {
  for (let t = 0; t < 16; t++) {
    const q = p + 4 * t;
    w[t] = (data[q]! << 24) | (data[q + 1]! << 16) | (data[q + 2]! << 8) | data[q + 3]!;
  }
  let a = h[0]!;
  let b = h[1]!;
  let c = h[2]!;
  let d = h[3]!;
  let e = h[4]!;
  let t = 0;
  for (; t < 16; t++) {
    const tmp = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + w[t]! + 0x5a827999) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = tmp;
  }
  for (; t < 20; t++) {
    const x = w[(t + 13) & 15]! ^ w[(t + 8) & 15]! ^ w[(t + 2) & 15]! ^ w[t & 15]!;
    const wt = (x << 1) | (x >>> 31);
    w[t & 15] = wt;
    const tmp = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + wt + 0x5a827999) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = tmp;
  }
  for (; t < 40; t++) {
    const x = w[(t + 13) & 15]! ^ w[(t + 8) & 15]! ^ w[(t + 2) & 15]! ^ w[t & 15]!;
    const wt = (x << 1) | (x >>> 31);
    w[t & 15] = wt;
    const tmp = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + wt + 0x6ed9eba1) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = tmp;
  }
  for (; t < 60; t++) {
    const x = w[(t + 13) & 15]! ^ w[(t + 8) & 15]! ^ w[(t + 2) & 15]! ^ w[t & 15]!;
    const wt = (x << 1) | (x >>> 31);
    w[t & 15] = wt;
    const tmp = (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e + wt + 0x8f1bbcdc) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = tmp;
  }
  for (; t < 80; t++) {
    const x = w[(t + 13) & 15]! ^ w[(t + 8) & 15]! ^ w[(t + 2) & 15]! ^ w[t & 15]!;
    const wt = (x << 1) | (x >>> 31);
    w[t & 15] = wt;
    const tmp = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + wt + 0xca62c1d6) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = tmp;
  }
  h[0] = (h[0]! + a) | 0;
  h[1] = (h[1]! + b) | 0;
  h[2] = (h[2]! + c) | 0;
  h[3] = (h[3]! + d) | 0;
  h[4] = (h[4]! + e) | 0;
}

/** Bytes of SHApad1 and of SHApad2 (RFC 3078 §7.3, RFC 3079 §2.4). */
const SHA_PAD_LENGTH = 40;

/**
 * The whole padded message of {@link getNewKeyDigest} for one key length,
 * in 64-byte blocks: everything but the two keys is constant (SHApad1 zeros,
 * SHApad2 0xF2, the 0x80 terminator, the bit length), so only the keys are
 * written per call. Made on first use per length.
 */
const keyChangeMessages = new Map<number, Uint8Array>();

/** The message of the last call (MPPE uses one key length per process, nearly always). */
let lastMessageLength = 0;
let lastMessage: Uint8Array = new Uint8Array(0);

function keyChangeMessage(n: number): Uint8Array {
  if (n === lastMessageLength) return lastMessage;
  let m = keyChangeMessages.get(n);
  if (m === undefined) {
    const length = 2 * n + 2 * SHA_PAD_LENGTH;
    m = new Uint8Array(Math.ceil((length + 9) / 64) * 64);
    m.fill(0xf2, 2 * n + SHA_PAD_LENGTH, length);
    m[length] = 0x80;
    const bits = length * 8;
    m[m.length - 4] = bits >>> 24;
    m[m.length - 3] = (bits >>> 16) & 0xff;
    m[m.length - 2] = (bits >>> 8) & 0xff;
    m[m.length - 1] = bits & 0xff;
    keyChangeMessages.set(n, m);
  }
  lastMessageLength = n;
  lastMessage = m;
  return m;
}

const keyChangeH = new Int32Array(5);
const keyChangeW = new Int32Array(16);

/**
 * SHA-1(StartKey ‖ SHApad1 ‖ SessionKey ‖ SHApad2), the digest in MPPE's
 * GetNewKeyFromSHA (RFC 3078 §7.3, RFC 3079 §2.4/§3.4), with `n`-byte keys
 * at `startKey[startOffset..)` and `sessionKey[sessionOffset..)`, written to
 * `out[outOffset..outOffset+20)`. The same bytes as {@link Sha1} over those
 * four parts, without its buffering: the stateless MPPE key change runs it
 * for every packet. Allocation-free after the first call per `n`; not
 * re-entrant (nothing here calls back).
 */
export function getNewKeyDigest(
  startKey: Uint8Array,
  startOffset: number,
  sessionKey: Uint8Array,
  sessionOffset: number,
  n: number,
  out: Uint8Array,
  outOffset = 0,
): void {
  if (
    !Number.isInteger(n) ||
    n < 1 ||
    n > 64 ||
    startOffset < 0 ||
    startOffset + n > startKey.length ||
    sessionOffset < 0 ||
    sessionOffset + n > sessionKey.length ||
    outOffset < 0 ||
    outOffset + SHA1_DIGEST_LENGTH > out.length
  ) {
    throw new RangeError('getNewKeyDigest: keys or output out of range');
  }
  const m = keyChangeMessage(n);
  const s = n + SHA_PAD_LENGTH;
  for (let i = 0; i < n; i++) {
    m[i] = startKey[startOffset + i]!;
    m[s + i] = sessionKey[sessionOffset + i]!;
  }
  const h = keyChangeH;
  h[0] = H0;
  h[1] = H1;
  h[2] = H2;
  h[3] = H3;
  h[4] = H4;
  for (let p = 0; p < m.length; p += 64) compressBlock(h, keyChangeW, m, p);
  // The keys do not stay in the shared message, schedule or state (loops:
  // cheaper than fill() calls for a few bytes).
  for (let i = 0; i < n; i++) {
    m[i] = 0;
    m[s + i] = 0;
  }
  const w = keyChangeW;
  for (let i = 0; i < 16; i++) w[i] = 0;
  for (let i = 0; i < 5; i++) {
    const v = h[i]!;
    h[i] = 0;
    out[outOffset + 4 * i] = v >>> 24;
    out[outOffset + 4 * i + 1] = (v >>> 16) & 0xff;
    out[outOffset + 4 * i + 2] = (v >>> 8) & 0xff;
    out[outOffset + 4 * i + 3] = v & 0xff;
  }
}
