/**
 * MPPE's transmit side (RFC 3078 §3.1, §7, §8.2): encrypts our frames in
 * place; the module comment of src/mppe/mppe.ts has the whole engine.
 */
import { encodeMppeHeader, MPPE_BIT, MPPE_COHERENCY_COUNT_MODULO, MPPE_HEADER_LENGTH } from '../wire/mppe.js';
import { MPPE_HEADROOM, MPPE_MAX_PROTOCOL, MPPE_MIN_PROTOCOL, type MppeDirectionConfig } from './config.js';
import { INSPECT, MppeKeyState } from './key-state.js';

/** The encoder's header, reused by every encryptor (no per-packet or per-link object). */
const HEADER_SCRATCH = {
  flushed: false,
  atFront: false,
  compressed: false,
  encrypted: true,
  coherencyCount: 0,
};

/** Transmit-side counters. */
export interface MppeTransmitCounters {
  packets: number;
  /** Plaintext bytes encrypted (protocol field + payload). */
  bytes: number;
  /** Key changes performed (RFC 3078 §7.3). */
  rekeys: number;
  /** Packets sent with A (FLUSHED). */
  flushed: number;
  /** CCP Reset-Requests honoured (one per flushed packet they caused). */
  resets: number;
}

/**
 * Encrypts our outgoing frames (one direction). Construct once CCP has
 * negotiated MPPE; call {@link resetRequested} on every CCP Reset-Request
 * the peer sends.
 */
export class MppeEncryptor {
  readonly counters: MppeTransmitCounters = { packets: 0, bytes: 0, rekeys: 0, flushed: 0, resets: 0 };
  readonly #keys: MppeKeyState;
  readonly #stateless: boolean;
  readonly #linuxReset: boolean;
  /** Count of the last packet sent; 4095 so that the first packet carries 0 (as Linux does). */
  #coherencyCount = MPPE_COHERENCY_COUNT_MODULO - 1;
  #resetPending = false;

  constructor(config: MppeDirectionConfig) {
    this.#keys = new MppeKeyState(config.bits, config.masterKey, config.stateless);
    this.#stateless = config.stateless;
    this.#linuxReset = (config.statefulReset ?? 'linux') === 'linux';
  }

  /** Coherency count of the last packet sent (4095 before the first). */
  get coherencyCount(): number {
    return this.#coherencyCount;
  }

  /**
   * The peer sent a CCP Reset-Request (its receiver lost sync). RFC 3078
   * §8.2: the sender "MUST re-initialize its own RC4 tables ... and set the
   * FLUSHED bit in the next packet sent". Done lazily on the next packet, so
   * several Reset-Requests before it cause one reset (as Linux does: the peer
   * cannot count how many we acted on). Harmless in stateless mode, where
   * every packet is flushed anyway.
   */
  resetRequested(): void {
    if (!this.#stateless) this.#resetPending = true;
  }

  /**
   * Encrypts one frame in place. On entry `buf[payloadOffset..payloadEnd)`
   * holds the Information field of a frame whose PPP protocol is `protocol`,
   * and the {@link MPPE_HEADROOM} bytes before it are free. On return
   * `buf[payloadOffset - 4 .. payloadEnd)` is the Information field of the
   * protocol-0x00FD frame to send (RFC 3078 §3.1: header, then the encrypted
   * protocol field and data). Returns `payloadOffset - 4`.
   *
   * Throws RangeError for a protocol outside 0x0021–0x00FA (RFC 3078 §3:
   * "Other packets are not passed thru the MPPE processor"), an even one
   * (RFC 1661 §2: "All Protocols MUST be odd") or missing headroom: all
   * programming errors in the caller.
   */
  encrypt(protocol: number, buf: Uint8Array, payloadOffset: number, payloadEnd: number): number {
    if (protocol < MPPE_MIN_PROTOCOL || protocol > MPPE_MAX_PROTOCOL || (protocol & 1) === 0) {
      throw new RangeError(
        `MPPE encrypts (odd) protocols 0x0021-0x00fa only, not 0x${protocol.toString(16)}`,
      );
    }
    const start = payloadOffset - MPPE_HEADROOM;
    if (start < 0 || payloadEnd < payloadOffset || payloadEnd > buf.length) {
      throw new RangeError('MppeEncryptor.encrypt: bad offsets or less than 4 bytes of headroom');
    }
    const keys = this.#keys;
    const cc = (this.#coherencyCount + 1) & MPPE_BIT.COHERENCY_COUNT_MASK;
    this.#coherencyCount = cc;
    let flushed = false;
    if (this.#stateless) {
      // RFC 3078 §7.1: "the sender MUST change its key before encrypting and
      // transmitting each packet"; §3.1: A "MUST be set on every encrypted packet".
      keys.changeKey();
      this.counters.rekeys++;
      flushed = true;
    } else if ((cc & 0xff) === 0xff) {
      // RFC 3078 §7.2: change the key before every "flag" packet. A fresh key
      // also serves a pending reset.
      keys.changeKey();
      this.counters.rekeys++;
      flushed = true;
      if (this.#resetPending) this.counters.resets++;
      this.#resetPending = false;
    } else if (this.#resetPending) {
      if (this.#linuxReset) {
        keys.changeKey();
        this.counters.rekeys++;
      } else {
        keys.reinitialize();
      }
      flushed = true;
      this.counters.resets++;
      this.#resetPending = false;
    }
    const h = HEADER_SCRATCH;
    h.flushed = flushed;
    h.coherencyCount = cc;
    encodeMppeHeader(h, buf, start);
    buf[start + 2] = protocol >>> 8;
    buf[start + 3] = protocol & 0xff;
    keys.rc4.process(buf, start + MPPE_HEADER_LENGTH, payloadEnd);
    this.counters.packets++;
    this.counters.bytes += payloadEnd - start - MPPE_HEADER_LENGTH;
    if (flushed) this.counters.flushed++;
    return start;
  }

  /** Overwrites the key material; the encryptor is unusable afterwards. */
  wipe(): void {
    this.#keys.wipe();
  }

  toString(): string {
    return `MppeEncryptor(${this.#keys}, ${this.#stateless ? 'stateless' : 'stateful'})`;
  }
  [INSPECT](): string {
    return this.toString();
  }
}
