/**
 * Control-connection management messages (RFC 2637 §2.1–§2.6):
 * Start-Control-Connection-Request/-Reply, Stop-Control-Connection-
 * Request/-Reply, Echo-Request/-Reply.
 *
 * Each message has a field table next to its RFC diagram, a value
 * interface, and `decodeXxx(bytes)` / `encodeXxx(value, out?, offset?)` /
 * `xxxLength(value)` (docs/style.md §2.2). Decoders return plain values (numbers
 * and strings), never views into the input, so nothing needs copying.
 */

import { put16, put32, readFixedString, u16, u32, writeFixedString } from '../bytes.js';
import {
  beginPptpMessage,
  checkPptpMessage,
  checkPptpString,
  checkUint,
  PPTP_HOST_NAME_LENGTH,
  PPTP_MESSAGE_LENGTH,
  PPTP_VENDOR_STRING_LENGTH,
  PptpMessageType,
} from './header.js';

/**
 * Result Code of Start-Control-Connection-Reply (RFC 2637 §2.2).
 */
export enum PptpStartResult {
  /** "1 - Successful channel establishment". */
  Success = 1,
  /** "2 - General error -- Error Code indicates the problem". */
  GeneralError = 2,
  /** "3 - Command channel already exists". */
  ChannelExists = 3,
  /** "4 - Requester is not authorized to establish a command channel". */
  NotAuthorized = 4,
  /** "5 - The protocol version of the requester is not supported". */
  UnsupportedVersion = 5,
}

/** Reason of Stop-Control-Connection-Request (RFC 2637 §2.3). */
export enum PptpStopReason {
  /** "1 (None) - General request to clear control connection". */
  None = 1,
  /** "2 (Stop-Protocol) - Can't support peer's version of the protocol". */
  StopProtocol = 2,
  /** "3 (Stop-Local-Shutdown) - Requester is being shut down". */
  StopLocalShutdown = 3,
}

/** Result Code of Stop-Control-Connection-Reply (RFC 2637 §2.4). */
export enum PptpStopResult {
  /** "1 (OK) - Control connection closed". */
  Ok = 1,
  /** "2 (General Error) - Control connection not closed for reason indicated in Error Code". */
  GeneralError = 2,
}

/** Result Code of Echo-Reply (RFC 2637 §2.6). */
export enum PptpEchoResult {
  /** "1 (OK) - The Echo-Reply is valid". */
  Ok = 1,
  /** "2 (General Error) - Echo-Request not accepted for the reason indicated in Error Code". */
  GeneralError = 2,
}

// ---------------------------------------------------------------------------
// Start-Control-Connection-Request (SCCRQ), RFC 2637 §2.1
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |       header (Length, PPTP Message Type, Magic Cookie,        |
// |             Control Message Type = 1, Reserved0)              |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |       Protocol Version        |           Reserved1           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                     Framing Capabilities                      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                      Bearer Capabilities                      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |       Maximum Channels        |       Firmware Revision       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                     Host Name (64 octets)                     |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                   Vendor String (64 octets)                   |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Start-Control-Connection-Reply (SCCRP), RFC 2637 §2.2, is the same with
// Result Code and Error Code (one octet each) in place of Reserved1.
// ---------------------------------------------------------------------------

/** Byte offsets of SCCRQ and SCCRP (RFC 2637 §2.1, §2.2). */
export const SCCRQ_FIELD = {
  PROTOCOL_VERSION: 12,
  RESERVED1: 14,
  /** SCCRP only: Result Code (1 octet) where SCCRQ has Reserved1. */
  RESULT_CODE: 14,
  /** SCCRP only: Error Code (1 octet). */
  ERROR_CODE: 15,
  FRAMING_CAPABILITIES: 16,
  BEARER_CAPABILITIES: 20,
  MAXIMUM_CHANNELS: 24,
  FIRMWARE_REVISION: 26,
  HOST_NAME: 28,
  VENDOR_STRING: 92,
} as const;

/**
 * Start-Control-Connection-Request (SCCRQ, RFC 2637 §2.1): opens the
 * control connection and says what the sender can do.
 */
export interface PptpStartControlConnectionRequest {
  readonly type: PptpMessageType.StartControlConnectionRequest;
  /** "The version of the PPTP protocol that the sender wishes to use" (0x0100 = 1.0). */
  readonly protocolVersion: number;
  /** Bit set of {@link PptpFraming} (1 async, 2 sync). */
  readonly framingCapabilities: number;
  /** Bit set of {@link PptpBearer} (1 analog, 2 digital). */
  readonly bearerCapabilities: number;
  /** "In Start-Control-Connection-Requests issued by the PNS, this value SHOULD be set to 0. It MUST be ignored by the PAC." */
  readonly maximumChannels: number;
  readonly firmwareRevision: number;
  /** DNS name of the sender, at most 64 bytes (Windows sends it empty). */
  readonly hostName: string;
  /** Vendor-specific string, at most 64 bytes. */
  readonly vendorString: string;
}

/** Start-Control-Connection-Reply (SCCRP, RFC 2637 §2.2). */
export interface PptpStartControlConnectionReply {
  readonly type: PptpMessageType.StartControlConnectionReply;
  readonly protocolVersion: number;
  /** {@link PptpStartResult}. */
  readonly resultCode: number;
  /** {@link PptpGeneralError} when `resultCode` is General Error, else 0. */
  readonly errorCode: number;
  readonly framingCapabilities: number;
  readonly bearerCapabilities: number;
  /** "The PNS MUST NOT use this value to try to track the remaining number of PPP sessions that the PAC will allow." */
  readonly maximumChannels: number;
  readonly firmwareRevision: number;
  readonly hostName: string;
  readonly vendorString: string;
}

/** Decodes an SCCRQ (RFC 2637 §2.1). Throws `WireError` when it is not exactly one. */
export function decodeStartControlConnectionRequest(bytes: Uint8Array): PptpStartControlConnectionRequest {
  checkPptpMessage(bytes, PptpMessageType.StartControlConnectionRequest);
  return {
    type: PptpMessageType.StartControlConnectionRequest,
    protocolVersion: u16(bytes, SCCRQ_FIELD.PROTOCOL_VERSION),
    framingCapabilities: u32(bytes, SCCRQ_FIELD.FRAMING_CAPABILITIES),
    bearerCapabilities: u32(bytes, SCCRQ_FIELD.BEARER_CAPABILITIES),
    maximumChannels: u16(bytes, SCCRQ_FIELD.MAXIMUM_CHANNELS),
    firmwareRevision: u16(bytes, SCCRQ_FIELD.FIRMWARE_REVISION),
    hostName: readFixedString(bytes, SCCRQ_FIELD.HOST_NAME, PPTP_HOST_NAME_LENGTH),
    vendorString: readFixedString(bytes, SCCRQ_FIELD.VENDOR_STRING, PPTP_VENDOR_STRING_LENGTH),
  };
}

/** Encodes an SCCRQ into `out` at `offset` (allocating when omitted); returns a view of the bytes written. */
export function encodeStartControlConnectionRequest(
  m: PptpStartControlConnectionRequest,
  out?: Uint8Array,
  offset = 0,
): Uint8Array {
  const b = beginPptpMessage(PptpMessageType.StartControlConnectionRequest, out, offset);
  writeStartCommon(b, offset, m);
  return b.subarray(offset, offset + PPTP_MESSAGE_LENGTH[m.type]);
}

/** Size of an SCCRQ: always 156. */
export function startControlConnectionRequestLength(_m?: PptpStartControlConnectionRequest): number {
  return PPTP_MESSAGE_LENGTH[PptpMessageType.StartControlConnectionRequest];
}

/** Decodes an SCCRP (RFC 2637 §2.2). */
export function decodeStartControlConnectionReply(bytes: Uint8Array): PptpStartControlConnectionReply {
  checkPptpMessage(bytes, PptpMessageType.StartControlConnectionReply);
  return {
    type: PptpMessageType.StartControlConnectionReply,
    protocolVersion: u16(bytes, SCCRQ_FIELD.PROTOCOL_VERSION),
    resultCode: bytes[SCCRQ_FIELD.RESULT_CODE]!,
    errorCode: bytes[SCCRQ_FIELD.ERROR_CODE]!,
    framingCapabilities: u32(bytes, SCCRQ_FIELD.FRAMING_CAPABILITIES),
    bearerCapabilities: u32(bytes, SCCRQ_FIELD.BEARER_CAPABILITIES),
    maximumChannels: u16(bytes, SCCRQ_FIELD.MAXIMUM_CHANNELS),
    firmwareRevision: u16(bytes, SCCRQ_FIELD.FIRMWARE_REVISION),
    hostName: readFixedString(bytes, SCCRQ_FIELD.HOST_NAME, PPTP_HOST_NAME_LENGTH),
    vendorString: readFixedString(bytes, SCCRQ_FIELD.VENDOR_STRING, PPTP_VENDOR_STRING_LENGTH),
  };
}

/** Encodes an SCCRP. */
export function encodeStartControlConnectionReply(
  m: PptpStartControlConnectionReply,
  out?: Uint8Array,
  offset = 0,
): Uint8Array {
  const b = beginPptpMessage(PptpMessageType.StartControlConnectionReply, out, offset);
  writeStartCommon(b, offset, m);
  b[offset + SCCRQ_FIELD.RESULT_CODE] = checkUint(m.resultCode, 8, 'SCCRP Result Code');
  b[offset + SCCRQ_FIELD.ERROR_CODE] = checkUint(m.errorCode, 8, 'SCCRP Error Code');
  return b.subarray(offset, offset + PPTP_MESSAGE_LENGTH[m.type]);
}

/** Size of an SCCRP: always 156. */
export function startControlConnectionReplyLength(_m?: PptpStartControlConnectionReply): number {
  return PPTP_MESSAGE_LENGTH[PptpMessageType.StartControlConnectionReply];
}

function writeStartCommon(
  b: Uint8Array,
  o: number,
  m: PptpStartControlConnectionRequest | PptpStartControlConnectionReply,
): void {
  put16(b, o + SCCRQ_FIELD.PROTOCOL_VERSION, checkUint(m.protocolVersion, 16, 'Protocol Version'));
  put32(
    b,
    o + SCCRQ_FIELD.FRAMING_CAPABILITIES,
    checkUint(m.framingCapabilities, 32, 'Framing Capabilities'),
  );
  put32(b, o + SCCRQ_FIELD.BEARER_CAPABILITIES, checkUint(m.bearerCapabilities, 32, 'Bearer Capabilities'));
  put16(b, o + SCCRQ_FIELD.MAXIMUM_CHANNELS, checkUint(m.maximumChannels, 16, 'Maximum Channels'));
  put16(b, o + SCCRQ_FIELD.FIRMWARE_REVISION, checkUint(m.firmwareRevision, 16, 'Firmware Revision'));
  writeFixedString(
    b,
    o + SCCRQ_FIELD.HOST_NAME,
    PPTP_HOST_NAME_LENGTH,
    checkPptpString(m.hostName, PPTP_HOST_NAME_LENGTH, 'Host Name'),
  );
  writeFixedString(
    b,
    o + SCCRQ_FIELD.VENDOR_STRING,
    PPTP_VENDOR_STRING_LENGTH,
    checkPptpString(m.vendorString, PPTP_VENDOR_STRING_LENGTH, 'Vendor String'),
  );
}

// ---------------------------------------------------------------------------
// Stop-Control-Connection-Request (StopCCRQ), RFC 2637 §2.3
//
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |       header (..., Control Message Type = 3, Reserved0)       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |    Reason     |   Reserved1   |           Reserved2           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Stop-Control-Connection-Reply (StopCCRP), RFC 2637 §2.4
//
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |       header (..., Control Message Type = 4, Reserved0)       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Result Code  |   Error Code  |           Reserved1           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ---------------------------------------------------------------------------

/** Byte offsets of StopCCRQ (RFC 2637 §2.3). */
export const STOP_CCRQ_FIELD = { REASON: 12, RESERVED1: 13, RESERVED2: 14 } as const;
/** Byte offsets of StopCCRP (RFC 2637 §2.4). */
export const STOP_CCRP_FIELD = { RESULT_CODE: 12, ERROR_CODE: 13, RESERVED1: 14 } as const;

/** Stop-Control-Connection-Request (StopCCRQ, RFC 2637 §2.3): "all active user calls are implicitly cleared". */
export interface PptpStopControlConnectionRequest {
  readonly type: PptpMessageType.StopControlConnectionRequest;
  /** {@link PptpStopReason}. */
  readonly reason: number;
}

/** Stop-Control-Connection-Reply (StopCCRP, RFC 2637 §2.4). */
export interface PptpStopControlConnectionReply {
  readonly type: PptpMessageType.StopControlConnectionReply;
  /** {@link PptpStopResult}. */
  readonly resultCode: number;
  /** {@link PptpGeneralError} when `resultCode` is General Error, else 0. */
  readonly errorCode: number;
}

/** Decodes a StopCCRQ (RFC 2637 §2.3). */
export function decodeStopControlConnectionRequest(bytes: Uint8Array): PptpStopControlConnectionRequest {
  checkPptpMessage(bytes, PptpMessageType.StopControlConnectionRequest);
  return { type: PptpMessageType.StopControlConnectionRequest, reason: bytes[STOP_CCRQ_FIELD.REASON]! };
}

/** Encodes a StopCCRQ. */
export function encodeStopControlConnectionRequest(
  m: PptpStopControlConnectionRequest,
  out?: Uint8Array,
  offset = 0,
): Uint8Array {
  const b = beginPptpMessage(PptpMessageType.StopControlConnectionRequest, out, offset);
  b[offset + STOP_CCRQ_FIELD.REASON] = checkUint(m.reason, 8, 'StopCCRQ Reason');
  return b.subarray(offset, offset + PPTP_MESSAGE_LENGTH[m.type]);
}

/** Size of a StopCCRQ: always 16. */
export function stopControlConnectionRequestLength(_m?: PptpStopControlConnectionRequest): number {
  return PPTP_MESSAGE_LENGTH[PptpMessageType.StopControlConnectionRequest];
}

/** Decodes a StopCCRP (RFC 2637 §2.4). */
export function decodeStopControlConnectionReply(bytes: Uint8Array): PptpStopControlConnectionReply {
  checkPptpMessage(bytes, PptpMessageType.StopControlConnectionReply);
  return {
    type: PptpMessageType.StopControlConnectionReply,
    resultCode: bytes[STOP_CCRP_FIELD.RESULT_CODE]!,
    errorCode: bytes[STOP_CCRP_FIELD.ERROR_CODE]!,
  };
}

/** Encodes a StopCCRP. */
export function encodeStopControlConnectionReply(
  m: PptpStopControlConnectionReply,
  out?: Uint8Array,
  offset = 0,
): Uint8Array {
  const b = beginPptpMessage(PptpMessageType.StopControlConnectionReply, out, offset);
  b[offset + STOP_CCRP_FIELD.RESULT_CODE] = checkUint(m.resultCode, 8, 'StopCCRP Result Code');
  b[offset + STOP_CCRP_FIELD.ERROR_CODE] = checkUint(m.errorCode, 8, 'StopCCRP Error Code');
  return b.subarray(offset, offset + PPTP_MESSAGE_LENGTH[m.type]);
}

/** Size of a StopCCRP: always 16. */
export function stopControlConnectionReplyLength(_m?: PptpStopControlConnectionReply): number {
  return PPTP_MESSAGE_LENGTH[PptpMessageType.StopControlConnectionReply];
}

// ---------------------------------------------------------------------------
// Echo-Request (ECHORQ), RFC 2637 §2.5
//
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |       header (..., Control Message Type = 5, Reserved0)       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                          Identifier                           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Echo-Reply (ECHORP), RFC 2637 §2.6
//
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |       header (..., Control Message Type = 6, Reserved0)       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                          Identifier                           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Result Code  |   Error Code  |           Reserved1           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ---------------------------------------------------------------------------

/** Byte offsets of ECHORQ and ECHORP (RFC 2637 §2.5, §2.6). */
export const ECHO_FIELD = { IDENTIFIER: 12, RESULT_CODE: 16, ERROR_CODE: 17, RESERVED1: 18 } as const;

/** Echo-Request (ECHORQ, RFC 2637 §2.5): the control connection's keep-alive. */
export interface PptpEchoRequest {
  readonly type: PptpMessageType.EchoRequest;
  /** "A value set by the sender of the Echo-Request that is used to match the reply with the corresponding request." */
  readonly identifier: number;
}

/** Echo-Reply (ECHORP, RFC 2637 §2.6). */
export interface PptpEchoReply {
  readonly type: PptpMessageType.EchoReply;
  /** Copied from the Echo-Request. */
  readonly identifier: number;
  /** {@link PptpEchoResult}. */
  readonly resultCode: number;
  /** {@link PptpGeneralError} when `resultCode` is General Error, else 0. */
  readonly errorCode: number;
}

/** Decodes an ECHORQ (RFC 2637 §2.5). */
export function decodeEchoRequest(bytes: Uint8Array): PptpEchoRequest {
  checkPptpMessage(bytes, PptpMessageType.EchoRequest);
  return { type: PptpMessageType.EchoRequest, identifier: u32(bytes, ECHO_FIELD.IDENTIFIER) };
}

/** Encodes an ECHORQ. */
export function encodeEchoRequest(m: PptpEchoRequest, out?: Uint8Array, offset = 0): Uint8Array {
  const b = beginPptpMessage(PptpMessageType.EchoRequest, out, offset);
  put32(b, offset + ECHO_FIELD.IDENTIFIER, checkUint(m.identifier, 32, 'Echo Identifier'));
  return b.subarray(offset, offset + PPTP_MESSAGE_LENGTH[m.type]);
}

/** Size of an ECHORQ: always 16. */
export function echoRequestLength(_m?: PptpEchoRequest): number {
  return PPTP_MESSAGE_LENGTH[PptpMessageType.EchoRequest];
}

/** Decodes an ECHORP (RFC 2637 §2.6). */
export function decodeEchoReply(bytes: Uint8Array): PptpEchoReply {
  checkPptpMessage(bytes, PptpMessageType.EchoReply);
  return {
    type: PptpMessageType.EchoReply,
    identifier: u32(bytes, ECHO_FIELD.IDENTIFIER),
    resultCode: bytes[ECHO_FIELD.RESULT_CODE]!,
    errorCode: bytes[ECHO_FIELD.ERROR_CODE]!,
  };
}

/** Encodes an ECHORP. */
export function encodeEchoReply(m: PptpEchoReply, out?: Uint8Array, offset = 0): Uint8Array {
  const b = beginPptpMessage(PptpMessageType.EchoReply, out, offset);
  put32(b, offset + ECHO_FIELD.IDENTIFIER, checkUint(m.identifier, 32, 'Echo Identifier'));
  b[offset + ECHO_FIELD.RESULT_CODE] = checkUint(m.resultCode, 8, 'ECHORP Result Code');
  b[offset + ECHO_FIELD.ERROR_CODE] = checkUint(m.errorCode, 8, 'ECHORP Error Code');
  return b.subarray(offset, offset + PPTP_MESSAGE_LENGTH[m.type]);
}

/** Size of an ECHORP: always 20. */
export function echoReplyLength(_m?: PptpEchoReply): number {
  return PPTP_MESSAGE_LENGTH[PptpMessageType.EchoReply];
}
