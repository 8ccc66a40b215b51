/**
 * Incremental framing of the control connection's TCP stream (RFC 2637
 * §1.4; docs/style.md §2.7; mqtt-packet's parser): TCP delivers bytes, not
 * messages, so one read may hold half a message or several.
 *
 * `push(chunk)` returns every message the stream now completes and keeps
 * the remainder. Too few bytes is not an error (the result is just empty).
 * Bytes that cannot be the start of a message are: a Length below the
 * 12-byte header or above the cap, a Magic Cookie other than 0x1A2B3C4D, or
 * a Length that is not the exact size of a defined message type. Those
 * throw a {@link PptpFramingError}, because "Loss of synchronization must
 * result in immediate closing of the control connection's TCP session"
 * (§1.4): the cookie "should not be used as a means for resynchronizing
 * the TCP data stream", so there is no recovery and the framer stays
 * failed.
 *
 * Validation is done on whatever prefix of a message has arrived, field by
 * field in header order (Length, then Magic Cookie, then Control Message
 * Type against Length), so garbage is refused as early as possible and with
 * the same error however the stream was cut into reads.
 *
 * A well-framed message of an undefined type (a Management message, or a
 * Control Message Type outside 1–15) is not a loss of sync: it is skipped,
 * counted in `unknownMessages`, and shown to `onUnknown` if given.
 */

import { u16 } from '../bytes.js';
import { WireError, WireErrorCode } from '../errors.js';
import {
  checkLengthCoversHeader,
  checkMagicCookie,
  checkPptpDeclaredLength,
  isPptpMessageType,
  PPTP_HEADER_FIELD,
  PPTP_HEADER_LENGTH,
  PPTP_LENGTH_REFERENCE,
  PPTP_MAX_DEFINED_MESSAGE_LENGTH,
  PptpGeneralError,
  type PptpHeader,
  PptpMessageClass,
} from './header.js';
import { decodePptpMessage, type PptpMessage } from './message.js';

/**
 * Default cap on the Length of a message the framer will buffer (a resource
 * cap, docs/style.md §3). Defined messages are at most 220 bytes; the cap only
 * bounds how much of an undefined message type is skipped.
 */
export const PPTP_MAX_MESSAGE_LENGTH = 512;

/** Options of {@link PptpFramer}. */
export interface PptpFramerOptions {
  /** Largest Length accepted (default {@link PPTP_MAX_MESSAGE_LENGTH}; at least 220). */
  readonly maxMessageLength?: number;
  /**
   * Called for each well-framed message of an undefined type, which is then
   * skipped. `bytes` is the whole message, a view valid only during the call.
   */
  readonly onUnknown?: (header: PptpHeader, bytes: Uint8Array) => void;
}

/**
 * The stream is not a PPTP control stream (or lost sync). Carries what the
 * connection engine needs: the General Error code of RFC 2637 §2.16
 * (always Bad-Format: "Length is wrong or Magic Cookie value is
 * incorrect"), and the messages that the same `push` completed *before*
 * the bad bytes, in order, so none is lost.
 */
export class PptpFramingError extends WireError {
  readonly generalError = PptpGeneralError.BadFormat;
  constructor(
    code: WireErrorCode,
    detail: string,
    reference: string | undefined,
    /** Messages completed by the failing `push` before the bad bytes. */
    readonly messages: readonly PptpMessage[],
  ) {
    super(code, detail, reference);
  }
}

/** Splits a TCP 1723 byte stream into control messages. One framer per connection and direction. */
export class PptpFramer {
  private readonly maxLength: number;
  private readonly onUnknown: PptpFramerOptions['onUnknown'];
  /**
   * Bytes of a message that has started but not completed; capacity = max
   * Length. Only while one is incomplete: a server holds thousands of idle
   * connections (docs/sessions.md).
   */
  private pending: Uint8Array | undefined;
  private pendingLength = 0;
  private failure: PptpFramingError | undefined;
  /** Well-framed messages of undefined types skipped so far. */
  unknownMessages = 0;

  constructor(opts: PptpFramerOptions = {}) {
    const max = opts.maxMessageLength ?? PPTP_MAX_MESSAGE_LENGTH;
    if (!Number.isInteger(max) || max < PPTP_MAX_DEFINED_MESSAGE_LENGTH || max > 0xffff) {
      throw new RangeError(`maxMessageLength ${max} must be an integer in 220..65535`);
    }
    this.maxLength = max;
    this.onUnknown = opts.onUnknown;
  }

  /** Bytes held back waiting for the rest of a message. */
  get buffered(): number {
    return this.pendingLength;
  }

  /** True once the stream was found invalid; every later `push` throws. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /**
   * Feeds the next bytes of the stream. Returns the messages they complete
   * (possibly none); throws {@link PptpFramingError} on invalid bytes.
   * `chunk` is not kept: the framer copies what it must hold back.
   */
  push(chunk: Uint8Array): PptpMessage[] {
    if (this.failure) {
      const f = this.failure;
      throw new PptpFramingError(f.code, `${f.detail} (stream already failed)`, f.reference, []);
    }
    const out: PptpMessage[] = [];
    let pos = 0;
    try {
      // First complete a message started by earlier reads.
      if (this.pendingLength > 0) {
        const pending = this.pending!;
        while (pos < chunk.length) {
          const need = this.frameLength(pending, this.pendingLength) ?? PPTP_HEADER_LENGTH;
          const take = Math.min(need - this.pendingLength, chunk.length - pos);
          pending.set(chunk.subarray(pos, pos + take), this.pendingLength);
          this.pendingLength += take;
          pos += take;
          const len = this.frameLength(pending, this.pendingLength);
          if (len !== undefined && this.pendingLength === len) {
            this.emit(pending.subarray(0, len), out);
            this.pendingLength = 0;
            this.pending = undefined;
            break;
          }
        }
        if (this.pendingLength > 0) {
          // Validate what is held even when the chunk ended before the header did.
          this.frameLength(pending, this.pendingLength);
          return out;
        }
      }
      // Then frame straight out of the chunk, copying only a trailing partial message.
      while (pos < chunk.length) {
        const rest = chunk.subarray(pos);
        const len = this.frameLength(rest, rest.length);
        if (len === undefined || rest.length < len) {
          this.pending ??= new Uint8Array(this.maxLength);
          this.pending.set(rest, 0);
          this.pendingLength = rest.length;
          break;
        }
        this.emit(rest.subarray(0, len), out);
        pos += len;
      }
      return out;
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      this.pendingLength = 0;
      this.pending = undefined;
      this.failure = new PptpFramingError(e.code, e.detail, e.reference, out);
      throw this.failure;
    }
  }

  /**
   * Checks the first `n` bytes of `b` as the start of a message and returns
   * its Length once the Control Message Type has arrived (10 bytes), or
   * `undefined` while fewer bytes are known. Throws `WireError` on invalid
   * bytes.
   */
  private frameLength(b: Uint8Array, n: number): number | undefined {
    if (n < 2) return undefined;
    const length = u16(b, PPTP_HEADER_FIELD.LENGTH);
    checkLengthCoversHeader(length);
    if (length > this.maxLength) {
      throw new WireError(
        WireErrorCode.LengthTooLarge,
        `PPTP Length ${length} > maximum ${this.maxLength}`,
        PPTP_LENGTH_REFERENCE,
      );
    }
    if (n < PPTP_HEADER_FIELD.MAGIC_COOKIE + 4) return undefined;
    checkMagicCookie(b);
    if (n < PPTP_HEADER_FIELD.CONTROL_MESSAGE_TYPE + 2) return undefined;
    const cls = u16(b, PPTP_HEADER_FIELD.PPTP_MESSAGE_TYPE);
    const type = u16(b, PPTP_HEADER_FIELD.CONTROL_MESSAGE_TYPE);
    if (cls === PptpMessageClass.Control && isPptpMessageType(type)) checkPptpDeclaredLength(length, type);
    return length;
  }

  /** Decodes one complete, framed message (or hands an undefined one to `onUnknown`). */
  private emit(msg: Uint8Array, out: PptpMessage[]): void {
    const cls = u16(msg, PPTP_HEADER_FIELD.PPTP_MESSAGE_TYPE);
    const type = u16(msg, PPTP_HEADER_FIELD.CONTROL_MESSAGE_TYPE);
    if (cls !== PptpMessageClass.Control || !isPptpMessageType(type)) {
      this.unknownMessages++;
      this.onUnknown?.({ length: msg.length, pptpMessageType: cls, controlMessageType: type }, msg);
      return;
    }
    out.push(decodePptpMessage(msg));
  }
}
