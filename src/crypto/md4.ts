/**
 * MD4 message digest (RFC 1320), used only where MS-CHAP needs it: the NT
 * password hash and the hash of that hash (RFC 2759 §8.3/§8.4, RFC 2433
 * §A.6, RFC 3079 §2.3/§3).
 *
 * Why our own: Node 20's OpenSSL 3 moved MD4 into the legacy provider, so
 * `createHash('md4')` throws ERR_OSSL_EVP_UNSUPPORTED unless the process is
 * started with `--openssl-legacy-provider`, which a library cannot demand of
 * its host. MD4 is 48 steps over 32-bit words; writing it from RFC 1320 §3
 * is smaller than a dependency and keeps `src/crypto` free of CommonJS
 * shims. It is checked against the RFC 1320 §A.5 test suite and, in tests,
 * against OpenSSL's legacy MD4 and the `js-md4` package (docs/crypto.md).
 *
 * MD4 is broken as a hash. It is used here only because the protocol fixes it.
 */

/** RFC 1320 §3.3: initial chaining values A, B, C, D. */
const INIT_A = 0x67452301;
const INIT_B = 0xefcdab89;
const INIT_C = 0x98badcfe;
const INIT_D = 0x10325476;

/** RFC 1320 §3.4: the constants added in rounds 2 and 3. */
const ROUND2 = 0x5a827999;
const ROUND3 = 0x6ed9eba1;

function rotl(x: number, s: number): number {
  return (x << s) | (x >>> (32 - s));
}

/** Processes one 64-byte block (`x` holds its 16 little-endian words). RFC 1320 §3.4. */
function block(h: Int32Array, x: Int32Array): void {
  let a = h[0]!;
  let b = h[1]!;
  let c = h[2]!;
  let d = h[3]!;

  // Round 1: F(X,Y,Z) = XY v not(X) Z; [abcd k s]: a = (a + F(b,c,d) + X[k]) <<< s.
  for (let i = 0; i < 16; i += 4) {
    a = rotl((a + ((b & c) | (~b & d)) + x[i]!) | 0, 3);
    d = rotl((d + ((a & b) | (~a & c)) + x[i + 1]!) | 0, 7);
    c = rotl((c + ((d & a) | (~d & b)) + x[i + 2]!) | 0, 11);
    b = rotl((b + ((c & d) | (~c & a)) + x[i + 3]!) | 0, 19);
  }
  // Round 2: G(X,Y,Z) = XY v XZ v YZ; words taken in column order 0,4,8,12, 1,5,9,13, ...
  for (let i = 0; i < 4; i++) {
    a = rotl((a + ((b & c) | (b & d) | (c & d)) + x[i]! + ROUND2) | 0, 3);
    d = rotl((d + ((a & b) | (a & c) | (b & c)) + x[i + 4]! + ROUND2) | 0, 5);
    c = rotl((c + ((d & a) | (d & b) | (a & b)) + x[i + 8]! + ROUND2) | 0, 9);
    b = rotl((b + ((c & d) | (c & a) | (d & a)) + x[i + 12]! + ROUND2) | 0, 13);
  }
  // Round 3: H(X,Y,Z) = X xor Y xor Z; word order 0,8,4,12, 2,10,6,14, 1,9,5,13, 3,11,7,15.
  for (const i of ROUND3_ORDER) {
    a = rotl((a + (b ^ c ^ d) + x[i]! + ROUND3) | 0, 3);
    d = rotl((d + (a ^ b ^ c) + x[i + 8]! + ROUND3) | 0, 9);
    c = rotl((c + (d ^ a ^ b) + x[i + 4]! + ROUND3) | 0, 11);
    b = rotl((b + (c ^ d ^ a) + x[i + 12]! + ROUND3) | 0, 15);
  }

  h[0] = (h[0]! + a) | 0;
  h[1] = (h[1]! + b) | 0;
  h[2] = (h[2]! + c) | 0;
  h[3] = (h[3]! + d) | 0;
}

/** Starting word of each group of four steps in round 3 (RFC 1320 §3.4). */
const ROUND3_ORDER = [0, 2, 1, 3] as const;

/**
 * MD4 digest of `data` (RFC 1320). Returns a new 16-byte array.
 *
 * Padding follows RFC 1320 §3.1–3.2: one 0x80 byte, zeros up to 56 mod 64,
 * then the message length in bits as a 64-bit little-endian number.
 */
export function md4(data: Uint8Array): Uint8Array {
  const h = new Int32Array([INIT_A, INIT_B, INIT_C, INIT_D]);
  const x = new Int32Array(16);
  const len = data.length;
  const full = len - (len % 64);
  for (let off = 0; off < full; off += 64) {
    for (let w = 0; w < 16; w++) {
      const p = off + 4 * w;
      x[w] = data[p]! | (data[p + 1]! << 8) | (data[p + 2]! << 16) | (data[p + 3]! << 24);
    }
    block(h, x);
  }
  // Final one or two blocks: the tail, 0x80, zeros, 64-bit bit length (little-endian).
  const rest = len - full;
  const tail = new Uint8Array(rest < 56 ? 64 : 128);
  tail.set(data.subarray(full));
  tail[rest] = 0x80;
  const bitsLow = (len * 8) >>> 0;
  const bitsHigh = Math.floor(len / 0x20000000) >>> 0; // len * 8 / 2^32
  const lenOff = tail.length - 8;
  for (let i = 0; i < 4; i++) {
    tail[lenOff + i] = (bitsLow >>> (8 * i)) & 0xff;
    tail[lenOff + 4 + i] = (bitsHigh >>> (8 * i)) & 0xff;
  }
  for (let off = 0; off < tail.length; off += 64) {
    for (let w = 0; w < 16; w++) {
      const p = off + 4 * w;
      x[w] = tail[p]! | (tail[p + 1]! << 8) | (tail[p + 2]! << 16) | (tail[p + 3]! << 24);
    }
    block(h, x);
  }
  // RFC 1320 §3.5: output A, B, C, D, low-order byte first.
  const out = new Uint8Array(16);
  for (let i = 0; i < 4; i++) {
    const v = h[i]!;
    out[4 * i] = v & 0xff;
    out[4 * i + 1] = (v >>> 8) & 0xff;
    out[4 * i + 2] = (v >>> 16) & 0xff;
    out[4 * i + 3] = (v >>> 24) & 0xff;
  }
  return out;
}
