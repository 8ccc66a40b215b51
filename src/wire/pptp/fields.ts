/**
 * PPTP control messages as field tables (RFC 2637 §2.1–§2.15), and the one
 * generic decoder, encoder and field walk that work from them.
 *
 * Every control message is a 12-byte header followed by fixed-width fields
 * in a fixed order, and every message type has one exact size (RFC 2637 §2).
 * So a message is described once, as the list of its fields after the
 * header, in wire order, each with its width and kind (the way scapy's
 * `fields_desc` or smoltcp's field ranges describe a packet). Offsets are
 * not written by hand: {@link definePptpMessage} adds the widths up from byte
 * 12 and refuses a table whose total is not the size the RFC gives the
 * message (`PPTP_MESSAGE_LENGTH`), so a table that disagrees with its
 * diagram fails at load time.
 *
 * The same rows give the printer (`pptp-ts decode`, src/decode/pptp.ts) the
 * order, JSON key, short label and display of each field, and the table
 * gives the message's value type (`PptpMessageValueOf`). So adding a message
 * is: its Control Message Type, size and abbreviation (header.ts), its
 * table (connection.ts, call.ts, link.ts), and its entry in the
 * `PptpMessage` union and `PPTP_MESSAGE_SPECS` (message.ts).
 *
 * Decoding checks the header and the exact Length (`checkPptpMessage`,
 * "Length: Total length in octets of this PPTP message, including the entire
 * PPTP header", §2) and then reads every field in place; no field needs a
 * further check on receipt. Reserved fields are written as 0 ("Any
 * 'reserved' fields MUST be sent as 0 values", §2) and ignored on receipt,
 * as header.ts explains. Encoding refuses, with `RangeError`, a number that
 * does not fit its field and a string that is longer than its field or not
 * one byte per character.
 */

import { put16, put32, readFixedString, u16, u32, writeFixedString } from '../bytes.js';
import {
  beginPptpMessage,
  checkPptpMessage,
  checkPptpString,
  checkUint,
  PPTP_HEADER_LENGTH,
  PPTP_MESSAGE_ABBREVIATION,
  PPTP_MESSAGE_LENGTH,
  PPTP_SUBADDRESS_LENGTH,
  type PptpMessageType,
} from './header.js';

/**
 * How a field is stored: an unsigned big-endian integer of 1, 2 or 4 octets
 * ("all values are transmitted in network byte order", RFC 2637 §1.4), a
 * fixed-width NUL-padded string of one byte per character, or a Reserved
 * field of 1 or 2 octets.
 */
export type PptpFieldKind = 'u8' | 'u16' | 'u32' | 'string' | 'reserved';

/**
 * How the printer shows a field's value beyond its plain number or quoted
 * string (src/decode/pptp.ts turns each into text):
 * - `version`: Protocol Version as major.minor (0x0100 → 1.0);
 * - `hex`: hexadecimal, as wide as the field;
 * - `names`: the value and its meaning from the row's `names`;
 * - `generalError`: a General Error code (§2.16), shown only when non-zero;
 * - `framingBits` / `bearerBits`: the capability bit sets of §2.1;
 * - `framingType` / `bearerType`: the 1/2/3 (either) values of §2.7.
 */
export type PptpFieldFormat =
  | 'version'
  | 'hex'
  | 'names'
  | 'generalError'
  | 'framingBits'
  | 'bearerBits'
  | 'framingType'
  | 'bearerType';

/** One row of a message table, as written (offsets are added by {@link definePptpMessage}). */
export interface PptpFieldRow<N extends string = string, K extends PptpFieldKind = PptpFieldKind> {
  /** The property of the message value (`callId`); for a Reserved field, its RFC name in camel case (`reserved1`). */
  readonly name: N;
  readonly kind: K;
  /** Octets on the wire. */
  readonly width: number;
  /** The field's name in the RFC diagram (`Peer's Call ID`), for encoder errors and docs. */
  readonly rfcName: string;
  /** Short label the printer puts before the value (`peer call ID`); empty for a Reserved field. */
  readonly label: string;
  /** How the printer shows the value; plain when absent. */
  readonly format?: PptpFieldFormat;
  /** Value meanings for the `names` format (`1` → `OK`). */
  readonly names?: Readonly<Record<number, string>>;
}

/** A row with its place in the message. */
export interface PptpField extends PptpFieldRow {
  /** Byte offset from the start of the message (the header included). */
  readonly offset: number;
  /** What a `RangeError` from the encoder names: `OCRQ Call ID`. */
  readonly errorLabel: string;
}

/** Any message value: what every table describes. */
export type PptpMessageValue = { readonly type: PptpMessageType };

/**
 * The value a table describes: `type`, then one property per row that is
 * not Reserved, a number for an integer field and a string for a string
 * field. This is how each message's value type is written
 * (`PptpMessageValueOf<typeof OCRQ_SPEC>`), so its fields are listed once.
 */
export type PptpRowsValue<T extends PptpMessageType, R extends readonly PptpFieldRow[]> = {
  readonly type: T;
} & {
  readonly [F in R[number] as F['kind'] extends 'reserved' ? never : F['name']]: F['kind'] extends 'string'
    ? string
    : number;
};

/** Flattens an intersection into one object type (for readable hovers and errors). */
type Flat<O> = { [K in keyof O]: O[K] } & {};

/**
 * A whole message: its type, names, size, fields, and the decoder, encoder
 * and size function that work from them.
 */
export interface PptpMessageSpec<M extends PptpMessageValue = PptpMessageValue> {
  readonly type: M['type'];
  /** The RFC's abbreviation (`OCRQ`). */
  readonly abbreviation: string;
  /** The RFC's section title (`Outgoing-Call-Request`). */
  readonly title: string;
  /** Exact size in bytes, header included. */
  readonly size: number;
  /** Every field after the header, Reserved ones included, in wire order. */
  readonly fields: readonly PptpField[];
  /** The fields that carry a value (all but the Reserved ones), in wire order. */
  readonly valueFields: readonly PptpField[];
  /** Decodes one message of this type from the start of `bytes`; throws `WireError` when it is not exactly one. */
  decode(bytes: Uint8Array): M;
  /** Encodes `m` into `out` at `offset` (allocating when omitted); returns a view of the bytes written. */
  encode(m: M, out?: Uint8Array, offset?: number): Uint8Array;
  /** The size of any message of this type. */
  length(m?: M): number;
}

/** The value type of a message table: `PptpMessageValueOf<typeof ECHORQ_SPEC>` is `PptpEchoRequest`. */
export type PptpMessageValueOf<S> = S extends PptpMessageSpec<infer M> ? M : never;

function row<N extends string, K extends PptpFieldKind>(
  kind: K,
  width: number,
  name: N,
  rfcName: string,
  label: string,
  format?: PptpFieldFormat,
  names?: Readonly<Record<number, string>>,
): PptpFieldRow<N, K> {
  return { name, kind, width, rfcName, label, ...(format ? { format } : {}), ...(names ? { names } : {}) };
}

/** A one-octet unsigned field. */
export function u8Field<N extends string>(
  name: N,
  rfcName: string,
  label: string,
  format?: PptpFieldFormat,
  names?: Readonly<Record<number, string>>,
): PptpFieldRow<N, 'u8'> {
  return row('u8', 1, name, rfcName, label, format, names);
}

/** A two-octet unsigned field. */
export function u16Field<N extends string>(
  name: N,
  rfcName: string,
  label: string,
  format?: PptpFieldFormat,
) {
  return row('u16', 2, name, rfcName, label, format);
}

/** A four-octet unsigned field. */
export function u32Field<N extends string>(
  name: N,
  rfcName: string,
  label: string,
  format?: PptpFieldFormat,
) {
  return row('u32', 4, name, rfcName, label, format);
}

/** A fixed-width string: NUL-padded, ending at the first NUL or at `width` octets (64 or 128 in RFC 2637). */
export function stringField<N extends string>(name: N, width: number, rfcName: string, label: string) {
  return row('string', width, name, rfcName, label);
}

/** A Reserved field of `width` octets: "MUST be sent as 0" (RFC 2637 §2), ignored on receipt. */
export function reservedField<N extends `reserved${number}`>(name: N, width: 1 | 2) {
  return row('reserved', width, name, `Reserved${name.slice(8)}`, '');
}

/** The Result Code and Error Code pair of the replies (one octet each); `results` names the Result Codes. */
export function resultFields(results: Readonly<Record<number, string>>) {
  return [
    u8Field('resultCode', 'Result Code', 'result', 'names', results),
    u8Field('errorCode', 'Error Code', 'error', 'generalError'),
  ] as const;
}

/**
 * The rows several call messages share (RFC 2637 §2.7–§2.15), each written
 * once: the same RFC name, label and width wherever the field appears. A
 * table says in a comment whose value a row carries (the PNS's or the
 * PAC's Call ID, whose window).
 */
export const PPTP_CALL_ROWS = {
  callId: u16Field('callId', 'Call ID', 'call ID'),
  peerCallId: u16Field('peerCallId', "Peer's Call ID", 'peer call ID'),
  callSerialNumber: u16Field('callSerialNumber', 'Call Serial Number', 'serial'),
  causeCode: u16Field('causeCode', 'Cause Code', 'cause'),
  connectSpeed: u32Field('connectSpeed', 'Connect Speed', 'speed'),
  physicalChannelId: u32Field('physicalChannelId', 'Physical Channel ID', 'channel'),
  packetRecvWindowSize: u16Field('packetRecvWindowSize', 'Packet Recv. Window Size', 'window'),
  packetProcessingDelay: u16Field('packetProcessingDelay', 'Packet Processing Delay', 'delay'),
  packetTransmitDelay: u16Field('packetTransmitDelay', 'Packet Transmit Delay', 'delay'),
  framingType: u32Field('framingType', 'Framing Type', 'framing', 'framingType'),
  subaddress: stringField('subaddress', PPTP_SUBADDRESS_LENGTH, 'Subaddress', 'subaddress'),
} as const;

/**
 * Builds a message's spec from its rows: lays the fields out one after the
 * other from byte 12, and throws when they do not add up to exactly the
 * size of `type` or a row's width does not suit its kind.
 */
export function definePptpMessage<T extends PptpMessageType, const R extends readonly PptpFieldRow[]>(
  type: T,
  title: string,
  rows: R,
): PptpMessageSpec<Flat<PptpRowsValue<T, R>>> {
  type M = Flat<PptpRowsValue<T, R>>;
  const abbreviation = PPTP_MESSAGE_ABBREVIATION[type];
  const fields: PptpField[] = [];
  let offset = PPTP_HEADER_LENGTH;
  for (const r of rows) {
    const fixed = r.kind === 'u8' ? 1 : r.kind === 'u16' ? 2 : r.kind === 'u32' ? 4 : undefined;
    if ((fixed !== undefined && r.width !== fixed) || r.width < 1) {
      throw new Error(`${abbreviation} ${r.rfcName}: width ${r.width} does not suit a ${r.kind} field`);
    }
    fields.push({ ...r, offset, errorLabel: `${abbreviation} ${r.rfcName}` });
    offset += r.width;
  }
  if (offset !== PPTP_MESSAGE_LENGTH[type]) {
    throw new Error(
      `${abbreviation}: the fields end at ${offset}, the message is ${PPTP_MESSAGE_LENGTH[type]} bytes`,
    );
  }
  const size = offset;
  const spec: PptpMessageSpec<M> = {
    type: type as unknown as M['type'],
    abbreviation,
    title,
    size,
    fields,
    valueFields: fields.filter((f) => f.kind !== 'reserved'),
    decode: (bytes) => {
      checkPptpMessage(bytes, type);
      return readPptpFields(spec, bytes);
    },
    encode: (m, out, at = 0) => encodePptpFields(spec, m, out, at),
    length: () => size,
  };
  return spec;
}

/** `hostName` → `HOST_NAME`, at the type level. */
type UpperSnake<S extends string> = S extends `${infer H}${infer R}`
  ? `${H extends Lowercase<H> ? Uppercase<H> : `_${H}`}${UpperSnake<R>}`
  : '';

/** Byte offsets of the fields named `N` of a message, in upper snake case: `{ HOST_NAME: 28, ... }`. */
export function pptpFieldOffsets<N extends string>(
  spec: PptpMessageSpec,
  names: readonly N[],
): Readonly<Record<UpperSnake<N>, number>> {
  const out: Record<string, number> = {};
  for (const n of names) {
    const f = spec.fields.find((x) => x.name === n);
    if (!f) throw new Error(`${spec.abbreviation} has no field ${n}`);
    out[n.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()] = f.offset;
  }
  return out as Record<UpperSnake<N>, number>;
}

/**
 * Reads the fields of a message whose header and Length are already checked
 * (`bytes` holds at least `spec.size` bytes). Strings end at the first NUL.
 */
export function readPptpFields<M extends PptpMessageValue>(spec: PptpMessageSpec<M>, bytes: Uint8Array): M {
  const m: Record<string, number | string> = { type: spec.type };
  for (const f of spec.valueFields) {
    switch (f.kind) {
      case 'u8':
        m[f.name] = bytes[f.offset]!;
        break;
      case 'u16':
        m[f.name] = u16(bytes, f.offset);
        break;
      case 'u32':
        m[f.name] = u32(bytes, f.offset);
        break;
      default:
        m[f.name] = readFixedString(bytes, f.offset, f.width);
    }
  }
  return m as unknown as M;
}

/**
 * Encodes `m` into `out` at `offset` (allocating a buffer of exactly the
 * message's size when `out` is omitted) and returns a view of the bytes
 * written. Throws `RangeError` for a value that does not fit its field or a
 * buffer that is too small.
 */
export function encodePptpFields<M extends PptpMessageValue>(
  spec: PptpMessageSpec<M>,
  m: M,
  out?: Uint8Array,
  offset = 0,
): Uint8Array {
  const b = beginPptpMessage(spec.type, out, offset);
  const values = m as unknown as Record<string, number | string>;
  for (const f of spec.valueFields) {
    const at = offset + f.offset;
    const v = values[f.name];
    switch (f.kind) {
      case 'u8':
        b[at] = checkUint(v as number, 8, f.errorLabel);
        break;
      case 'u16':
        put16(b, at, checkUint(v as number, 16, f.errorLabel));
        break;
      case 'u32':
        put32(b, at, checkUint(v as number, 32, f.errorLabel));
        break;
      default:
        if (typeof v !== 'string') throw new RangeError(`${f.errorLabel}: ${String(v)} is not a string`);
        writeFixedString(b, at, f.width, checkPptpString(v, f.width, f.errorLabel));
    }
  }
  return b.subarray(offset, offset + spec.size);
}
