/**
 * PPTP control messages (RFC 2637 §2) for the decode output: a per-direction
 * splitter over the reassembled TCP 1723 byte stream, and one layer per
 * message with every field, in the order, with the names and the display
 * its field table gives (src/wire/pptp/fields.ts).
 *
 * The splitter is deliberately more forgiving than the stack's `PptpFramer`.
 * A PPTP endpoint must drop the connection on "loss of synchronization"
 * (RFC 2637 §1.4), and the framer does; an analyser should instead show
 * where the stream broke and then carry on. So a message whose Length and
 * Magic Cookie frame it but whose body `decodePptpMessage` refuses is shown
 * malformed and the next message is read after it; bytes that cannot start a
 * message at all are reported once, and reading resumes at the next place a
 * plausible header (Length 12–512, then the cookie) appears.
 */

import { u16, u32 } from '../wire/bytes.js';
import { WireError, WireErrorCode } from '../wire/errors.js';
import {
  decodePptpMessage,
  isPptpMessageType,
  PPTP_HEADER_LENGTH,
  PPTP_MAGIC_COOKIE,
  PPTP_MAX_MESSAGE_LENGTH,
  PPTP_MESSAGE_SPECS,
  type PptpField,
  type PptpMessage,
} from '../wire/pptp/index.js';
import {
  type Field,
  flag,
  hex,
  hidden,
  kv,
  type Layer,
  malformedLayer,
  printableString,
  shown,
} from './tree.js';

/** General Error codes (RFC 2637 §2.16). */
const GENERAL_ERROR_NAMES: Readonly<Record<number, string>> = {
  0: 'None',
  1: 'Not-Connected',
  2: 'Bad-Format',
  3: 'Bad-Value',
  4: 'No-Resource',
  5: 'Bad-Call ID',
  6: 'PAC-Error',
};

function withName(names: Readonly<Record<number, string>> | undefined, v: number): string {
  const n = names?.[v];
  return n ? `${v} (${n})` : String(v);
}

/** Framing/Bearer capability bits (RFC 2637 §2.1) as words. */
function capabilityText(v: number, one: string, two: string): string {
  const words: string[] = [];
  if (v & 1) words.push(one);
  if (v & 2) words.push(two);
  if (v & ~3) words.push(hex(v & ~3, 8));
  return words.length ? words.join('+') : 'none';
}

/** Framing/Bearer *type* values (RFC 2637 §2.7: 1, 2, or 3 = either). */
function typeText(v: number, one: string, two: string): string {
  return v === 1 ? one : v === 2 ? two : v === 3 ? `${one} or ${two}` : String(v);
}

/** One field of a decoded message, as its table row says to show it. */
function fieldOf(f: PptpField, v: number | string): Field {
  if (typeof v === 'string') return kv(f.name, v, f.label, `"${printableString(v, 128)}"`);
  switch (f.format) {
    case undefined:
      return kv(f.name, v, f.label);
    case 'version':
      return kv(f.name, v, f.label, `${v >>> 8}.${v & 0xff}`);
    case 'hex':
      return kv(f.name, v, f.label, hex(v, f.width * 2));
    case 'names':
      return kv(f.name, v, f.label, withName(f.names, v));
    case 'generalError':
      // The Error Code matters only with a General Error result; 0 otherwise.
      return v ? kv(f.name, v, f.label, withName(GENERAL_ERROR_NAMES, v)) : hidden(f.name, 0);
    case 'framingBits':
      return kv(f.name, v, f.label, capabilityText(v, 'async', 'sync'));
    case 'bearerBits':
      return kv(f.name, v, f.label, capabilityText(v, 'analog', 'digital'));
    case 'framingType':
      return kv(f.name, v, f.label, typeText(v, 'async', 'sync'));
    case 'bearerType':
      return kv(f.name, v, f.label, typeText(v, 'analog', 'digital'));
  }
}

/** Fields of one decoded message, every one of them, in wire order (from its field table). */
function messageFields(m: PptpMessage): Field[] {
  const values = m as unknown as Readonly<Record<string, number | string>>;
  return PPTP_MESSAGE_SPECS[m.type].valueFields.map((f) => fieldOf(f, values[f.name]!));
}

/** The common header fields (RFC 2637 §2): type name, Length, and the constants only in JSON. */
function headerFields(bytes: Uint8Array): Field[] {
  const type = bytes.length >= 10 ? u16(bytes, 8) : -1;
  const spec = isPptpMessageType(type) ? PPTP_MESSAGE_SPECS[type] : undefined;
  return [
    shown(
      'messageType',
      type,
      spec ? `${spec.title} (${spec.abbreviation})` : `Control Message Type ${type}`,
    ),
    hidden('name', spec?.abbreviation ?? null),
    kv('length', bytes.length >= 2 ? u16(bytes, 0) : 0, 'len'),
    hidden('pptpMessageType', bytes.length >= 4 ? u16(bytes, 2) : null),
    hidden('magicCookie', bytes.length >= 8 ? u32(bytes, 4) : null),
  ];
}

/** The layer of one framed control message (`bytes` is exactly Length long), and the message when it decodes. */
export function pptpMessageLayer(bytes: Uint8Array): { layer: Layer; message?: PptpMessage } {
  const head = headerFields(bytes);
  let m: PptpMessage;
  try {
    m = decodePptpMessage(bytes);
  } catch (e) {
    return { layer: malformedLayer('PPTP', e, bytes, head) };
  }
  return { layer: { protocol: 'PPTP', fields: [...head, ...messageFields(m)] }, message: m };
}

/** What the splitter found in the bytes of one push. */
export type PptpStreamItem =
  | { readonly kind: 'message'; readonly layer: Layer; readonly type: number; readonly message?: PptpMessage }
  | { readonly kind: 'desync'; readonly layer: Layer; readonly skippedBytes: number };

function plausibleHeader(b: Uint8Array, at: number): boolean {
  const len = u16(b, at);
  return len >= PPTP_HEADER_LENGTH && len <= PPTP_MAX_MESSAGE_LENGTH && u32(b, at + 4) === PPTP_MAGIC_COOKIE;
}

/**
 * Splits one direction of a TCP 1723 stream into control messages (see the
 * module comment). Bounded: at most one maximum-size message is held while
 * in sync; while out of sync only the last 7 bytes (a possible header start).
 */
export class PptpStreamSplitter {
  private buf = new Uint8Array(0);
  private inSync = true;
  private skipped = 0;

  /** Bytes held for a message not yet complete. */
  get buffered(): number {
    return this.buf.length;
  }

  /** Bytes were lost before what comes next (a TCP gap): start over, looking for a header. */
  gap(): void {
    this.buf = new Uint8Array(0);
    this.inSync = false;
  }

  /** Feeds in-order stream bytes; returns the messages (and sync losses) they complete. */
  push(data: Uint8Array): PptpStreamItem[] {
    const b = new Uint8Array(this.buf.length + data.length);
    b.set(this.buf);
    b.set(data, this.buf.length);
    const out: PptpStreamItem[] = [];
    let off = 0;
    for (;;) {
      const left = b.length - off;
      if (!this.inSync) {
        // Scan for a plausible header: Length in range and the cookie 4 bytes later.
        let at = off;
        while (b.length - at >= 8 && !plausibleHeader(b, at)) at++;
        this.skipped += at - off;
        off = at;
        if (b.length - off < 8) break;
        this.inSync = true;
        if (this.skipped) {
          out.push(this.desyncItem(`${this.skipped} bytes skipped to the next message header`));
          this.skipped = 0;
        }
        continue;
      }
      if (left < 8) break;
      if (!plausibleHeader(b, off)) {
        const len = u16(b, off);
        const cookie = u32(b, off + 4);
        const why =
          cookie !== PPTP_MAGIC_COOKIE
            ? new WireError(
                WireErrorCode.BadMagic,
                `PPTP Magic Cookie ${hex(cookie, 8)} != 0x1a2b3c4d: the stream is out of sync`,
                'RFC 2637 §1.4: "Its basic purpose is to allow the receiver to ensure that it is properly synchronized with the TCP data stream"',
              )
            : new WireError(
                len < PPTP_HEADER_LENGTH ? WireErrorCode.LengthTooSmall : WireErrorCode.LengthTooLarge,
                `PPTP Length ${len} outside ${PPTP_HEADER_LENGTH}..${PPTP_MAX_MESSAGE_LENGTH}: the stream is out of sync`,
                'RFC 2637 §2: "Length: Total length in octets of this PPTP message, including the entire PPTP header"',
              );
        out.push({
          kind: 'desync',
          layer: malformedLayer('PPTP', why, b.subarray(off, off + 24)),
          skippedBytes: 0,
        });
        this.inSync = false;
        this.skipped = 1;
        off += 1;
        continue;
      }
      const len = u16(b, off);
      if (left < len) break;
      const bytes = b.subarray(off, off + len);
      const { layer, message } = pptpMessageLayer(bytes);
      const type = u16(bytes, 8);
      out.push(message ? { kind: 'message', layer, type, message } : { kind: 'message', layer, type });
      off += len;
    }
    // Keep what may start a message; while out of sync, only a possible header prefix.
    let keep = b.subarray(off);
    if (!this.inSync && keep.length > 7) {
      this.skipped += keep.length - 7;
      keep = keep.subarray(keep.length - 7);
    }
    this.buf = keep.slice();
    return out;
  }

  private desyncItem(detail: string): PptpStreamItem {
    return {
      kind: 'desync',
      layer: { protocol: 'PPTP', fields: [flag('resynchronized', true, 'resynchronized')], note: detail },
      skippedBytes: this.skipped,
    };
  }
}
