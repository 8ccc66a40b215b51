/**
 * Any PPTP control message (RFC 2637 §2): the union of the 15 message
 * values, their field tables by type, and one decode/encode/length triple
 * over all of them (the generic codec of fields.ts), so callers
 * (the control-connection engine, `pptp-ts decode`, the tshark oracle
 * test) need not switch on the type themselves.
 */

import { u16 } from '../bytes.js';
import { WireError, WireErrorCode } from '../errors.js';
import {
  CCRQ_SPEC,
  CDN_SPEC,
  ICCN_SPEC,
  ICRP_SPEC,
  ICRQ_SPEC,
  OCRP_SPEC,
  OCRQ_SPEC,
  type PptpCallClearRequest,
  type PptpCallDisconnectNotify,
  type PptpIncomingCallConnected,
  type PptpIncomingCallReply,
  type PptpIncomingCallRequest,
  type PptpOutgoingCallReply,
  type PptpOutgoingCallRequest,
} from './call-messages.js';
import {
  ECHORP_SPEC,
  ECHORQ_SPEC,
  type PptpEchoReply,
  type PptpEchoRequest,
  type PptpStartControlConnectionReply,
  type PptpStartControlConnectionRequest,
  type PptpStopControlConnectionReply,
  type PptpStopControlConnectionRequest,
  SCCRP_SPEC,
  SCCRQ_SPEC,
  STOP_CCRP_SPEC,
  STOP_CCRQ_SPEC,
} from './connection-messages.js';
import { encodePptpFields, type PptpMessageSpec, readPptpFields } from './fields.js';
import {
  checkControlMessageClass,
  checkPptpLength,
  isPptpMessageType,
  PPTP_HEADER_FIELD,
  PPTP_HEADER_LENGTH,
  PPTP_MESSAGE_ABBREVIATION,
  PPTP_MESSAGE_LENGTH,
  PptpGeneralError,
  PptpHeaderView,
  type PptpMessageType,
} from './header.js';
import { type PptpSetLinkInfo, type PptpWanErrorNotify, SLI_SPEC, WEN_SPEC } from './link-messages.js';

/** Any of the 15 control messages of RFC 2637 §2, discriminated by `type`. */
export type PptpMessage =
  | PptpStartControlConnectionRequest
  | PptpStartControlConnectionReply
  | PptpStopControlConnectionRequest
  | PptpStopControlConnectionReply
  | PptpEchoRequest
  | PptpEchoReply
  | PptpOutgoingCallRequest
  | PptpOutgoingCallReply
  | PptpIncomingCallRequest
  | PptpIncomingCallReply
  | PptpIncomingCallConnected
  | PptpCallClearRequest
  | PptpCallDisconnectNotify
  | PptpWanErrorNotify
  | PptpSetLinkInfo;

/** The message value of one type: `PptpMessageOf<PptpMessageType.EchoRequest>` is `PptpEchoRequest`. */
export type PptpMessageOf<T extends PptpMessageType> = Extract<PptpMessage, { type: T }>;

/**
 * The field table of every control message (fields.ts), by Control Message
 * Type: what the generic decoder, encoder and the decode printer read. A
 * new message type gets its entry here.
 */
export const PPTP_MESSAGE_SPECS: { readonly [T in PptpMessageType]: PptpMessageSpec<PptpMessageOf<T>> } = {
  [SCCRQ_SPEC.type]: SCCRQ_SPEC,
  [SCCRP_SPEC.type]: SCCRP_SPEC,
  [STOP_CCRQ_SPEC.type]: STOP_CCRQ_SPEC,
  [STOP_CCRP_SPEC.type]: STOP_CCRP_SPEC,
  [ECHORQ_SPEC.type]: ECHORQ_SPEC,
  [ECHORP_SPEC.type]: ECHORP_SPEC,
  [OCRQ_SPEC.type]: OCRQ_SPEC,
  [OCRP_SPEC.type]: OCRP_SPEC,
  [ICRQ_SPEC.type]: ICRQ_SPEC,
  [ICRP_SPEC.type]: ICRP_SPEC,
  [ICCN_SPEC.type]: ICCN_SPEC,
  [CCRQ_SPEC.type]: CCRQ_SPEC,
  [CDN_SPEC.type]: CDN_SPEC,
  [WEN_SPEC.type]: WEN_SPEC,
  [SLI_SPEC.type]: SLI_SPEC,
};

/** The field table of message type `type`. */
export function pptpMessageSpec<T extends PptpMessageType>(type: T): PptpMessageSpec<PptpMessageOf<T>> {
  return PPTP_MESSAGE_SPECS[type];
}

/**
 * Decodes one control message from the start of `bytes` (trailing bytes past
 * its Length are ignored). Throws `WireError`: Truncated when the buffer is
 * shorter than the header or the declared Length; BadMagic for a wrong
 * cookie; UnknownType for a Management message or a Control Message Type
 * outside 1–15; LengthTooSmall/LengthTooLarge when Length is not exactly the
 * size of that type.
 */
export function decodePptpMessage(bytes: Uint8Array): PptpMessage {
  const view = PptpHeaderView.check(bytes);
  checkControlMessageClass(view.pptpMessageType);
  const type = view.controlMessageType;
  if (!isPptpMessageType(type)) {
    throw new WireError(WireErrorCode.UnknownType, `Control Message Type ${type} is not defined (1–15)`);
  }
  // The header is checked and of a defined type: only its Length against the type's size is left.
  const spec: PptpMessageSpec<PptpMessage> = PPTP_MESSAGE_SPECS[type];
  checkPptpLength(bytes, type);
  return readPptpFields(spec, bytes);
}

/**
 * Encodes any control message into `out` at `offset` (allocating a buffer
 * of exactly its size when `out` is omitted) and returns a view of the
 * bytes written. Throws `RangeError` for a field that does not fit or a
 * buffer that is too small.
 */
export function encodePptpMessage(m: PptpMessage, out?: Uint8Array, offset = 0): Uint8Array {
  const spec: PptpMessageSpec<PptpMessage> = PPTP_MESSAGE_SPECS[m.type];
  return encodePptpFields(spec, m, out, offset);
}

/** Encoded size of `m` (each type has one fixed size, RFC 2637 §2). */
export function pptpMessageLength(m: PptpMessage): number {
  return PPTP_MESSAGE_LENGTH[m.type];
}

/** The RFC abbreviation of a Control Message Type (`SCCRQ`, `OCRP`...), or `type-N` for an undefined one. */
export function pptpMessageName(type: number): string {
  return isPptpMessageType(type) ? PPTP_MESSAGE_ABBREVIATION[type] : `type-${type}`;
}

/**
 * One-line text of a message for logs (yamux's `stringifyHeader`):
 * `OCRP callId=4243 peerCallId=4242 resultCode=1 ...`. Messages carry no
 * secrets, so every field is shown.
 */
export function stringifyPptpMessage(m: PptpMessage): string {
  let s = pptpMessageName(m.type);
  for (const [k, v] of Object.entries(m)) {
    if (k === 'type') continue;
    s += typeof v === 'string' ? ` ${k}=${JSON.stringify(v)}` : ` ${k}=${v}`;
  }
  return s;
}

/**
 * The General Error code (RFC 2637 §2.16) that describes why `err` rejected
 * a message: "2 (Bad-Format) - Length is wrong or Magic Cookie value is
 * incorrect" for framing problems, "3 (Bad-Value)" for anything else.
 */
export function pptpGeneralErrorOf(err: WireError): PptpGeneralError {
  switch (err.code) {
    case WireErrorCode.Truncated:
    case WireErrorCode.LengthTooSmall:
    case WireErrorCode.LengthTooLarge:
    case WireErrorCode.BadMagic:
      return PptpGeneralError.BadFormat;
    default:
      return PptpGeneralError.BadValue;
  }
}

/**
 * Reads the Control Message Type of bytes known to hold at least a full
 * header, without any other check (for logs of rejected messages).
 */
export function peekPptpMessageType(bytes: Uint8Array): number | undefined {
  return bytes.length >= PPTP_HEADER_LENGTH ? u16(bytes, PPTP_HEADER_FIELD.CONTROL_MESSAGE_TYPE) : undefined;
}
