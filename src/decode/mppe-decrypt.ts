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
 * The key schedule follows RFC 3078 §7 as the stack's sender does
 * (src/ppp/mppe.ts, whose encryptor the tests use as the other side):
 *  - stateless: one key change (§7.3) before every packet, so a packet with
 *    coherency count C is reached from the previous one by (C − C') mod 4096
 *    key changes (bounded, as a receiver must: §8);
 *  - stateful: one RC4 stream, with a key change before each "flag" packet
 *    (count low octet 0xFF) and, on a FLUSHED packet that is not a flag
 *    packet, the Linux reading of a reset (a key change). A lost packet
 *    breaks the stream until the next FLUSHED packet, as it does for a
 *    receiver.
 * Pure: no I/O, no clock. Key material never reaches output.
 */

import {
  getAsymmetricStartKey,
  getMasterKey,
  getNewKeyFromSha,
  initialSessionKey,
  type MppeKeyBits,
  mppeKeyLength,
  mppeKeysFromMsChapV1,
} from '../crypto/mppe-keys.js';
import { hashNtPasswordHash, ntChallengeResponse, ntPasswordHash } from '../crypto/mschap.js';
import { generateNtResponseFromHash } from '../crypto/mschap-v2.js';
import { Rc4 } from '../crypto/rc4.js';
import { bytesEqual } from '../wire/bytes.js';

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

/**
 * A packet whose coherency count is at most this far *behind* the last one
 * is late (reordered), not 4000-odd packets ahead: it is left encrypted and
 * the keys stay where they are (the stack's receiver does the same).
 */
export const MPPE_LATE_WINDOW = 256;

/** One direction's session key and cipher (RFC 3078 §7.3). */
class KeyState {
  private readonly length: number;
  private readonly master: Uint8Array;
  private readonly session: Uint8Array;
  readonly rc4 = new Rc4();

  constructor(
    private readonly bits: MppeKeyBits,
    master: Uint8Array,
  ) {
    this.length = mppeKeyLength(bits);
    this.master = master.slice(0, this.length);
    this.session = initialSessionKey(this.master, bits);
    this.rc4.setKey(this.session);
  }

  /** InterimKey = GetNewKeyFromSHA(StartKey, SessionKey); SessionKey = RC4(InterimKey, InterimKey); reduce; rekey. */
  changeKey(): void {
    const interim = getNewKeyFromSha(this.master, this.session, this.length);
    this.rc4.setKey(interim);
    this.session.set(interim);
    this.rc4.process(this.session);
    if (this.bits === 40) this.session.set([0xd1, 0x26, 0x9e]);
    else if (this.bits === 56) this.session[0] = 0xd1;
    this.rc4.setKey(this.session);
  }
}

/** Result of trying to decrypt one packet. */
export type DecryptResult =
  | { readonly ok: true; readonly plaintext: Uint8Array; readonly rekeys: number }
  | { readonly ok: false; readonly reason: string };

/** One direction of an MPPE session. */
class DirectionDecryptor {
  private readonly keys: KeyState;
  /** Coherency count of the last packet decrypted; 4095 before the first (the sender's first count is 0). */
  private last = 4095;
  private synced = true;

  constructor(
    bits: MppeKeyBits,
    master: Uint8Array,
    private readonly stateless: boolean,
  ) {
    this.keys = new KeyState(bits, master);
  }

  decrypt(cc: number, flushed: boolean, data: Uint8Array): DecryptResult {
    const distance = (cc - this.last) & 0xfff;
    if (distance === 0) return { ok: false, reason: 'coherency count repeated: a duplicate packet' };
    if (distance > 4096 - MPPE_LATE_WINDOW) {
      return {
        ok: false,
        reason: `late packet: ${4096 - distance} behind the last one, keys already moved on`,
      };
    }
    if (this.stateless) {
      // RFC 3078 §8.1 (stateless): the receiver performs one key change per count step.
      for (let i = 0; i < distance; i++) this.keys.changeKey();
      this.last = cc;
      const out = data.slice();
      this.keys.rc4.process(out);
      return { ok: true, plaintext: out, rekeys: distance };
    }
    // Stateful (RFC 3078 §8.2): a gap desynchronises the RC4 stream until a FLUSHED packet.
    let rekeys = 0;
    if (distance !== 1) {
      if (!flushed) {
        this.synced = false;
        this.last = cc;
        return {
          ok: false,
          reason: `${distance - 1} packet(s) missing: waiting for a FLUSHED packet to resynchronise`,
        };
      }
      // Catch up with the flag points passed over while packets were missing.
      for (let c = (this.last + 1) & 0xfff; c !== cc; c = (c + 1) & 0xfff) {
        if ((c & 0xff) === 0xff) {
          this.keys.changeKey();
          rekeys++;
        }
      }
      this.synced = true;
    } else if (!this.synced && !flushed) {
      this.last = cc;
      return { ok: false, reason: 'waiting for a FLUSHED packet to resynchronise' };
    }
    if ((cc & 0xff) === 0xff || flushed) {
      // A flag packet always follows a key change; a FLUSHED non-flag packet is a
      // reset, which Linux (the peer pppd runs on) also meets with a key change.
      this.keys.changeKey();
      rekeys++;
      this.synced = true;
    }
    this.last = cc;
    const out = data.slice();
    this.keys.rc4.process(out);
    return { ok: true, plaintext: out, rekeys };
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
