/**
 * MS-CHAPv2 computations (RFC 2759 §8): the peer's NT-Response, the
 * authenticator's "S=" response, and its check by the peer (mutual
 * authentication), plus the §8.9–8.13 password-change blocks.
 *
 * Each function that takes a password has a `...FromHash` twin taking the
 * 16-byte NT hash instead, for authenticators that store only hashes (as
 * pppd and RADIUS servers can).
 *
 * Secrets: never log arguments or results.
 */
import { timingSafeEqual } from 'node:crypto';
import { desEncrypt } from './des.js';
import {
  challengeResponse,
  checkLength,
  hashNtPasswordHash,
  ntPasswordHash,
  unicodePassword,
} from './mschap.js';
import { Rc4 } from './rc4.js';
import { sha1 } from './sha1.js';

/** RFC 2759 §8.7 Magic1: "Magic server to client signing constant". */
const MAGIC1 = new TextEncoder().encode('Magic server to client signing constant');
/** RFC 2759 §8.7 Magic2: "Pad to make it do more than one iteration". */
const MAGIC2 = new TextEncoder().encode('Pad to make it do more than one iteration');

/** Length of the authenticator response "S=" + 40 hex digits (RFC 2759 §5). */
export const AUTHENTICATOR_RESPONSE_LENGTH = 42;

/**
 * The user name bytes ChallengeHash() hashes. RFC 2759 §8.2: "Only the
 * user name (as presented by the peer and excluding any prepended domain
 * name) is used" — so everything up to the last backslash of
 * `DOMAIN\user` is dropped (pppd does the same). Strings are UTF-8 encoded;
 * pass the Name field's bytes to hash exactly what was on the wire.
 */
export function challengeHashUserName(userName: Uint8Array | string): Uint8Array {
  const b = typeof userName === 'string' ? new TextEncoder().encode(userName) : userName;
  const slash = b.lastIndexOf(0x5c);
  return slash < 0 ? b : b.subarray(slash + 1);
}

/**
 * RFC 2759 §8.2 ChallengeHash(): the first 8 bytes of
 * SHA1(PeerChallenge | AuthenticatorChallenge | UserName). Returns a new array.
 */
export function challengeHash(
  peerChallenge: Uint8Array,
  authenticatorChallenge: Uint8Array,
  userName: Uint8Array | string,
): Uint8Array {
  checkLength(peerChallenge, 16, 'PeerChallenge');
  checkLength(authenticatorChallenge, 16, 'AuthenticatorChallenge');
  return sha1(peerChallenge, authenticatorChallenge, challengeHashUserName(userName)).slice(0, 8);
}

/** RFC 2759 §8.1 GenerateNTResponse() for a password. Returns a new 24-byte array. */
export function generateNtResponse(
  authenticatorChallenge: Uint8Array,
  peerChallenge: Uint8Array,
  userName: Uint8Array | string,
  password: string,
): Uint8Array {
  return generateNtResponseFromHash(
    authenticatorChallenge,
    peerChallenge,
    userName,
    ntPasswordHash(password),
  );
}

/** RFC 2759 §8.1 GenerateNTResponse() from the 16-byte NT hash. Returns a new 24-byte array. */
export function generateNtResponseFromHash(
  authenticatorChallenge: Uint8Array,
  peerChallenge: Uint8Array,
  userName: Uint8Array | string,
  passwordHash: Uint8Array,
): Uint8Array {
  const challenge = challengeHash(peerChallenge, authenticatorChallenge, userName);
  return challengeResponse(challenge, passwordHash);
}

/**
 * RFC 2759 §8.7 GenerateAuthenticatorResponse() for a password: the 42
 * ASCII characters "S=" followed by 40 upper-case hex digits.
 */
export function generateAuthenticatorResponse(
  password: string,
  ntResponse: Uint8Array,
  peerChallenge: Uint8Array,
  authenticatorChallenge: Uint8Array,
  userName: Uint8Array | string,
): string {
  return generateAuthenticatorResponseFromHash(
    ntPasswordHash(password),
    ntResponse,
    peerChallenge,
    authenticatorChallenge,
    userName,
  );
}

/** RFC 2759 §8.7 GenerateAuthenticatorResponse() from the 16-byte NT hash. */
export function generateAuthenticatorResponseFromHash(
  passwordHash: Uint8Array,
  ntResponse: Uint8Array,
  peerChallenge: Uint8Array,
  authenticatorChallenge: Uint8Array,
  userName: Uint8Array | string,
): string {
  return `S=${hex(authenticatorDigest(passwordHash, ntResponse, peerChallenge, authenticatorChallenge, userName))}`;
}

/** The 20-byte digest behind the "S=" string (RFC 2759 §8.7). */
function authenticatorDigest(
  passwordHash: Uint8Array,
  ntResponse: Uint8Array,
  peerChallenge: Uint8Array,
  authenticatorChallenge: Uint8Array,
  userName: Uint8Array | string,
): Uint8Array {
  checkLength(ntResponse, 24, 'NT-Response');
  const passwordHashHash = hashNtPasswordHash(passwordHash);
  const digest = sha1(passwordHashHash, ntResponse, MAGIC1);
  const challenge = challengeHash(peerChallenge, authenticatorChallenge, userName);
  return sha1(digest, challenge, MAGIC2);
}

/**
 * RFC 2759 §8.8 CheckAuthenticatorResponse() for a password: true when
 * `received` (the 42 characters of the Success message's "S=" field, as
 * a string or bytes) matches what the authenticator must have computed.
 * Hex digits are compared case-insensitively, the digests in constant time.
 * Anything that is not "S=" + 40 hex digits is false.
 */
export function checkAuthenticatorResponse(
  password: string,
  ntResponse: Uint8Array,
  peerChallenge: Uint8Array,
  authenticatorChallenge: Uint8Array,
  userName: Uint8Array | string,
  received: string | Uint8Array,
): boolean {
  return checkAuthenticatorResponseFromHash(
    ntPasswordHash(password),
    ntResponse,
    peerChallenge,
    authenticatorChallenge,
    userName,
    received,
  );
}

/** RFC 2759 §8.8 CheckAuthenticatorResponse() from the 16-byte NT hash. */
export function checkAuthenticatorResponseFromHash(
  passwordHash: Uint8Array,
  ntResponse: Uint8Array,
  peerChallenge: Uint8Array,
  authenticatorChallenge: Uint8Array,
  userName: Uint8Array | string,
  received: string | Uint8Array,
): boolean {
  const got = parseAuthenticatorResponse(received);
  if (!got) return false;
  const want = authenticatorDigest(passwordHash, ntResponse, peerChallenge, authenticatorChallenge, userName);
  return timingSafeEqual(got, want);
}

/**
 * Parses "S=" + 40 hex digits (RFC 2759 §5) into the 20-byte digest, or
 * returns undefined. Peer input: total, never throws.
 */
export function parseAuthenticatorResponse(received: string | Uint8Array): Uint8Array | undefined {
  const s = typeof received === 'string' ? received : String.fromCharCode(...received.subarray(0, 64));
  if (s.length !== AUTHENTICATOR_RESPONSE_LENGTH || s[0] !== 'S' || s[1] !== '=') return undefined;
  if (!/^[0-9A-Fa-f]{40}$/.test(s.slice(2))) return undefined;
  const out = new Uint8Array(20);
  for (let i = 0; i < 20; i++) out[i] = Number.parseInt(s.slice(2 + 2 * i, 4 + 2 * i), 16);
  return out;
}

/** Size of the §8.9 datatype-PWBLOCK: 256 Unicode characters + a 4-byte length. */
export const PW_BLOCK_LENGTH = 516;

/**
 * RFC 2759 §8.10 EncryptPwBlockWithPasswordHash(): the new password is
 * placed at the end of a 512-byte field filled with `random` bytes, its
 * byte length follows (4 bytes, little-endian as Windows writes it), and
 * the block is RC4-encrypted under the old NT hash. `random` must hold at
 * least 512 bytes of unpredictable data (the caller owns randomness: this
 * layer has no I/O). Returns a new 516-byte array.
 */
export function encryptPwBlockWithPasswordHash(
  password: string,
  passwordHash: Uint8Array,
  random: Uint8Array,
): Uint8Array {
  checkLength(passwordHash, 16, 'PasswordHash');
  if (random.length < 512) throw new RangeError('EncryptPwBlock needs 512 random bytes');
  const pw = unicodePassword(password);
  const block = new Uint8Array(PW_BLOCK_LENGTH);
  block.set(random.subarray(0, 512));
  block.set(pw, 512 - pw.length);
  new DataView(block.buffer).setUint32(512, pw.length, true);
  new Rc4(passwordHash).process(block);
  return block;
}

/** RFC 2759 §8.9 NewPasswordEncryptedWithOldNtPasswordHash(). Returns a new 516-byte array. */
export function newPasswordEncryptedWithOldNtPasswordHash(
  newPassword: string,
  oldPassword: string,
  random: Uint8Array,
): Uint8Array {
  return encryptPwBlockWithPasswordHash(newPassword, ntPasswordHash(oldPassword), random);
}

/**
 * The authenticator's inverse of §8.10: decrypts a 516-byte PWBLOCK under
 * the old NT hash and returns the new password, or undefined when the
 * length field is impossible (wrong old password or a forged block).
 * Peer input: total, never throws on bad content.
 */
export function decryptPwBlockWithPasswordHash(
  encrypted: Uint8Array,
  passwordHash: Uint8Array,
): string | undefined {
  checkLength(passwordHash, 16, 'PasswordHash');
  if (encrypted.length !== PW_BLOCK_LENGTH) return undefined;
  const block = encrypted.slice();
  new Rc4(passwordHash).process(block);
  const n = new DataView(block.buffer).getUint32(512, true);
  if (n > 512 || n % 2 !== 0) return undefined;
  let s = '';
  for (let i = 512 - n; i < 512; i += 2) s += String.fromCharCode(block[i]! | (block[i + 1]! << 8));
  return s;
}

/**
 * RFC 2759 §8.13 NtPasswordHashEncryptedWithBlock(): each 8-byte half of
 * `passwordHash` DES-encrypted under the matching 7 bytes of `block`.
 * Returns a new 16-byte array.
 */
export function ntPasswordHashEncryptedWithBlock(passwordHash: Uint8Array, block: Uint8Array): Uint8Array {
  checkLength(passwordHash, 16, 'PasswordHash');
  checkLength(block, 16, 'Block');
  const out = new Uint8Array(16);
  out.set(desEncrypt(passwordHash.subarray(0, 8), block.subarray(0, 7)), 0);
  out.set(desEncrypt(passwordHash.subarray(8, 16), block.subarray(7, 14)), 8);
  return out;
}

/** RFC 2759 §8.12 OldNtPasswordHashEncryptedWithNewNtPasswordHash(). Returns a new 16-byte array. */
export function oldNtPasswordHashEncryptedWithNewNtPasswordHash(
  newPassword: string,
  oldPassword: string,
): Uint8Array {
  return ntPasswordHashEncryptedWithBlock(ntPasswordHash(oldPassword), ntPasswordHash(newPassword));
}

function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += (x < 16 ? '0' : '') + x.toString(16).toUpperCase();
  return s;
}
