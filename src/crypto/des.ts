/**
 * Single-block DES for MS-CHAP (RFC 2759 §8.5–8.6, RFC 2433 §A.3–A.4,
 * §A.7): `DesEncrypt(Clear, 7-octet Key)`.
 *
 * RFC 2759 §8.6: "the DES algorithm takes as input a 64-bit stream where the
 * 8th, 16th, 24th, etc. bits are parity bits ignored by the encrypting
 * algorithm. Unless you write your own DES to accept 56-bit input without
 * parity, you will need to insert the parity bits yourself." We do exactly
 * that ({@link desExpandKey}) and hand the 8-byte key to `des.js`.
 *
 * Why `des.js`: Node 20's OpenSSL 3 only offers DES through the legacy
 * provider (`--openssl-legacy-provider`), which a library cannot require.
 * `des.js` is the pure-JS DES behind browserify's `crypto` shim (widely
 * deployed, maintained, MIT). It passes the RFC 2759/2433 vectors and is
 * compared with OpenSSL's legacy DES in the tests (docs/crypto.md).
 */
import desjs from 'des.js';

/**
 * Spreads 56 key bits over 8 bytes (7 bits each, most significant first)
 * and sets each byte's low bit so that the byte has odd parity
 * (RFC 2759 §9.3 "Example of DES Key Generation"). Returns a new array.
 */
export function desExpandKey(key7: Uint8Array): Uint8Array {
  if (key7.length !== 7) throw new RangeError(`DES key must be 7 bytes, got ${key7.length}`);
  const out = new Uint8Array(8);
  // Take the 56 bits as a big-endian bit string and cut it into 7-bit groups.
  let acc = 0;
  let accBits = 0;
  let k = 0;
  for (let i = 0; i < 8; i++) {
    while (accBits < 7) {
      acc = ((acc << 8) | key7[k++]!) & 0x7fff;
      accBits += 8;
    }
    const seven = (acc >>> (accBits - 7)) & 0x7f;
    accBits -= 7;
    out[i] = withOddParity(seven << 1);
  }
  return out;
}

/** Sets bit 0 of `b` so that the byte has an odd number of 1 bits. */
function withOddParity(b: number): number {
  let ones = 0;
  for (let v = b >>> 1; v !== 0; v >>>= 1) ones += v & 1;
  return (b & 0xfe) | (ones % 2 === 0 ? 1 : 0);
}

/**
 * RFC 2759 §8.6 DesEncrypt(): DES-ECB of one 8-byte block under a 7-byte
 * key (parity inserted here). Returns a new 8-byte array.
 */
export function desEncrypt(clear: Uint8Array, key7: Uint8Array): Uint8Array {
  if (clear.length !== 8) throw new RangeError(`DES block must be 8 bytes, got ${clear.length}`);
  return desEncryptBlock(clear, desExpandKey(key7));
}

/** DES-ECB of one 8-byte block under an 8-byte key (parity bits ignored). Returns a new array. */
export function desEncryptBlock(clear: Uint8Array, key8: Uint8Array): Uint8Array {
  if (clear.length !== 8) throw new RangeError(`DES block must be 8 bytes, got ${clear.length}`);
  if (key8.length !== 8) throw new RangeError(`DES key must be 8 bytes, got ${key8.length}`);
  const cipher = desjs.DES.create({ type: 'encrypt', key: key8, padding: false });
  const out = Uint8Array.from(cipher.update(clear));
  if (out.length !== 8) throw new Error('des.js returned a short block');
  return out;
}
