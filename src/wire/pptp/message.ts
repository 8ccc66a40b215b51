/**
 * Any PPTP control message (RFC 2637 §2): the union of the 15 message
 * values, and one decode/encode/length triple over all of them, so callers
 * (the control-connection engine, `pptp-ts decode`, the tshark oracle
 * test) need not switch on the type themselves.
 */

import { assertNever, u16 } from '../bytes.js';
import { WireError, WireErrorCode } from '../errors.js';
import {
  decodeCallClearRequest,
  decodeCallDisconnectNotify,
  decodeIncomingCallConnected,
  decodeIncomingCallReply,
  decodeIncomingCallRequest,
  decodeOutgoingCallReply,
  decodeOutgoingCallRequest,
  encodeCallClearRequest,
  encodeCallDisconnectNotify,
  encodeIncomingCallConnected,
  encodeIncomingCallReply,
  encodeIncomingCallRequest,
  encodeOutgoingCallReply,
  encodeOutgoingCallRequest,
  type PptpCallClearRequest,
  type PptpCallDisconnectNotify,
  type PptpIncomingCallConnected,
  type PptpIncomingCallReply,
  type PptpIncomingCallRequest,
  type PptpOutgoingCallReply,
  type PptpOutgoingCallRequest,
} from './call.js';
import {
  decodeEchoReply,
  decodeEchoRequest,
  decodeStartControlConnectionReply,
  decodeStartControlConnectionRequest,
  decodeStopControlConnectionReply,
  decodeStopControlConnectionRequest,
  encodeEchoReply,
  encodeEchoRequest,
  encodeStartControlConnectionReply,
  encodeStartControlConnectionRequest,
  encodeStopControlConnectionReply,
  encodeStopControlConnectionRequest,
  type PptpEchoReply,
  type PptpEchoRequest,
  type PptpStartControlConnectionReply,
  type PptpStartControlConnectionRequest,
  type PptpStopControlConnectionReply,
  type PptpStopControlConnectionRequest,
} from './connection.js';
import {
  isPptpMessageType,
  PPTP_HEADER_FIELD,
  PPTP_HEADER_LENGTH,
  PPTP_MESSAGE_ABBREVIATION,
  PPTP_MESSAGE_LENGTH,
  PptpGeneralError,
  PptpHeaderView,
  PptpMessageClass,
  PptpMessageType,
} from './header.js';
import {
  decodeSetLinkInfo,
  decodeWanErrorNotify,
  encodeSetLinkInfo,
  encodeWanErrorNotify,
  type PptpSetLinkInfo,
  type PptpWanErrorNotify,
} from './link.js';

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
 * Decodes one control message from the start of `bytes` (trailing bytes past
 * its Length are ignored). Throws `WireError`: Truncated when the buffer is
 * shorter than the header or the declared Length; BadMagic for a wrong
 * cookie; UnknownType for a Management message or a Control Message Type
 * outside 1–15; LengthTooSmall/LengthTooLarge when Length is not exactly the
 * size of that type.
 */
export function decodePptpMessage(bytes: Uint8Array): PptpMessage {
  const view = PptpHeaderView.check(bytes);
  if (view.pptpMessageType !== PptpMessageClass.Control) {
    throw new WireError(
      WireErrorCode.UnknownType,
      `PPTP Message Type ${view.pptpMessageType} is not 1 (Control Message)`,
      'RFC 2637 §1.4: "Management messages are currently not defined"',
    );
  }
  const type = view.controlMessageType;
  if (!isPptpMessageType(type)) {
    throw new WireError(WireErrorCode.UnknownType, `Control Message Type ${type} is not defined (1–15)`);
  }
  switch (type) {
    case PptpMessageType.StartControlConnectionRequest:
      return decodeStartControlConnectionRequest(bytes);
    case PptpMessageType.StartControlConnectionReply:
      return decodeStartControlConnectionReply(bytes);
    case PptpMessageType.StopControlConnectionRequest:
      return decodeStopControlConnectionRequest(bytes);
    case PptpMessageType.StopControlConnectionReply:
      return decodeStopControlConnectionReply(bytes);
    case PptpMessageType.EchoRequest:
      return decodeEchoRequest(bytes);
    case PptpMessageType.EchoReply:
      return decodeEchoReply(bytes);
    case PptpMessageType.OutgoingCallRequest:
      return decodeOutgoingCallRequest(bytes);
    case PptpMessageType.OutgoingCallReply:
      return decodeOutgoingCallReply(bytes);
    case PptpMessageType.IncomingCallRequest:
      return decodeIncomingCallRequest(bytes);
    case PptpMessageType.IncomingCallReply:
      return decodeIncomingCallReply(bytes);
    case PptpMessageType.IncomingCallConnected:
      return decodeIncomingCallConnected(bytes);
    case PptpMessageType.CallClearRequest:
      return decodeCallClearRequest(bytes);
    case PptpMessageType.CallDisconnectNotify:
      return decodeCallDisconnectNotify(bytes);
    case PptpMessageType.WanErrorNotify:
      return decodeWanErrorNotify(bytes);
    case PptpMessageType.SetLinkInfo:
      return decodeSetLinkInfo(bytes);
    default:
      return assertNever(type, 'PPTP message type');
  }
}

/**
 * Encodes any control message into `out` at `offset` (allocating a buffer
 * of exactly its size when `out` is omitted) and returns a view of the
 * bytes written. Throws `RangeError` for a field that does not fit or a
 * buffer that is too small.
 */
export function encodePptpMessage(m: PptpMessage, out?: Uint8Array, offset = 0): Uint8Array {
  switch (m.type) {
    case PptpMessageType.StartControlConnectionRequest:
      return encodeStartControlConnectionRequest(m, out, offset);
    case PptpMessageType.StartControlConnectionReply:
      return encodeStartControlConnectionReply(m, out, offset);
    case PptpMessageType.StopControlConnectionRequest:
      return encodeStopControlConnectionRequest(m, out, offset);
    case PptpMessageType.StopControlConnectionReply:
      return encodeStopControlConnectionReply(m, out, offset);
    case PptpMessageType.EchoRequest:
      return encodeEchoRequest(m, out, offset);
    case PptpMessageType.EchoReply:
      return encodeEchoReply(m, out, offset);
    case PptpMessageType.OutgoingCallRequest:
      return encodeOutgoingCallRequest(m, out, offset);
    case PptpMessageType.OutgoingCallReply:
      return encodeOutgoingCallReply(m, out, offset);
    case PptpMessageType.IncomingCallRequest:
      return encodeIncomingCallRequest(m, out, offset);
    case PptpMessageType.IncomingCallReply:
      return encodeIncomingCallReply(m, out, offset);
    case PptpMessageType.IncomingCallConnected:
      return encodeIncomingCallConnected(m, out, offset);
    case PptpMessageType.CallClearRequest:
      return encodeCallClearRequest(m, out, offset);
    case PptpMessageType.CallDisconnectNotify:
      return encodeCallDisconnectNotify(m, out, offset);
    case PptpMessageType.WanErrorNotify:
      return encodeWanErrorNotify(m, out, offset);
    case PptpMessageType.SetLinkInfo:
      return encodeSetLinkInfo(m, out, offset);
    default:
      return assertNever(m, 'PPTP message');
  }
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
