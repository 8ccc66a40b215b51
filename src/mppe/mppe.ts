/**
 * The MPPE engine (RFC 3078): per-direction RC4 encryption of PPP frames
 * with 40-, 56- or 128-bit keys, in stateless or stateful mode, and the
 * coherency-count bookkeeping that keeps both ends' keys in step.
 *
 * Sans-IO and allocation-free on the hot path: {@link MppeEncryptor.encrypt}
 * and {@link MppeDecryptor.decrypt} work in place on the caller's buffer,
 * re-key with our own SHA-1 and RC4 into reused state, and report through
 * return values and fields instead of new objects.
 *
 * ```
 *   unit (protocol 0x0021 + payload)            unit (protocol + payload)
 *        │ encrypt(protocol, buf, off, end)          ▲ decrypt(buf, start, end)
 *        ▼                                           │   → 'ok' | 'drop' | 'send-reset-request'
 *   ┌ MppeEncryptor ┐   Information field    ┌ MppeDecryptor ┐
 *   │ ccount, key   │ ── of a 0x00FD frame ─▶│ ccount, key,  │
 *   │ reset pending │   |A|B|C|D| ccount |   │ discard state │
 *   └───────────────┘   | RC4(proto+data)|   └───────────────┘
 * ```
 *
 * What each side does, in RFC terms:
 *  - Transmit (§3.1, §7): the coherency count increases by one per packet
 *    modulo 4096. Stateless: change the key before every packet and set A.
 *    Stateful: change the key before every "flag" packet (count's low octet
 *    0xFF) and set A; after the peer's CCP Reset-Request
 *    ({@link MppeEncryptor.resetRequested}) re-initialise and set A on the
 *    next packet (§8.2).
 *  - Receive (§8): stateless: perform N = C1 − C2 key changes, bounded (see
 *    {@link DEFAULT_MAX_REKEYS_PER_PACKET}). Stateful: a gap drops the packet
 *    and asks the unit for a CCP Reset-Request ('send-reset-request'), then
 *    silently discards until a packet with A arrives; that packet re-syncs
 *    the count and the keys (one key change per missed flag packet).
 *
 * A Reset-Request concerns only the direction it arrives about: the peer's
 * *receiver* asked, so it resets *our transmit side* only (RFC 3078 §8.2
 * "When the sender receives a CCP Reset-Request packet, it MUST
 * re-initialize its own RC4 tables"). The decryptor never changes on it.
 *
 * Two places where deployed stacks and the RFC disagree, both chosen to
 * interoperate with Linux `ppp_mppe` (the peer of pppd/pptpd/accel-ppp):
 *  - The first stateful packet does not carry A (Linux does not set it and
 *    a Linux receiver would change keys on it). For an RFC receiver, A on the
 *    first packet would only re-initialise tables that are fresh anyway.
 *  - In stateful mode, what A means on a packet that is not a flag packet
 *    is configurable ({@link MppeStatefulReset}): RFC 3078 §8.2 re-initialises
 *    RC4 with the current session key; Linux performs a full key change. The
 *    default is 'linux'. Stateless mode is identical in both.
 *
 * Two places where we are stricter than Linux, both to survive hostile or
 * disordered input (docs/crypto.md "Receive rules"):
 *  - A packet slightly *behind* the last one (within {@link MPPE_LATE_WINDOW})
 *    is dropped as late, in both modes. In stateful mode that keeps the RC4
 *    stream intact instead of forcing a reset.
 *  - A stateless forward jump performs at most `maxRekeysPerPacket` key
 *    changes per packet; beyond that the packet is dropped but the keys
 *    still advance by the cap, so a genuine long loss burst re-syncs over a
 *    few packets while a forged count costs bounded CPU.
 *
 * One engine for every receiver: the PPP unit's data path (src/ppp/unit-data.ts)
 * and the offline decryption of `pptp-ts decode` (src/decode/mppe-decrypt.ts)
 * both run {@link MppeDecryptor}, so the key schedule (RFC 3079 §3, RFC 3078
 * §7.3) and the coherency-count rules (RFC 3078 §8) exist once.
 *
 * Secrets: the key state never appears in `toString`, JSON or `inspect`.
 */
import type { MppeKeyBits } from '../crypto/mppe-keys.js';
import { MPPE_BIT, MPPE_COHERENCY_COUNT_MODULO, MPPE_HEADER_LENGTH, MppeView } from '../wire/mppe.js';
import {
  DEFAULT_MAX_REKEYS_PER_PACKET,
  MPPE_LATE_WINDOW,
  MPPE_MAX_MISSED_RESETS,
  MPPE_MAX_PROTOCOL,
  MPPE_MAX_RESYNC_GUESS,
  MPPE_MIN_PROTOCOL,
  MPPE_RESYNC_CONFIRM_PACKETS,
  type MppeConfig,
  type MppeReceiveConfig,
} from './config.js';
import { MppeEncryptor } from './encryptor.js';
import { INSPECT, MppeKeyState } from './key-state.js';

export * from './config.js';
export { MppeEncryptor, type MppeTransmitCounters } from './encryptor.js';

/** Creates the encryptor and decryptor for a link. */
export function createMppe(config: MppeConfig): { encryptor: MppeEncryptor; decryptor: MppeDecryptor } {
  const common = { bits: config.bits, stateless: config.stateless, statefulReset: config.statefulReset };
  return {
    encryptor: new MppeEncryptor({ ...common, masterKey: config.keys.sendKey }),
    decryptor: new MppeDecryptor({
      ...common,
      masterKey: config.keys.receiveKey,
      maxRekeysPerPacket: config.maxRekeysPerPacket,
    }),
  };
}

/** The receive path's header view, re-aimed at every packet and shared by every decryptor (decrypt is synchronous). */
let sharedView: MppeView | undefined;
function receiveView(): MppeView {
  sharedView ??= MppeView.check(new Uint8Array(MPPE_HEADER_LENGTH));
  return sharedView;
}

/** Two decrypted octets for the re-sync trials (shared: synchronous). */
const PEEK_SCRATCH = new Uint8Array(2);

/** An odd protocol in the range MPPE encrypts (RFC 3078 §3: 0x0021–0x00FA). */
function encryptableProtocolOctet(b: number): boolean {
  return (b & 1) === 1 && b >= MPPE_MIN_PROTOCOL && b <= MPPE_MAX_PROTOCOL;
}

/**
 * Whether the packet at `buf[p..)` (at least 2 bytes) decrypts under `trial`
 * to a plausible protocol field: 0x00 and an encryptable octet, or that octet
 * alone when `oneOctet` allows the compressed form. Moves `trial`'s RC4
 * stream on by two bytes; a key change or re-initialisation starts it again.
 */
function trialDecryptsProtocol(trial: MppeKeyState, buf: Uint8Array, p: number, oneOctet: boolean): boolean {
  const peek = PEEK_SCRATCH;
  peek[0] = buf[p]!;
  peek[1] = buf[p + 1]!;
  trial.rc4.process(peek, 0, 2);
  const b0 = peek[0]!;
  return b0 === 0 ? encryptableProtocolOctet(peek[1]!) : oneOctet && encryptableProtocolOctet(b0);
}

/** Result of {@link MppeDecryptor.decrypt}. */
export type MppeReceiveVerdict =
  /** Decrypted: read `protocol`, `payloadOffset`, `payloadEnd`. */
  | 'ok'
  /** Silently discarded (RFC 1661 §1.2); `lastDrop` says why and a counter counted it. */
  | 'drop'
  /** Discarded, and the unit MUST send a CCP Reset-Request without data (RFC 3078 §8.2). */
  | 'send-reset-request';

/** Why a received packet was dropped. */
export type MppeDropReason =
  /** Fewer than 3 bytes: no header plus protocol field. */
  | 'truncated'
  /** D clear: RFC 3078 §3.1 "This bit set to 0 means that this packet is not encrypted." */
  | 'notEncrypted'
  /** Stateless without A: RFC 3078 §3.1 "this bit MUST be set on every encrypted packet." */
  | 'notFlushed'
  /** Coherency count equal to or just behind the last accepted one (duplicate or reordered). */
  | 'late'
  /**
   * Stateless jump beyond `maxRekeysPerPacket`: the first such packet moves
   * nothing; one that follows it in sequence advances the keys by the cap.
   */
  | 'rekeyLimit'
  /** Stateful gap: RFC 3078 §8.2 "the receiver MUST drop the packet and send a CCP Reset-Request". */
  | 'lost'
  /** Stateful, after a gap: "silently discard all packets until a packet is received with the FLUSHED bit set". */
  | 'awaitingFlush'
  /** The decrypted protocol field is not a valid PPP protocol (RFC 1661 §2: "All Protocols MUST be odd"). */
  | 'badProtocol';

/** Receive-side counters. */
export interface MppeReceiveCounters {
  packets: number;
  /** Bytes decrypted (protocol field + payload) of accepted packets. */
  bytes: number;
  rekeys: number;
  /** Re-syncs on a FLUSHED packet after a stateful gap. */
  resyncs: number;
  /** 'linux' re-syncs: extra key changes inferred for FLUSHED packets lost in a gap. */
  missedResets: number;
  /** 'send-reset-request' verdicts returned. */
  resetRequests: number;
  /** Stateful: packets that decrypted to an invalid protocol (garbage), each answered by a Reset-Request. */
  garbage: number;
  /** Stateful: re-syncs found wrong by garbage after them, undone to the key state before the guess. */
  resyncsUndone: number;
  dropped: Record<MppeDropReason, number>;
}

/**
 * Decrypts the peer's frames (one direction). Feed it the Information field
 * of every received protocol-0x00FD frame, in arrival order.
 */
export class MppeDecryptor {
  readonly counters: MppeReceiveCounters = {
    packets: 0,
    bytes: 0,
    rekeys: 0,
    resyncs: 0,
    missedResets: 0,
    resetRequests: 0,
    garbage: 0,
    resyncsUndone: 0,
    dropped: {
      truncated: 0,
      notEncrypted: 0,
      notFlushed: 0,
      late: 0,
      rekeyLimit: 0,
      lost: 0,
      awaitingFlush: 0,
      badProtocol: 0,
    },
  };
  /** After 'ok': the decrypted inner PPP protocol. */
  protocol = 0;
  /** After 'ok': where the inner Information field starts in the buffer given to decrypt(). */
  payloadOffset = 0;
  /** After 'ok': where it ends (exclusive). */
  payloadEnd = 0;
  /** After a drop: why. */
  lastDrop: MppeDropReason | undefined = undefined;

  readonly #keys: MppeKeyState;
  readonly #stateless: boolean;
  readonly #linuxReset: boolean;
  readonly #maxRekeys: number;
  /** Coherency count our keys correspond to; 4095 before the first packet (first expected: 0). */
  #coherencyCount = MPPE_COHERENCY_COUNT_MODULO - 1;
  /** Stateful: a gap was seen and we wait for a FLUSHED packet. */
  #discard = false;
  /** Stateless: the count of the last packet that was more than the cap ahead (-1: none since the last in range). */
  #farCount = -1;
  /** The peer has sent a protocol field compressed to one octet (so a jump's check must allow that form). */
  #peerCompresses = false;
  /** Scratch key state for the 'linux' re-sync trials (stateful only, made at the first one). */
  #trial: MppeKeyState | undefined;
  readonly #bits: MppeKeyBits;
  /**
   * Stateful: the last key state known good and its coherency count, kept
   * from the start of a loss episode until {@link MPPE_RESYNC_CONFIRM_PACKETS}
   * packets decrypted well after the re-sync. Key changes are one-way, so a
   * guess that went too far could never be taken back without it.
   */
  #anchor: MppeKeyState | undefined;
  #anchorValid = false;
  #anchorCount = 0;
  /** Packets decrypted well since the last re-sync (while the anchor is kept). */
  #sinceResync = 0;
  /** Re-syncs undone in this episode: each widens the next guess by one. */
  #failedResyncs = 0;

  constructor(config: MppeReceiveConfig) {
    this.#bits = config.bits;
    this.#keys = new MppeKeyState(config.bits, config.masterKey, config.stateless);
    this.#stateless = config.stateless;
    this.#linuxReset = (config.statefulReset ?? 'linux') === 'linux';
    const cap = config.maxRekeysPerPacket ?? DEFAULT_MAX_REKEYS_PER_PACKET;
    if (!Number.isInteger(cap) || cap < 1)
      throw new RangeError('maxRekeysPerPacket must be a positive integer');
    this.#maxRekeys = cap;
  }

  /** Coherency count the receive keys correspond to (4095 before the first packet). */
  get coherencyCount(): number {
    return this.#coherencyCount;
  }

  /** Stateful mode: true between a detected loss and the next FLUSHED packet. */
  get awaitingFlush(): boolean {
    return this.#discard;
  }

  /**
   * Decrypts `buf[start..end)`, the Information field of a received 0x00FD
   * frame, in place. On 'ok' the inner frame is `protocol` with Information
   * field `buf[payloadOffset..payloadEnd)` (a region of the same buffer:
   * copy it to keep it). Never throws on any input.
   */
  decrypt(buf: Uint8Array, start = 0, end = buf.length): MppeReceiveVerdict {
    // Header + at least one byte of (possibly PFC-compressed) protocol field.
    if (end - start < MPPE_HEADER_LENGTH + 1 || start < 0 || end > buf.length) return this.#drop('truncated');
    const view = MppeView.check(buf, receiveView(), start, end);
    if (!view.encrypted) return this.#drop('notEncrypted');
    const cc = view.coherencyCount;
    const flushed = view.flushed;
    const keys = this.#keys;
    const distance = (cc - this.#coherencyCount) & MPPE_BIT.COHERENCY_COUNT_MASK;
    const late = distance === 0 || distance > MPPE_COHERENCY_COUNT_MODULO - 1 - MPPE_LATE_WINDOW;

    if (this.#stateless) {
      if (!flushed) return this.#drop('notFlushed');
      if (late) return this.#drop('late');
      // RFC 3078 §8.1: "the receiver MUST perform N = C1 - C2 key changes
      // before decrypting the packet" — bounded per packet, and a jump only
      // once the packet shows it is real (see #statelessJump).
      if (distance === 1) {
        keys.changeKey();
        this.counters.rekeys++;
        this.#farCount = -1;
      } else if (distance > this.#maxRekeys) {
        return this.#statelessFarJump(cc);
      } else if (!this.#statelessJump(buf, view.payloadStart, end, distance)) {
        return this.#drop('badProtocol');
      }
      this.#coherencyCount = cc;
    } else if (this.#discard || distance !== 1) {
      // Duplicated or reordered: the RC4 stream is still where it was, so
      // drop without asking for a reset (Linux would reset here).
      if (late) return this.#drop('late');
      if (!flushed) {
        if (this.#discard) return this.#drop('awaitingFlush');
        // RFC 3078 §8.2: "If packet loss is detected while using stateful
        // encryption, the receiver MUST drop the packet and send a CCP
        // Reset-Request packet without data."
        this.#discard = true;
        this.#keepAnchor();
        this.counters.resetRequests++;
        this.#drop('lost');
        return 'send-reset-request';
      }
      // Start from the last key state known good: a wrong earlier guess is undone.
      if (this.#anchorValid) {
        keys.copyFrom(this.#anchor!);
        this.#coherencyCount = this.#anchorCount;
      }
      // RFC 3078 §8.2: "On receiving a packet with the FLUSHED bit set, the
      // receiver MUST set its coherency count to the one received in that
      // packet" — after one key change per missed flag packet ("the receiver
      // SHOULD ... perform the number of key changes necessary").
      const missedFlags =
        ((cc >>> 8) - (((this.#coherencyCount + 1) & MPPE_BIT.COHERENCY_COUNT_MASK) >>> 8)) & 0xf;
      for (let i = 0; i < missedFlags; i++) keys.changeKey();
      this.counters.rekeys += missedFlags;
      this.counters.resyncs++;
      this.#discard = false;
      this.#sinceResync = 0;
      this.#coherencyCount = cc;
      if (this.#linuxReset) {
        // A 'linux' sender changed its key for every FLUSHED packet, and some
        // of those may be among the lost ones (a lost reply to our
        // Reset-Request, then a second request). Linux's receiver counts only
        // flag packets here, so (reading ppp_mppe.c) it stays out of sync.
        // Try 0..MPPE_MAX_MISSED_RESETS extra key changes and keep the first
        // that decrypts to a valid protocol field (0x00 then an odd octet in
        // 0x21–0xFA: Linux's mppe_compress always sends the 2-octet form).
        const extra = this.#guessMissedResets(buf, view.payloadStart, end);
        for (let i = 0; i < extra; i++) keys.changeKey();
        this.counters.rekeys += extra;
        this.counters.missedResets += extra;
      }
      this.#statefulFlush(cc, flushed);
    } else {
      this.#coherencyCount = cc;
      this.#statefulFlush(cc, flushed);
    }

    keys.rc4.process(buf, view.payloadStart, end);
    // The protocol field leads the decrypted data, possibly compressed to
    // one octet (RFC 1661 §6.5: a 1-octet field is recognised by its odd value).
    const p = view.payloadStart;
    const b0 = buf[p]!;
    if ((b0 & 1) === 1) {
      this.protocol = b0;
      this.payloadOffset = p + 1;
      if (encryptableProtocolOctet(b0)) this.#peerCompresses = true;
    } else {
      // RFC 1661 §2: "All Protocols MUST be odd; the least significant bit of
      // the least significant octet MUST equal "1"."
      if (end - p < 2 || (buf[p + 1]! & 1) === 0) return this.#garbage();
      this.protocol = (b0 << 8) | buf[p + 1]!;
      this.payloadOffset = p + 2;
    }
    if (!this.#stateless && this.#anchorValid && ++this.#sinceResync >= MPPE_RESYNC_CONFIRM_PACKETS) {
      // The re-sync held: forget where it started.
      this.#anchorValid = false;
      this.#failedResyncs = 0;
    }
    this.payloadEnd = end;
    this.lastDrop = undefined;
    this.counters.packets++;
    this.counters.bytes += end - p;
    return 'ok';
  }

  /**
   * 'linux' re-sync: the number of extra key changes (missed FLUSHED
   * packets) after which the packet at `buf[p..end)` decrypts to a plausible
   * protocol field; 0 when none does. Each trial includes the packet's own
   * change (flag or FLUSHED: one change either way in 'linux' mode). Works
   * on scratch state only; a key change re-keys RC4 from the session key,
   * so peeking with the trial cipher does not disturb the next trial.
   */
  #guessMissedResets(buf: Uint8Array, p: number, end: number): number {
    if (end - p < 2) return 0;
    this.#trial ??= new MppeKeyState(this.#bits, new Uint8Array(16), false);
    const trial = this.#trial;
    trial.copyFrom(this.#keys);
    // Every failed re-sync cost one more Reset-Request, which a 'linux' sender answers with one more key
    // change: widen by two per failure so the guess outruns the target.
    const most = Math.min(MPPE_MAX_RESYNC_GUESS, MPPE_MAX_MISSED_RESETS + 2 * this.#failedResyncs);
    for (let extra = 0; extra <= most; extra++) {
      trial.changeKey();
      if (trialDecryptsProtocol(trial, buf, p, false)) return extra;
    }
    return 0;
  }

  /**
   * Stateless, a packet `distance` (2 to the cap) ahead: a loss burst, or a
   * count damaged on the way (GRE carries no checksum; one flipped bit of
   * the coherency count is a jump of up to 2048). Trusting a damaged count
   * would put the keys ahead of the sender's, and every genuine packet after
   * it would then be "late" until the sender caught up: through a stalled
   * TCP flow, a black hole. So the key changes are made on scratch state
   * and kept only if the packet decrypts under them to a valid protocol
   * field (0x00 and an odd octet in 0x21–0xFA; one octet alone only from a
   * peer that compresses it). True when kept (the keys are then ready for
   * this packet); false leaves the keys as they were.
   */
  #statelessJump(buf: Uint8Array, p: number, end: number, distance: number): boolean {
    if (end - p < 2) return false;
    this.#trial ??= new MppeKeyState(this.#bits, new Uint8Array(16), true);
    const trial = this.#trial;
    trial.copyFrom(this.#keys);
    for (let i = 0; i < distance; i++) trial.changeKey();
    this.counters.rekeys += distance;
    if (!trialDecryptsProtocol(trial, buf, p, this.#peerCompresses)) return false;
    this.#keys.copyFrom(trial);
    // The peek moved the RC4 stream on by two bytes: start it again from the new session key.
    this.#keys.reinitialize();
    this.#farCount = -1;
    return true;
  }

  /**
   * Stateless, a packet more than the cap ahead. A real burst that long is
   * followed by packets in sequence with it; a damaged count is not. So the
   * first one moves nothing; one whose count follows the previous far one
   * (by 1 to the cap) advances the keys by the cap (bounded CPU per packet,
   * as before) and the burst re-syncs over a few packets.
   */
  #statelessFarJump(cc: number): MppeReceiveVerdict {
    const step = (cc - this.#farCount) & MPPE_BIT.COHERENCY_COUNT_MASK;
    const follows = this.#farCount >= 0 && step >= 1 && step <= this.#maxRekeys;
    this.#farCount = cc;
    if (follows) {
      const n = this.#maxRekeys;
      for (let i = 0; i < n; i++) this.#keys.changeKey();
      this.counters.rekeys += n;
      this.#coherencyCount = (this.#coherencyCount + n) & MPPE_BIT.COHERENCY_COUNT_MASK;
    }
    return this.#drop('rekeyLimit');
  }

  /** Stateful, packet `cc` in sequence: the key change or re-initialisation it calls for. */
  #statefulFlush(cc: number, flushed: boolean): void {
    if ((cc & 0xff) === 0xff) {
      // RFC 3078 §7.2: "the receiver MUST change its key after receiving, but
      // before decrypting, a 'flag' packet".
      this.#keys.changeKey();
      this.counters.rekeys++;
    } else if (flushed) {
      if (this.#linuxReset) {
        this.#keys.changeKey();
        this.counters.rekeys++;
      } else {
        this.#keys.reinitialize();
      }
    }
  }

  /**
   * A packet decrypted to an invalid protocol field. Stateless, only that
   * packet is lost (the next one has its own key). Stateful, it means the
   * RC4 streams have parted (a wrong re-sync guess, or a count we trusted
   * that the peer did not mean): every later packet would decrypt to garbage
   * too, so treat it as the loss it is — RFC 3078 §8.2 "If packet loss is
   * detected while using stateful encryption, the receiver MUST drop the
   * packet and send a CCP Reset-Request packet without data" — and wait for
   * the peer's FLUSHED packet. If a re-sync is still unconfirmed, its guess
   * was wrong: go back to the key state before it and guess wider next time.
   */
  #garbage(): MppeReceiveVerdict {
    this.#drop('badProtocol');
    if (this.#stateless) return 'drop';
    this.counters.garbage++;
    if (this.#anchorValid && this.#sinceResync < MPPE_RESYNC_CONFIRM_PACKETS) {
      this.counters.resyncsUndone++;
      this.#failedResyncs++;
    }
    this.#keepAnchor();
    this.#discard = true;
    this.counters.resetRequests++;
    return 'send-reset-request';
  }

  /**
   * The caller found the packet that just decrypted 'ok' unusable (a
   * protocol it never negotiated: in stateful mode most likely garbage from
   * streams that parted). Same handling as an invalid protocol field.
   */
  rejectDecrypted(): MppeReceiveVerdict {
    this.counters.packets--;
    return this.#garbage();
  }

  /** Stateful: keeps the current key state as the re-sync starting point, unless one is kept already. */
  #keepAnchor(): void {
    if (this.#anchorValid) return;
    this.#anchor ??= new MppeKeyState(this.#bits, new Uint8Array(16), false);
    this.#anchor.copyFrom(this.#keys);
    this.#anchorCount = this.#coherencyCount;
    this.#anchorValid = true;
  }

  #drop(reason: MppeDropReason): 'drop' {
    this.lastDrop = reason;
    this.counters.dropped[reason]++;
    return 'drop';
  }

  /** Overwrites the key material; the decryptor is unusable afterwards. */
  wipe(): void {
    this.#keys.wipe();
    this.#anchor?.wipe();
    this.#trial?.wipe();
    this.#anchorValid = false;
  }

  toString(): string {
    return `MppeDecryptor(${this.#keys}, ${this.#stateless ? 'stateless' : 'stateful'})`;
  }
  [INSPECT](): string {
    return this.toString();
  }
}
