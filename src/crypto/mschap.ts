/**
 * MS-CHAP password hashes and MS-CHAPv1 responses (RFC 2433 Appendix A),
 * shared with MS-CHAPv2 (RFC 2759 §8) and MPPE key derivation (RFC 3079).
 *
 * Passwords are JavaScript strings. RFC 2433 §6: "The Windows NT password
 * is a string of 0 to (theoretically) 256 case-sensitive Unicode
 * characters"; they are hashed as UTF-16LE code units (what Windows calls
 * Unicode), with no terminating zero (RFC 2759 §8.3).
 *
 * Secrets: every function here takes or returns password material. Never
 * log arguments or results.
 */
import { desEncrypt } from './des.js';
import { md4 } from './md4.js';

/** RFC 2759 §8.1: passwords are "0-to-256-unicode-char". */
export const MAX_NT_PASSWORD_CHARS = 256;

/** RFC 2433 §6: "LAN Manager passwords are limited to 14 case-insensitive OEM characters." */
export const MAX_LM_PASSWORD_CHARS = 14;

/** Length of a challenge response (RFC 2433 §6, RFC 2759 §4). */
export const CHALLENGE_RESPONSE_LENGTH = 24;

/**
 * The password as Windows hashes it: UTF-16 little-endian code units, no
 * terminator (RFC 2759 §9.2 shows "clientPass" as 63 00 6C 00 ...).
 * Throws RangeError above 256 characters (RFC 2759 §8.1).
 */
export function unicodePassword(password: string): Uint8Array {
  if (password.length > MAX_NT_PASSWORD_CHARS) {
    throw new RangeError(`MS-CHAP password longer than ${MAX_NT_PASSWORD_CHARS} characters`);
  }
  const out = new Uint8Array(password.length * 2);
  for (let i = 0; i < password.length; i++) {
    const u = password.charCodeAt(i);
    out[2 * i] = u & 0xff;
    out[2 * i + 1] = u >>> 8;
  }
  return out;
}

/**
 * RFC 2759 §8.3 / RFC 2433 §A.6 NtPasswordHash(): MD4 of the Unicode
 * password. Returns a new 16-byte array (the "NT hash").
 */
export function ntPasswordHash(password: string): Uint8Array {
  return md4(unicodePassword(password));
}

/** RFC 2759 §8.4 HashNtPasswordHash(): MD4 of the 16-byte NT hash. Returns a new 16-byte array. */
export function hashNtPasswordHash(passwordHash: Uint8Array): Uint8Array {
  checkLength(passwordHash, 16, 'PasswordHash');
  return md4(passwordHash);
}

/** RFC 2433 §A.3: the known text DesHash() encrypts. */
const LM_MAGIC = new Uint8Array([0x4b, 0x47, 0x53, 0x21, 0x40, 0x23, 0x24, 0x25]); // "KGS!@#$%"

/**
 * RFC 2433 §A.2 LmPasswordHash(): the LAN Manager hash. The password is
 * upper-cased, cut or zero-padded to 14 characters, and each 7-byte half
 * keys a DES encryption of "KGS!@#$%" (§A.3 DesHash).
 *
 * "OEM characters" depend on a Windows code page we do not know, so only
 * ASCII letters are upper-cased and each character is taken modulo 256
 * (exact for ASCII passwords, which is what LM-era peers used). Characters
 * past the 14th are ignored, as pppd does. Returns a new 16-byte array.
 */
export function lmPasswordHash(password: string): Uint8Array {
  const ucase = new Uint8Array(MAX_LM_PASSWORD_CHARS);
  const n = Math.min(password.length, MAX_LM_PASSWORD_CHARS);
  for (let i = 0; i < n; i++) {
    let c = password.charCodeAt(i) & 0xff;
    if (c >= 0x61 && c <= 0x7a) c -= 0x20;
    ucase[i] = c;
  }
  const out = new Uint8Array(16);
  out.set(desEncrypt(LM_MAGIC, ucase.subarray(0, 7)), 0);
  out.set(desEncrypt(LM_MAGIC, ucase.subarray(7, 14)), 8);
  return out;
}

/**
 * RFC 2759 §8.5 / RFC 2433 §A.7 ChallengeResponse(): the 16-byte hash,
 * zero-padded to 21 bytes, gives three 7-byte DES keys; each encrypts the
 * 8-byte challenge. Returns a new 24-byte array.
 */
export function challengeResponse(challenge: Uint8Array, passwordHash: Uint8Array): Uint8Array {
  checkLength(challenge, 8, 'Challenge');
  checkLength(passwordHash, 16, 'PasswordHash');
  const z = new Uint8Array(21);
  z.set(passwordHash);
  const out = new Uint8Array(CHALLENGE_RESPONSE_LENGTH);
  out.set(desEncrypt(challenge, z.subarray(0, 7)), 0);
  out.set(desEncrypt(challenge, z.subarray(7, 14)), 8);
  out.set(desEncrypt(challenge, z.subarray(14, 21)), 16);
  return out;
}

/** RFC 2433 §A.5 NtChallengeResponse() for a password. Returns a new 24-byte array. */
export function ntChallengeResponse(challenge: Uint8Array, password: string): Uint8Array {
  return challengeResponse(challenge, ntPasswordHash(password));
}

/**
 * RFC 2433 §A.1 LmChallengeResponse(). RFC 2433 §6: "use of the LAN
 * Manager compatible challenge response has been deprecated; peers SHOULD
 * NOT generate it, and the sub-field SHOULD be zero-filled." Provided for
 * authenticators that must verify old peers. Returns a new 24-byte array.
 */
export function lmChallengeResponse(challenge: Uint8Array, password: string): Uint8Array {
  return challengeResponse(challenge, lmPasswordHash(password));
}

/** Throws RangeError unless `b` is exactly `n` bytes (programming errors, not network input). */
export function checkLength(b: Uint8Array, n: number, what: string): void {
  if (b.length !== n) throw new RangeError(`${what} must be ${n} bytes, got ${b.length}`);
}
