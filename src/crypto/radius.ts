/**
 * RADIUS cryptography over encoded packets (bytes only; the codec is in
 * `wire/radius/`): Request and Response Authenticators (RFC 2865 §3,
 * RFC 2866 §3, RFC 5176 §2.3), User-Password hiding (RFC 2865 §5.2),
 * Microsoft salt encryption of MS-MPPE-Send/Recv-Key (RFC 2548 §2.4.2,
 * §2.4.3), and Message-Authenticator (RFC 3579 §3.2, HMAC-MD5).
 *
 * Packets are taken as encoded by `encodeRadius`: 20-byte header, Length at
 * offset 2, attributes after it. The signing functions write into the
 * packet in place.
 */

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

const HEADER = 20;
const MESSAGE_AUTHENTICATOR = 80;

/** A value that does not decrypt: wrong size, wrong salt, inconsistent key length. */
export class RadiusCryptoError extends Error {
  override readonly name = 'RadiusCryptoError';
}

function md5(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

function secretBytes(secret: Uint8Array | string): Uint8Array {
  return typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
}

function packetLength(packet: Uint8Array): number {
  if (packet.length < HEADER) throw new RangeError('radius: packet shorter than its header');
  const len = (packet[2]! << 8) | packet[3]!;
  if (len < HEADER || len > packet.length)
    throw new RangeError(`radius: Length ${len} does not fit ${packet.length} bytes`);
  return len;
}

/** Offset of the Message-Authenticator value in an encoded packet, or -1 (also -1 for a malformed list). */
export function messageAuthenticatorOffset(packet: Uint8Array): number {
  const end = packetLength(packet);
  let off = HEADER;
  while (off + 2 <= end) {
    const len = packet[off + 1]!;
    if (len < 2 || off + len > end) return -1;
    if (packet[off] === MESSAGE_AUTHENTICATOR) return len === 18 ? off + 2 : -1;
    off += len;
  }
  return -1;
}

/**
 * A copy of the first `len` octets. `Uint8Array.prototype.slice` copies, but
 * a Node `Buffer`'s own `slice` returns a view: called on a Buffer (what
 * `node:dgram` delivers) it would let the zeroing below overwrite the
 * caller's packet.
 */
function copyOf(packet: Uint8Array, len: number): Uint8Array {
  return Uint8Array.prototype.slice.call(packet, 0, len);
}

/**
 * RFC 2865 §3: "the Request Authenticator value is a 16 octet random
 * number"; it "SHOULD exhibit global and temporal uniqueness". The random
 * source is the caller's (the engine is sans-IO; tests inject a seeded one).
 */
export function newRequestAuthenticator(random: (n: number) => Uint8Array): Uint8Array {
  const r = random(16);
  if (r.length !== 16) throw new RangeError('random source returned the wrong length');
  return Uint8Array.prototype.slice.call(r);
}

/**
 * RFC 3579 §3.2: "Message-Authenticator = HMAC-MD5 (Type, Identifier,
 * Length, Request Authenticator, Attributes)" with the attribute's own value
 * taken as sixteen zero octets. `authenticator` is what stands in the
 * Authenticator field for the computation (the packet's own field when
 * omitted).
 */
export function computeMessageAuthenticator(
  packet: Uint8Array,
  secret: Uint8Array | string,
  authenticator?: Uint8Array,
): Uint8Array {
  const len = packetLength(packet);
  const at = messageAuthenticatorOffset(packet);
  if (at < 0) throw new RangeError('radius: no Message-Authenticator attribute');
  const copy = copyOf(packet, len);
  if (authenticator) copy.set(authenticator, 4);
  copy.fill(0, at, at + 16);
  return new Uint8Array(createHmac('md5', secretBytes(secret)).update(copy).digest());
}

/**
 * Finishes an Access-Request (or Status-Server) in place: writes the
 * Request Authenticator and, when the packet carries a Message-Authenticator
 * attribute (any value), computes it (RFC 3579 §3.2).
 */
export function signAccessRequest(
  packet: Uint8Array,
  secret: Uint8Array | string,
  requestAuthenticator: Uint8Array,
): void {
  packet.set(requestAuthenticator, 4);
  const at = messageAuthenticatorOffset(packet);
  if (at >= 0) packet.set(computeMessageAuthenticator(packet, secret), at);
}

/**
 * Finishes an Accounting-Request (RFC 2866 §3), CoA-Request or
 * Disconnect-Request (RFC 5176 §2.3) in place: "the Request Authenticator
 * field ... is a 16 octet MD5 checksum ... MD5(Code + Identifier + Length +
 * 16 zero octets + request attributes + shared secret)". A
 * Message-Authenticator present is computed first, over the packet with a
 * zero Authenticator field.
 */
export function signZeroAuthenticatorRequest(packet: Uint8Array, secret: Uint8Array | string): void {
  const len = packetLength(packet);
  packet.fill(0, 4, HEADER);
  const at = messageAuthenticatorOffset(packet);
  if (at >= 0) packet.set(computeMessageAuthenticator(packet, secret), at);
  packet.set(md5(packet.subarray(0, len), secretBytes(secret)), 4);
}

/** Checks an Accounting/CoA/Disconnect Request Authenticator (the server side of {@link signZeroAuthenticatorRequest}). */
export function verifyZeroAuthenticatorRequest(packet: Uint8Array, secret: Uint8Array | string): boolean {
  const len = packetLength(packet);
  const copy = copyOf(packet, len);
  copy.fill(0, 4, HEADER);
  return timingSafeEqual(md5(copy, secretBytes(secret)), packet.subarray(4, HEADER));
}

/**
 * Finishes a reply in place (a test server's side, and a future DAS's):
 * Message-Authenticator, if present, over the packet with the Request
 * Authenticator in the field (RFC 3579 §3.2), then RFC 2865 §3 "ResponseAuth
 * = MD5(Code+ID+Length+RequestAuth+Attributes+Secret)".
 */
export function signResponse(
  packet: Uint8Array,
  secret: Uint8Array | string,
  requestAuthenticator: Uint8Array,
): void {
  const len = packetLength(packet);
  packet.set(requestAuthenticator, 4);
  const at = messageAuthenticatorOffset(packet);
  if (at >= 0) packet.set(computeMessageAuthenticator(packet, secret), at);
  packet.set(md5(packet.subarray(0, len), secretBytes(secret)), 4);
}

/** What {@link verifyResponse} found. */
export interface RadiusResponseCheck {
  /** RFC 2865 §3 Response Authenticator matches. */
  readonly authenticator: boolean;
  /** RFC 3579 §3.2 Message-Authenticator: none, right, or wrong. */
  readonly messageAuthenticator: 'absent' | 'valid' | 'invalid';
}

/**
 * Checks a reply against the request it answers (RFC 2865 §3, RFC 3579
 * §3.2). Message-Authenticator is checked with the Request Authenticator in
 * place of the Response Authenticator. Comparisons are constant-time.
 */
export function verifyResponse(
  packet: Uint8Array,
  secret: Uint8Array | string,
  requestAuthenticator: Uint8Array,
): RadiusResponseCheck {
  const len = packetLength(packet);
  const copy = copyOf(packet, len);
  copy.set(requestAuthenticator, 4);
  const authenticator = timingSafeEqual(md5(copy, secretBytes(secret)), packet.subarray(4, HEADER));
  const at = messageAuthenticatorOffset(packet);
  let messageAuthenticator: RadiusResponseCheck['messageAuthenticator'] = 'absent';
  if (at >= 0) {
    const want = computeMessageAuthenticator(packet, secret, requestAuthenticator);
    messageAuthenticator = timingSafeEqual(want, packet.subarray(at, at + 16)) ? 'valid' : 'invalid';
  } else if (hasAttribute(packet, MESSAGE_AUTHENTICATOR)) {
    messageAuthenticator = 'invalid'; // present with a length other than 18
  }
  return { authenticator, messageAuthenticator };
}

/** Checks the Message-Authenticator of a request as received (server side): absent, valid or invalid. */
export function verifyRequestMessageAuthenticator(
  packet: Uint8Array,
  secret: Uint8Array | string,
  zeroAuthenticator: boolean,
): RadiusResponseCheck['messageAuthenticator'] {
  const at = messageAuthenticatorOffset(packet);
  if (at < 0) return hasAttribute(packet, MESSAGE_AUTHENTICATOR) ? 'invalid' : 'absent';
  const want = computeMessageAuthenticator(
    packet,
    secret,
    zeroAuthenticator ? new Uint8Array(16) : undefined,
  );
  return timingSafeEqual(want, packet.subarray(at, at + 16)) ? 'valid' : 'invalid';
}

function hasAttribute(packet: Uint8Array, type: number): boolean {
  const end = packetLength(packet);
  let off = HEADER;
  while (off + 2 <= end) {
    const len = packet[off + 1]!;
    if (len < 2) return false;
    if (packet[off] === type) return true;
    off += len;
  }
  return false;
}

/**
 * The MD5 chain of RFC 2865 §5.2 (and RFC 2548 §2.4.2 with a salt): b1 =
 * MD5(S + R [+ A]), c(i) = p(i) xor b(i), b(i+1) = MD5(S + c(i)).
 * `input.length` is a multiple of 16.
 */
function chain(
  input: Uint8Array,
  s: Uint8Array,
  r: Uint8Array,
  salt: Uint8Array | undefined,
  decrypt: boolean,
): Uint8Array {
  const out = new Uint8Array(input.length);
  let prev = salt ? md5(s, r, salt) : md5(s, r);
  for (let i = 0; i < input.length; i += 16) {
    for (let j = 0; j < 16; j++) out[i + j] = input[i + j]! ^ prev[j]!;
    prev = md5(s, (decrypt ? input : out).subarray(i, i + 16));
  }
  return out;
}

/**
 * RFC 2865 §5.2 User-Password hiding: the password "padded at the end with
 * nulls to a multiple of 16 octets", at most 128 octets, XORed with the MD5
 * chain of the secret and the Request Authenticator.
 */
export function hidePassword(
  password: Uint8Array | string,
  secret: Uint8Array | string,
  requestAuthenticator: Uint8Array,
): Uint8Array {
  const p = secretBytes(password);
  if (p.length > 128) throw new RangeError('radius: User-Password longer than 128 octets (RFC 2865 §5.2)');
  const padded = new Uint8Array(Math.max(16, Math.ceil(p.length / 16) * 16));
  padded.set(p);
  return chain(padded, secretBytes(secret), requestAuthenticator, undefined, false);
}

/**
 * Reverses {@link hidePassword}: the plaintext with the trailing NUL padding
 * removed. With `keepPadding` the whole block comes back (MS-CHAP-MPPE-Keys,
 * RFC 2548 §2.4.1, is hidden the same way but is binary).
 */
export function revealPassword(
  hidden: Uint8Array,
  secret: Uint8Array | string,
  requestAuthenticator: Uint8Array,
  keepPadding = false,
): Uint8Array {
  if (hidden.length < 16 || hidden.length > 128 || hidden.length % 16 !== 0) {
    throw new RadiusCryptoError(
      `hidden value of ${hidden.length} octets is not 16..128 in steps of 16 (RFC 2865 §5.2)`,
    );
  }
  const p = chain(hidden, secretBytes(secret), requestAuthenticator, undefined, true);
  if (keepPadding) return p;
  let end = p.length;
  while (end > 0 && p[end - 1] === 0) end--;
  return p.subarray(0, end);
}

/**
 * RFC 2548 §2.4.2/§2.4.3 salt encryption of MS-MPPE-Send-Key/Recv-Key: the
 * returned value is Salt (2 octets) + C, C encrypting Key-Length + Key +
 * zero padding to a multiple of 16. "The most significant bit (leftmost) of
 * the Salt field MUST be set": it is forced here.
 */
export function saltEncrypt(
  key: Uint8Array,
  secret: Uint8Array | string,
  requestAuthenticator: Uint8Array,
  salt: Uint8Array,
): Uint8Array {
  if (salt.length !== 2) throw new RangeError('radius: salt must be 2 octets');
  if (key.length > 239) throw new RangeError('radius: key too long for one attribute');
  const a = new Uint8Array([salt[0]! | 0x80, salt[1]!]);
  const p = new Uint8Array(Math.ceil((key.length + 1) / 16) * 16);
  p[0] = key.length;
  p.set(key, 1);
  const out = new Uint8Array(2 + p.length);
  out.set(a, 0);
  out.set(chain(p, secretBytes(secret), requestAuthenticator, a, false), 2);
  return out;
}

/**
 * Reverses {@link saltEncrypt} on a received MS-MPPE-Send/Recv-Key value
 * (R is the Request Authenticator of the Access-Request the Accept answers).
 * Throws {@link RadiusCryptoError} when the salt's high bit is clear ("MUST
 * be set (1)"), the String is not a positive multiple of 16 octets, or
 * Key-Length exceeds what was sent.
 */
export function saltDecrypt(
  value: Uint8Array,
  secret: Uint8Array | string,
  requestAuthenticator: Uint8Array,
): Uint8Array {
  if (value.length < 18 || (value.length - 2) % 16 !== 0) {
    throw new RadiusCryptoError(`salt-encrypted value of ${value.length} octets: want 2 + a multiple of 16`);
  }
  if ((value[0]! & 0x80) === 0) {
    throw new RadiusCryptoError(
      'RFC 2548 §2.4.2: "The most significant bit (leftmost) of the Salt field MUST be set (1)"',
    );
  }
  const p = chain(value.subarray(2), secretBytes(secret), requestAuthenticator, value.subarray(0, 2), true);
  const keyLength = p[0]!;
  if (keyLength + 1 > p.length) {
    throw new RadiusCryptoError(`Key-Length ${keyLength} exceeds the ${p.length - 1} octets decrypted`);
  }
  return p.slice(1, 1 + keyLength);
}
