/**
 * MPPE key derivation (RFC 3079) and the key-change function MPPE runs
 * during a session (RFC 3078 §7.3).
 *
 * Vocabulary, as in the RFCs and Linux ppp_mppe.c:
 *  - **master key** (RFC 3078 "StartKey", RFC 3079 "MasterSendKey" /
 *    "MasterReceiveKey"): derived once from the authentication, one per
 *    direction, never used to encrypt. We always carry 16 bytes; 40- and
 *    56-bit sessions use the first 8 (RFC 3079 §3: "40- and 56-bit keys are
 *    8 octets in length").
 *  - **session key**: the RC4 key in use, changed by {@link getNewKeyFromSha}
 *    plus RC4 (RFC 3078 §7.3). The first one is
 *    {@link initialSessionKey}(master).
 *
 * The MPPE engine (src/mppe/mppe.ts) takes a master key per direction and
 * does the rest; the functions here are also exported for tests and tools.
 *
 * Secrets: never log arguments or results.
 */
import { hashNtPasswordHash } from './mschap.js';
import { sha1 } from './sha1.js';

/** MPPE key strengths (RFC 3078 §2: the L, M and S bits). */
export type MppeKeyBits = 40 | 56 | 128;

/** Key length in bytes for a strength: 8 for 40 and 56 bits, 16 for 128 (RFC 3079 §3). */
export function mppeKeyLength(bits: MppeKeyBits): 8 | 16 {
  return bits === 128 ? 16 : 8;
}

/** Length of every master key this module returns. */
export const MPPE_MASTER_KEY_LENGTH = 16;

/** RFC 3078 §7.3 / RFC 3079 §2.4 SHApad1: 40 zero bytes. */
export const SHA_PAD1 = new Uint8Array(40);
/** RFC 3078 §7.3 / RFC 3079 §2.4 SHApad2: 40 bytes of 0xF2. */
export const SHA_PAD2 = new Uint8Array(40).fill(0xf2);

/** RFC 3079 §3.4 Magic1: "This is the MPPE Master Key". */
const MAGIC1 = new TextEncoder().encode('This is the MPPE Master Key');
/** RFC 3079 §3.4 Magic2: the client's send key, the server's receive key. */
const MAGIC2 = new TextEncoder().encode(
  'On the client side, this is the send key; on the server side, it is the receive key.',
);
/** RFC 3079 §3.4 Magic3: the client's receive key, the server's send key. */
const MAGIC3 = new TextEncoder().encode(
  'On the client side, this is the receive key; on the server side, it is the send key.',
);

/**
 * RFC 3078 §7.3 GetNewKeyFromSHA() (= RFC 3079 §2.4 Get_Key()): the first
 * `length` bytes of SHA1(StartKey[..length] | SHApad1 | SessionKey[..length] | SHApad2).
 * Returns a new array ("InterimKey").
 */
export function getNewKeyFromSha(startKey: Uint8Array, sessionKey: Uint8Array, length: number): Uint8Array {
  if (startKey.length < length || sessionKey.length < length) {
    throw new RangeError(`GetNewKeyFromSHA: keys shorter than ${length} bytes`);
  }
  return sha1(startKey.subarray(0, length), SHA_PAD1, sessionKey.subarray(0, length), SHA_PAD2).slice(
    0,
    length,
  );
}

/**
 * Weakens a key to its negotiated strength, in place (RFC 3078 §7.3, RFC
 * 3079 §2.1/§2.2/§3.1/§3.2), the key starting at `offset`: "For 40-bit session keys the most significant
 * three octets of the new session key are now set to 0xD1, 0x26 and 0x9E
 * respectively; for 56-bit keys, the most significant octet is set to 0xD1."
 */
export function reduceSessionKey(key: Uint8Array, bits: MppeKeyBits, offset = 0): void {
  if (bits === 40) {
    key[offset] = 0xd1;
    key[offset + 1] = 0x26;
    key[offset + 2] = 0x9e;
  } else if (bits === 56) {
    key[offset] = 0xd1;
  }
}

/**
 * The first session key of a direction: GetNewKeyFromSHA(master, master)
 * then the strength reduction (RFC 3079 §2.1–2.3 "Get_Key(PasswordHash,
 * SessionKey, 8)" with SessionKey a copy of the basis; §3.1–3.3
 * "GetNewKeyFromSHA(MasterSendKey, MasterSendKey, ...)"). Returns a new
 * 8- or 16-byte array.
 */
export function initialSessionKey(masterKey: Uint8Array, bits: MppeKeyBits): Uint8Array {
  const n = mppeKeyLength(bits);
  const key = getNewKeyFromSha(masterKey, masterKey, n);
  reduceSessionKey(key, bits);
  return key;
}

/**
 * RFC 3079 §2.4 Get_Start_Key(): the first 16 bytes of
 * SHA1(NtPasswordHashHash | NtPasswordHashHash | Challenge). MS-CHAPv1's
 * 128-bit basis. Returns a new 16-byte array.
 */
export function getStartKey(challenge: Uint8Array, ntPasswordHashHash: Uint8Array): Uint8Array {
  if (challenge.length !== 8) throw new RangeError('Get_Start_Key: Challenge must be 8 bytes');
  if (ntPasswordHashHash.length !== 16)
    throw new RangeError('Get_Start_Key: NtPasswordHashHash must be 16 bytes');
  return sha1(ntPasswordHashHash, ntPasswordHashHash, challenge).slice(0, 16);
}

/**
 * RFC 3079 §3.4 GetMasterKey(): the first 16 bytes of
 * SHA1(PasswordHashHash | NTResponse | Magic1). Returns a new array.
 */
export function getMasterKey(passwordHashHash: Uint8Array, ntResponse: Uint8Array): Uint8Array {
  if (passwordHashHash.length !== 16) throw new RangeError('GetMasterKey: PasswordHashHash must be 16 bytes');
  if (ntResponse.length !== 24) throw new RangeError('GetMasterKey: NT-Response must be 24 bytes');
  return sha1(passwordHashHash, ntResponse, MAGIC1).slice(0, 16);
}

/**
 * RFC 3079 §3.4 GetAsymetricStartKey(): the first `length` (8..16) bytes of
 * SHA1(MasterKey | SHSpad1 | s | SHSpad2), where s is Magic3 for the
 * server's send key and the client's receive key, Magic2 otherwise.
 * Returns a new array.
 */
export function getAsymmetricStartKey(
  masterKey: Uint8Array,
  length: number,
  isSend: boolean,
  isServer: boolean,
): Uint8Array {
  if (masterKey.length !== 16) throw new RangeError('GetAsymmetricStartKey: MasterKey must be 16 bytes');
  if (length < 8 || length > 16) throw new RangeError('GetAsymmetricStartKey: length must be 8..16');
  const s = isSend === isServer ? MAGIC3 : MAGIC2;
  return sha1(masterKey, SHA_PAD1, s, SHA_PAD2).slice(0, length);
}

/** One master key per direction, 16 bytes each (see the module comment). */
export interface MppeMasterKeys {
  /** Keys what we transmit. */
  readonly sendKey: Uint8Array;
  /** Keys what we receive. */
  readonly receiveKey: Uint8Array;
}

/**
 * MPPE master keys after MS-CHAPv2 (RFC 3079 §3): GetMasterKey(MD4(NT hash),
 * NT-Response), then GetAsymmetricStartKey for each direction. `isServer`
 * is true on the authenticator. The client's sendKey equals the server's
 * receiveKey and vice versa.
 */
export function mppeKeysFromMsChapV2(
  ntPasswordHash: Uint8Array,
  ntResponse: Uint8Array,
  isServer: boolean,
): MppeMasterKeys {
  const masterKey = getMasterKey(hashNtPasswordHash(ntPasswordHash), ntResponse);
  return {
    sendKey: getAsymmetricStartKey(masterKey, 16, true, isServer),
    receiveKey: getAsymmetricStartKey(masterKey, 16, false, isServer),
  };
}

/**
 * MPPE master keys after MS-CHAPv1 (RFC 3079 §2.3): Get_Start_Key(Challenge,
 * MD4(NT hash)) for both directions, where Challenge is the authenticator's
 * 8-byte challenge from the first authentication (RFC 3079 §2 "Implementation
 * Note"). pppd and Linux use this basis for every strength, 40-bit included.
 */
export function mppeKeysFromMsChapV1(ntPasswordHash: Uint8Array, challenge: Uint8Array): MppeMasterKeys {
  const key = getStartKey(challenge, hashNtPasswordHash(ntPasswordHash));
  return { sendKey: key, receiveKey: key.slice() };
}

/**
 * MPPE master keys after MS-CHAPv1 for 40/56-bit sessions as RFC 3079
 * §2.1/§2.2 describe them: the LAN Manager hash is the basis ("The first 8
 * octets of the result are used as the basis for the session key"). Offered
 * for peers that derive keys this way; pppd does not (see docs/crypto.md).
 */
export function mppeKeysFromLmPasswordHash(lmPasswordHash: Uint8Array): MppeMasterKeys {
  if (lmPasswordHash.length !== 16) throw new RangeError('LmPasswordHash must be 16 bytes');
  return { sendKey: lmPasswordHash.slice(), receiveKey: lmPasswordHash.slice() };
}
