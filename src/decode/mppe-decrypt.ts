/**
 * Decrypting MPPE in a capture (RFC 3078), given the account's password:
 * what turns the encrypted tunnel traffic of a real PPTP session back into
 * the DNS question and answer the demo's example shows.
 *
 * Everything else needed is in the capture: the MS-CHAPv2 exchange (RFC
 * 2759: the authenticator's challenge, the peer's challenge, its
 * NT-Response and user name) or the MS-CHAPv1 one (RFC 2433), and the CCP
 * agreement (key strength, stateless or stateful). From those, RFC 3079
 * derives one master key per direction; the password is first checked by
 * recomputing the NT-Response, so a wrong password says so instead of
 * producing garbage.
 *
 * Decryption is the stack's own receive engine (src/mppe/mppe.ts
 * `MppeDecryptor`, the one the PPP unit runs): the same key schedule (RFC
 * 3078 §7, RFC 3079), the same coherency-count rules (RFC 3078 §8: key
 * changes over a stateless gap, a stateful gap waiting for a FLUSHED
 * packet, late and duplicate packets left alone) and the 'linux' meaning of
 * a FLUSHED stateful packet. Only two things differ from a live link: a
 * capture may skip any number of packets, so a stateless jump is followed
 * as far as the late window allows instead of being capped per packet; and
 * each drop is turned into a sentence for the dissection.
 * Pure: no I/O, no clock. Key material never reaches output.
 */

import {
  getAsymmetricStartKey,
  getMasterKey,
  type MppeKeyBits,
  mppeKeysFromMsChapV1,
} from '../crypto/mppe-keys.js';
import { hashNtPasswordHash, ntChallengeResponse, ntPasswordHash } from '../crypto/mschap.js';
import { generateNtResponseFromHash } from '../crypto/mschap-v2.js';
import { MPPE_LATE_WINDOW, MppeDecryptor, type MppeDropReason } from '../mppe/mppe.js';
import { bytesEqual } from '../wire/bytes.js';
import { encodeMppeHeader, MPPE_BIT, MPPE_COHERENCY_COUNT_MODULO, MPPE_HEADER_LENGTH } from '../wire/mppe.js';

/** What the capture showed of an MS-CHAP exchange. */
export interface MsChapExchange {
  readonly version: 1 | 2;
  /** Outer address of the authenticator (the side that sent the Challenge): RFC 3079's "server". */
  readonly authenticator: string;
  readonly authenticatorChallenge: Uint8Array;
  /** MS-CHAPv2 only. */
  readonly peerChallenge?: Uint8Array;
  readonly ntResponse: Uint8Array;
  /** The Response's Name field, as sent. */
  readonly userName: Uint8Array;
}

/** Result of trying to decrypt one packet. */
export type DecryptResult =
  | { readonly ok: true; readonly plaintext: Uint8Array; readonly rekeys: number }
  | { readonly ok: false; readonly reason: string };

/**
 * A capture may miss any number of packets: follow a stateless jump as far
 * as it can be told from a late packet (RFC 3078 §8.1 allows up to 4095
 * key changes), instead of the live link's per-packet cap.
 */
const CAPTURE_MAX_REKEYS = MPPE_COHERENCY_COUNT_MODULO - 1 - MPPE_LATE_WINDOW;

/** One direction of an MPPE session: the engine's decryptor, with its drops in words. */
class DirectionDecryptor {
  private readonly engine: MppeDecryptor;
  private readonly header = {
    flushed: false,
    atFront: false,
    compressed: false,
    encrypted: true,
    coherencyCount: 0,
  };

  constructor(bits: MppeKeyBits, masterKey: Uint8Array, stateless: boolean) {
    this.engine = new MppeDecryptor({ bits, stateless, masterKey, maxRekeysPerPacket: CAPTURE_MAX_REKEYS });
  }

  /** Decrypts a copy of `data` (what follows the MPPE header of a packet with count `cc`). */
  decrypt(cc: number, flushed: boolean, data: Uint8Array): DecryptResult {
    const e = this.engine;
    const distance = (cc - e.coherencyCount) & MPPE_BIT.COHERENCY_COUNT_MASK;
    const rekeysBefore = e.counters.rekeys;
    // The engine works in place on a whole Information field: header, then the encrypted data.
    const buf = new Uint8Array(MPPE_HEADER_LENGTH + data.length);
    this.header.flushed = flushed;
    this.header.coherencyCount = cc & MPPE_BIT.COHERENCY_COUNT_MASK;
    encodeMppeHeader(this.header, buf, 0);
    buf.set(data, MPPE_HEADER_LENGTH);
    if (e.decrypt(buf) === 'ok') {
      return {
        ok: true,
        plaintext: buf.subarray(MPPE_HEADER_LENGTH),
        rekeys: e.counters.rekeys - rekeysBefore,
      };
    }
    return { ok: false, reason: dropReason(e.lastDrop, distance) };
  }
}

/** A sentence for why the engine dropped a packet `distance` counts after the last one it accepted. */
function dropReason(reason: MppeDropReason | undefined, distance: number): string {
  switch (reason) {
    case 'late':
      return distance === 0
        ? 'coherency count repeated: a duplicate packet'
        : `late packet: ${MPPE_COHERENCY_COUNT_MODULO - distance} behind the last one, keys already moved on`;
    case 'lost':
      return `${distance - 1} packet(s) missing: waiting for a FLUSHED packet to resynchronise`;
    case 'awaitingFlush':
      return 'waiting for a FLUSHED packet to resynchronise';
    case 'notFlushed':
      return 'stateless packet without the FLUSHED bit (RFC 3078 §3.1: it MUST be set on every encrypted packet)';
    case 'rekeyLimit':
      return 'coherency count too far ahead to follow';
    case 'badProtocol':
      return 'decrypted to an invalid PPP protocol field: the keys are out of step';
    case 'truncated':
      return 'too short for an MPPE header and a protocol field';
    default:
      return 'not encrypted';
  }
}

/** What {@link MppeSessionDecryptor.create} says when the password does not reproduce the NT-Response. */
export const WRONG_PASSWORD = {
  error: 'the password does not produce the captured NT-Response',
  wrongPassword: true,
} as const;

/** Both directions of one session's MPPE, keyed from MS-CHAP and a password. */
export class MppeSessionDecryptor {
  private readonly fromAuthenticator: DirectionDecryptor;
  private readonly fromPeer: DirectionDecryptor;

  private constructor(
    private readonly authenticator: string,
    authenticatorSendKey: Uint8Array,
    peerSendKey: Uint8Array,
    bits: MppeKeyBits,
    stateless: boolean,
  ) {
    this.fromAuthenticator = new DirectionDecryptor(bits, authenticatorSendKey, stateless);
    this.fromPeer = new DirectionDecryptor(bits, peerSendKey, stateless);
  }

  /**
   * Builds the decryptor, or says why it cannot: the password must
   * reproduce the captured NT-Response (RFC 2759 §8.1 / RFC 2433 §A.5).
   */
  static create(
    exchange: MsChapExchange,
    password: string,
    bits: MppeKeyBits,
    stateless: boolean,
  ): MppeSessionDecryptor | { readonly error: string; readonly wrongPassword?: true } {
    let hash: Uint8Array;
    try {
      hash = ntPasswordHash(password);
    } catch (e) {
      return { error: `unusable password: ${(e as Error).message}` };
    }
    // The exchange came from the capture: check every size the key derivation
    // relies on, so hostile bytes give a reason, not an exception.
    if (exchange.ntResponse.length !== 24) return { error: 'the NT-Response is not 24 bytes' };
    if (exchange.version === 2) {
      if (!exchange.peerChallenge) return { error: 'MS-CHAPv2 Response without a Peer-Challenge' };
      // RFC 2759 §3: "MS-CHAP-V2 authenticators send an 16-octet challenge Value field".
      if (exchange.authenticatorChallenge.length !== 16) {
        return { error: `MS-CHAPv2 challenge of ${exchange.authenticatorChallenge.length} bytes, not 16` };
      }
      if (exchange.peerChallenge.length !== 16) return { error: 'MS-CHAPv2 Peer-Challenge is not 16 bytes' };
      const expected = generateNtResponseFromHash(
        exchange.authenticatorChallenge,
        exchange.peerChallenge,
        exchange.userName,
        hash,
      );
      if (!bytesEqual(expected, exchange.ntResponse)) return WRONG_PASSWORD;
      // RFC 3079 §3.4: MasterKey, then one start key per direction; the
      // server's (authenticator's) send key is the client's receive key.
      const master = getMasterKey(hashNtPasswordHash(hash), exchange.ntResponse);
      return new MppeSessionDecryptor(
        exchange.authenticator,
        getAsymmetricStartKey(master, 16, true, true),
        getAsymmetricStartKey(master, 16, true, false),
        bits,
        stateless,
      );
    }
    // RFC 2433 §5: "MS-CHAP authenticators send an 8-octet challenge Value field".
    if (exchange.authenticatorChallenge.length !== 8) {
      return { error: `MS-CHAPv1 challenge of ${exchange.authenticatorChallenge.length} bytes, not 8` };
    }
    if (!bytesEqual(ntChallengeResponse(exchange.authenticatorChallenge, password), exchange.ntResponse)) {
      return WRONG_PASSWORD;
    }
    // RFC 3079 §2.3 (as pppd and Linux use it): one start key for both directions.
    const k = mppeKeysFromMsChapV1(hash, exchange.authenticatorChallenge);
    return new MppeSessionDecryptor(exchange.authenticator, k.sendKey, k.receiveKey, bits, stateless);
  }

  /** Decrypts the data after the MPPE header of a packet sent from `from`. */
  decrypt(from: string, coherencyCount: number, flushed: boolean, data: Uint8Array): DecryptResult {
    const d = from === this.authenticator ? this.fromAuthenticator : this.fromPeer;
    return d.decrypt(coherencyCount, flushed, data);
  }
}

/** The key strength CCP agreed, strongest first when several bits are set (RFC 3078 §2.2.1). */
export function mppeBitsOf(m: { key128: boolean; key56: boolean; key40: boolean }): MppeKeyBits | undefined {
  return m.key128 ? 128 : m.key56 ? 56 : m.key40 ? 40 : undefined;
}
