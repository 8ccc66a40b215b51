/**
 * Control-connection management messages (RFC 2637 §2.1–§2.6):
 * Start-Control-Connection-Request/-Reply, Stop-Control-Connection-
 * Request/-Reply, Echo-Request/-Reply.
 *
 * Each message has its RFC diagram and its field table (fields.ts), from
 * which come its value type and `decodeXxx(bytes)` /
 * `encodeXxx(value, out?, offset?)` / `xxxLength(value)`.
 * Decoders return plain values (numbers and strings), never views into the
 * input, so nothing needs copying.
 */

import {
  definePptpMessage,
  type PptpFieldRow,
  type PptpMessageValueOf,
  pptpFieldOffsets,
  reservedField,
  resultFields,
  stringField,
  u8Field,
  u16Field,
  u32Field,
} from './fields.js';
import { PPTP_HOST_NAME_LENGTH, PPTP_VENDOR_STRING_LENGTH, PptpMessageType } from './header.js';

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

/**
 * The fields of SCCRQ (RFC 2637 §2.1) around `middle`: Reserved1 in SCCRQ;
 * Result Code and Error Code in SCCRP (§2.2).
 */
function startFields<const R extends readonly PptpFieldRow[]>(middle: R) {
  return [
    // "The version of the PPTP protocol that the sender wishes to use" (0x0100 = 1.0).
    u16Field('protocolVersion', 'Protocol Version', 'version', 'version'),
    ...middle,
    // Bit sets of PptpFraming (1 async, 2 sync) and PptpBearer (1 analog, 2 digital).
    u32Field('framingCapabilities', 'Framing Capabilities', 'framing', 'framingBits'),
    u32Field('bearerCapabilities', 'Bearer Capabilities', 'bearer', 'bearerBits'),
    // SCCRQ: "In Start-Control-Connection-Requests issued by the PNS, this value SHOULD be set to 0.
    // It MUST be ignored by the PAC." SCCRP: "The PNS MUST NOT use this value to try to track the
    // remaining number of PPP sessions that the PAC will allow."
    u16Field('maximumChannels', 'Maximum Channels', 'max channels'),
    u16Field('firmwareRevision', 'Firmware Revision', 'firmware', 'hex'),
    // DNS name of the sender (Windows sends it empty), and a vendor-specific string.
    stringField('hostName', PPTP_HOST_NAME_LENGTH, 'Host Name', 'host'),
    stringField('vendorString', PPTP_VENDOR_STRING_LENGTH, 'Vendor String', 'vendor'),
  ] as const;
}

/** SCCRQ as a field table (RFC 2637 §2.1). */
export const SCCRQ_SPEC = definePptpMessage(
  PptpMessageType.StartControlConnectionRequest,
  'Start-Control-Connection-Request',
  startFields([reservedField('reserved1', 2)]),
);

/**
 * Start-Control-Connection-Request (SCCRQ, RFC 2637 §2.1): opens the
 * control connection and says what the sender can do.
 */
export type PptpStartControlConnectionRequest = PptpMessageValueOf<typeof SCCRQ_SPEC>;

/** SCCRP as a field table (RFC 2637 §2.2); the Result Code is a {@link PptpStartResult}. */
export const SCCRP_SPEC = definePptpMessage(
  PptpMessageType.StartControlConnectionReply,
  'Start-Control-Connection-Reply',
  startFields(
    resultFields({
      [PptpStartResult.Success]: 'Successful channel establishment',
      [PptpStartResult.GeneralError]: 'General error',
      [PptpStartResult.ChannelExists]: 'Command channel already exists',
      [PptpStartResult.NotAuthorized]: 'Requester is not authorized',
      [PptpStartResult.UnsupportedVersion]: 'Protocol version not supported',
    }),
  ),
);

/** Start-Control-Connection-Reply (SCCRP, RFC 2637 §2.2). */
export type PptpStartControlConnectionReply = PptpMessageValueOf<typeof SCCRP_SPEC>;

/** Byte offsets of SCCRQ fields the tests poke at (RFC 2637 §2.1). */
export const SCCRQ_FIELD = pptpFieldOffsets(SCCRQ_SPEC, ['reserved1', 'hostName', 'vendorString']);

/** Decodes, encodes and sizes (156) an SCCRQ (RFC 2637 §2.1). */
export const {
  decode: decodeStartControlConnectionRequest,
  encode: encodeStartControlConnectionRequest,
  length: startControlConnectionRequestLength,
} = SCCRQ_SPEC;

/** Decodes, encodes and sizes (156) an SCCRP (RFC 2637 §2.2). */
export const {
  decode: decodeStartControlConnectionReply,
  encode: encodeStartControlConnectionReply,
  length: startControlConnectionReplyLength,
} = SCCRP_SPEC;

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

/** StopCCRQ as a field table (RFC 2637 §2.3); the Reason is a {@link PptpStopReason}. */
export const STOP_CCRQ_SPEC = definePptpMessage(
  PptpMessageType.StopControlConnectionRequest,
  'Stop-Control-Connection-Request',
  [
    u8Field('reason', 'Reason', 'reason', 'names', {
      [PptpStopReason.None]: 'None',
      [PptpStopReason.StopProtocol]: 'Stop-Protocol',
      [PptpStopReason.StopLocalShutdown]: 'Stop-Local-Shutdown',
    }),
    reservedField('reserved1', 1),
    reservedField('reserved2', 2),
  ],
);

/** Stop-Control-Connection-Request (StopCCRQ, RFC 2637 §2.3): "all active user calls are implicitly cleared". */
export type PptpStopControlConnectionRequest = PptpMessageValueOf<typeof STOP_CCRQ_SPEC>;

/** StopCCRP as a field table (RFC 2637 §2.4); the Result Code is a {@link PptpStopResult}. */
export const STOP_CCRP_SPEC = definePptpMessage(
  PptpMessageType.StopControlConnectionReply,
  'Stop-Control-Connection-Reply',
  [
    ...resultFields({ [PptpStopResult.Ok]: 'OK', [PptpStopResult.GeneralError]: 'General Error' }),
    reservedField('reserved1', 2),
  ],
);

/** Stop-Control-Connection-Reply (StopCCRP, RFC 2637 §2.4). */
export type PptpStopControlConnectionReply = PptpMessageValueOf<typeof STOP_CCRP_SPEC>;

/** Decodes, encodes and sizes (16) a StopCCRQ (RFC 2637 §2.3). */
export const {
  decode: decodeStopControlConnectionRequest,
  encode: encodeStopControlConnectionRequest,
  length: stopControlConnectionRequestLength,
} = STOP_CCRQ_SPEC;

/** Decodes, encodes and sizes (16) a StopCCRP (RFC 2637 §2.4). */
export const {
  decode: decodeStopControlConnectionReply,
  encode: encodeStopControlConnectionReply,
  length: stopControlConnectionReplyLength,
} = STOP_CCRP_SPEC;

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

/** ECHORQ as a field table (RFC 2637 §2.5). */
export const ECHORQ_SPEC = definePptpMessage(PptpMessageType.EchoRequest, 'Echo-Request', [
  // "A value set by the sender of the Echo-Request that is used to match the reply with the
  // corresponding request"; the Echo-Reply copies it.
  u32Field('identifier', 'Identifier', 'id', 'hex'),
]);

/** Echo-Request (ECHORQ, RFC 2637 §2.5): the control connection's keep-alive. */
export type PptpEchoRequest = PptpMessageValueOf<typeof ECHORQ_SPEC>;

/** ECHORP as a field table (RFC 2637 §2.6); the Result Code is a {@link PptpEchoResult}. */
export const ECHORP_SPEC = definePptpMessage(PptpMessageType.EchoReply, 'Echo-Reply', [
  u32Field('identifier', 'Identifier', 'id', 'hex'),
  ...resultFields({ [PptpEchoResult.Ok]: 'OK', [PptpEchoResult.GeneralError]: 'General Error' }),
  reservedField('reserved1', 2),
]);

/** Echo-Reply (ECHORP, RFC 2637 §2.6). */
export type PptpEchoReply = PptpMessageValueOf<typeof ECHORP_SPEC>;

/** Decodes, encodes and sizes (16) an ECHORQ (RFC 2637 §2.5). */
export const {
  decode: decodeEchoRequest,
  encode: encodeEchoRequest,
  length: echoRequestLength,
} = ECHORQ_SPEC;

/** Decodes, encodes and sizes (20) an ECHORP (RFC 2637 §2.6). */
export const { decode: decodeEchoReply, encode: encodeEchoReply, length: echoReplyLength } = ECHORP_SPEC;
