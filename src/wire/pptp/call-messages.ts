/**
 * Call-management messages (RFC 2637 §2.7–§2.13): Outgoing-Call-Request/
 * -Reply, Incoming-Call-Request/-Reply/-Connected, Call-Clear-Request,
 * Call-Disconnect-Notify.
 *
 * Same conventions as `connection-messages.ts`: per message its diagram and its
 * field table, from which come its value type and its decode/encode/length
 * functions.
 *
 * Which Call ID is which (the RFC is easy to misread here):
 *  - OCRQ `callId` and ICRP `callId` are the PNS's; OCRP `callId` and ICRQ
 *    `callId` are the PAC's. Each reply's `peerCallId` echoes the request's.
 *  - ICCN `peerCallId` is the PNS's ("the value received in the Call ID
 *    field of the corresponding Incoming-Call-Reply").
 *  - CCRQ `callId` is the PNS's own and CDN `callId` is the PAC's own (the
 *    sender's, "because the latter may not be known ... during call
 *    establishment").
 * Each peer sends its own Call ID in the GRE Key of packets it *receives*:
 * the peer's Call ID is what goes in the Key of packets we send (§4.1).
 */

import {
  PPTP_CALL_ROWS as CALL,
  definePptpMessage,
  type PptpMessageValueOf,
  reservedField,
  resultFields,
  stringField,
  u16Field,
  u32Field,
} from './fields.js';
import { PPTP_CALL_STATISTICS_LENGTH, PPTP_PHONE_NUMBER_LENGTH, PptpMessageType } from './header.js';

/** Result Code of Outgoing-Call-Reply (RFC 2637 §2.8). */
export enum PptpOutgoingCallResult {
  /** "1 (Connected) - Call established with no errors". */
  Connected = 1,
  /** "2 (General Error) - Outgoing Call not established for the reason indicated in Error Code". */
  GeneralError = 2,
  /** "3 (No Carrier) - Outgoing Call failed due to no carrier detected". */
  NoCarrier = 3,
  /** "4 (Busy) - Outgoing Call failed due to detection of a busy signal". */
  Busy = 4,
  /** "5 (No Dial Tone) - Outgoing Call failed due to lack of a dial tone". */
  NoDialTone = 5,
  /** "6 (Time-out) - Outgoing Call was not established within time allotted by PAC". */
  TimeOut = 6,
  /** "7 (Do Not Accept) - Outgoing Call administratively prohibited". */
  DoNotAccept = 7,
}

/** Result Code of Incoming-Call-Reply (RFC 2637 §2.10). */
export enum PptpIncomingCallResult {
  /** "1 (Connect) - The PAC should answer the incoming call". */
  Connect = 1,
  /** "2 (General Error) - The Incoming Call should not be established due to the reason indicated in Error Code". */
  GeneralError = 2,
  /** "3 (Do Not Accept) - The PAC should not accept the incoming call. It should hang up or issue a busy indication". */
  DoNotAccept = 3,
}

/** Result Code of Call-Disconnect-Notify (RFC 2637 §2.13). */
export enum PptpDisconnectResult {
  /** "1 (Lost Carrier) - Call disconnected due to loss of carrier". */
  LostCarrier = 1,
  /** "2 (General Error) - Call disconnected for the reason indicated in Error Code". */
  GeneralError = 2,
  /** "3 (Admin Shutdown) - Call disconnected for administrative reasons". */
  AdminShutdown = 3,
  /** "4 (Request) - Call disconnected due to received Call-Clear-Request". */
  Request = 4,
}

// ---------------------------------------------------------------------------
// Outgoing-Call-Request (OCRQ), RFC 2637 §2.7
//
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |       header (..., Control Message Type = 7, Reserved0)       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |            Call ID            |      Call Serial Number       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                          Minimum BPS                          |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                          Maximum BPS                          |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                          Bearer Type                          |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                         Framing Type                          |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |   Packet Recv. Window Size    |    Packet Processing Delay    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |      Phone Number Length      |           Reserved1           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                   Phone Number (64 octets)                    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Subaddress (64 octets)                     |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ---------------------------------------------------------------------------

/** OCRQ as a field table (RFC 2637 §2.7). */
export const OCRQ_SPEC = definePptpMessage(PptpMessageType.OutgoingCallRequest, 'Outgoing-Call-Request', [
  // The PNS's Call ID for this session.
  CALL.callId,
  // Logged by both sides; "The combination of IP address and call serial number SHOULD be unique."
  CALL.callSerialNumber,
  // Lowest and highest acceptable line speed, bits/s.
  u32Field('minimumBps', 'Minimum BPS', 'min bps'),
  u32Field('maximumBps', 'Maximum BPS', 'max bps'),
  // PptpBearer: 1 analog, 2 digital, 3 any; PptpFraming: 1 async, 2 sync, 3 either.
  u32Field('bearerType', 'Bearer Type', 'bearer', 'bearerType'),
  CALL.framingType,
  // "The number of received data packets the PNS will buffer for this session."
  CALL.packetRecvWindowSize,
  // Delay the PNS may impose on data from the PAC, in 1/10 s (§4.4).
  CALL.packetProcessingDelay,
  // "The actual number of valid digits in the Phone Number field."
  u16Field('phoneNumberLength', 'Phone Number Length', 'phone length'),
  reservedField('reserved1', 2),
  stringField('phoneNumber', PPTP_PHONE_NUMBER_LENGTH, 'Phone Number', 'phone'),
  CALL.subaddress,
]);

/** Outgoing-Call-Request (OCRQ, RFC 2637 §2.7): the PNS asks the PAC to place a call. */
export type PptpOutgoingCallRequest = PptpMessageValueOf<typeof OCRQ_SPEC>;

/** Decodes, encodes and sizes (168) an OCRQ (RFC 2637 §2.7). */
export const {
  decode: decodeOutgoingCallRequest,
  encode: encodeOutgoingCallRequest,
  length: outgoingCallRequestLength,
} = OCRQ_SPEC;

// ---------------------------------------------------------------------------
// Outgoing-Call-Reply (OCRP), RFC 2637 §2.8
//
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |       header (..., Control Message Type = 8, Reserved0)       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |            Call ID            |       Peer's Call ID          |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Result Code  |  Error Code   |          Cause Code           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                         Connect Speed                         |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |   Packet Recv. Window Size    |    Packet Processing Delay    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                      Physical Channel ID                      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ---------------------------------------------------------------------------

/** OCRP as a field table (RFC 2637 §2.8); the Result Code is a {@link PptpOutgoingCallResult}. */
export const OCRP_SPEC = definePptpMessage(PptpMessageType.OutgoingCallReply, 'Outgoing-Call-Reply', [
  // The PAC's Call ID for this session, and the OCRQ's (the PNS's).
  CALL.callId,
  CALL.peerCallId,
  ...resultFields({
    [PptpOutgoingCallResult.Connected]: 'Connected',
    [PptpOutgoingCallResult.GeneralError]: 'General Error',
    [PptpOutgoingCallResult.NoCarrier]: 'No Carrier',
    [PptpOutgoingCallResult.Busy]: 'Busy',
    [PptpOutgoingCallResult.NoDialTone]: 'No Dial Tone',
    [PptpOutgoingCallResult.TimeOut]: 'Time-out',
    [PptpOutgoingCallResult.DoNotAccept]: 'Do Not Accept',
  }),
  // "For ISDN call attempts it is the Q.931 cause code."
  CALL.causeCode,
  // Actual connection speed, bits/s.
  CALL.connectSpeed,
  // "The number of received data packets the PAC will buffer for this session."
  CALL.packetRecvWindowSize,
  // Delay the PAC may impose on data from the PNS, in 1/10 s (§4.4).
  CALL.packetProcessingDelay,
  // Vendor-specific, "used for logging purposes only".
  CALL.physicalChannelId,
]);

/** Outgoing-Call-Reply (OCRP, RFC 2637 §2.8): the PAC's answer to an OCRQ. */
export type PptpOutgoingCallReply = PptpMessageValueOf<typeof OCRP_SPEC>;

/** Decodes, encodes and sizes (32) an OCRP (RFC 2637 §2.8). */
export const {
  decode: decodeOutgoingCallReply,
  encode: encodeOutgoingCallReply,
  length: outgoingCallReplyLength,
} = OCRP_SPEC;

// ---------------------------------------------------------------------------
// Incoming-Call-Request (ICRQ), RFC 2637 §2.9
//
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |       header (..., Control Message Type = 9, Reserved0)       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |            Call ID            |      Call Serial Number       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                       Call Bearer Type                        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                      Physical Channel ID                      |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |     Dialed Number Length      |     Dialing Number Length     |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                   Dialed Number (64 octets)                   |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                  Dialing Number (64 octets)                   |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                    Subaddress (64 octets)                     |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ---------------------------------------------------------------------------

/** ICRQ as a field table (RFC 2637 §2.9). */
export const ICRQ_SPEC = definePptpMessage(PptpMessageType.IncomingCallRequest, 'Incoming-Call-Request', [
  // The PAC's Call ID for this session.
  CALL.callId,
  CALL.callSerialNumber,
  // PptpBearer: 1 analog, 2 digital.
  u32Field('callBearerType', 'Call Bearer Type', 'bearer', 'bearerType'),
  CALL.physicalChannelId,
  u16Field('dialedNumberLength', 'Dialed Number Length', 'dialed length'),
  u16Field('dialingNumberLength', 'Dialing Number Length', 'dialing length'),
  // "The number that was dialed by the caller"; "The number from which the call was placed."
  stringField('dialedNumber', PPTP_PHONE_NUMBER_LENGTH, 'Dialed Number', 'dialed'),
  stringField('dialingNumber', PPTP_PHONE_NUMBER_LENGTH, 'Dialing Number', 'dialing'),
  CALL.subaddress,
]);

/** Incoming-Call-Request (ICRQ, RFC 2637 §2.9): the PAC tells the PNS a call is ringing. */
export type PptpIncomingCallRequest = PptpMessageValueOf<typeof ICRQ_SPEC>;

/** Decodes, encodes and sizes (220) an ICRQ (RFC 2637 §2.9). */
export const {
  decode: decodeIncomingCallRequest,
  encode: encodeIncomingCallRequest,
  length: incomingCallRequestLength,
} = ICRQ_SPEC;

// ---------------------------------------------------------------------------
// Incoming-Call-Reply (ICRP), RFC 2637 §2.10
//
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |      header (..., Control Message Type = 10, Reserved0)       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |            Call ID            |       Peer's Call ID          |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Result Code  |  Error Code   |   Packet Recv. Window Size    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |     Packet Transmit Delay     |           Reserved1           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ---------------------------------------------------------------------------

/** ICRP as a field table (RFC 2637 §2.10); the Result Code is a {@link PptpIncomingCallResult}. */
export const ICRP_SPEC = definePptpMessage(PptpMessageType.IncomingCallReply, 'Incoming-Call-Reply', [
  // The PNS's Call ID for this session, and the ICRQ's (the PAC's).
  CALL.callId,
  CALL.peerCallId,
  ...resultFields({
    [PptpIncomingCallResult.Connect]: 'Connect',
    [PptpIncomingCallResult.GeneralError]: 'General Error',
    [PptpIncomingCallResult.DoNotAccept]: 'Do Not Accept',
  }),
  // Packets the PNS will buffer. (The RFC's text says "the PAC", a slip: this message comes
  // from the PNS and advertises its own receive window.)
  CALL.packetRecvWindowSize,
  // In 1/10 s.
  CALL.packetTransmitDelay,
  reservedField('reserved1', 2),
]);

/** Incoming-Call-Reply (ICRP, RFC 2637 §2.10): the PNS says whether the PAC should answer. */
export type PptpIncomingCallReply = PptpMessageValueOf<typeof ICRP_SPEC>;

/** Decodes, encodes and sizes (24) an ICRP (RFC 2637 §2.10). */
export const {
  decode: decodeIncomingCallReply,
  encode: encodeIncomingCallReply,
  length: incomingCallReplyLength,
} = ICRP_SPEC;

// ---------------------------------------------------------------------------
// Incoming-Call-Connected (ICCN), RFC 2637 §2.11
//
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |      header (..., Control Message Type = 11, Reserved0)       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |       Peer's Call ID          |           Reserved1           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                         Connect Speed                         |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |   Packet Recv. Window Size    |     Packet Transmit Delay     |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                         Framing Type                          |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ---------------------------------------------------------------------------

/** ICCN as a field table (RFC 2637 §2.11). */
export const ICCN_SPEC = definePptpMessage(PptpMessageType.IncomingCallConnected, 'Incoming-Call-Connected', [
  // The ICRP's Call ID (the PNS's).
  CALL.peerCallId,
  reservedField('reserved1', 2),
  CALL.connectSpeed,
  // "The number of received data packets the PAC will buffer for this session."
  CALL.packetRecvWindowSize,
  // In 1/10 s.
  CALL.packetTransmitDelay,
  // PptpFraming: 1 async, 2 sync.
  CALL.framingType,
]);

/** Incoming-Call-Connected (ICCN, RFC 2637 §2.11): the PAC answered; the call is established. */
export type PptpIncomingCallConnected = PptpMessageValueOf<typeof ICCN_SPEC>;

/** Decodes, encodes and sizes (28) an ICCN (RFC 2637 §2.11). */
export const {
  decode: decodeIncomingCallConnected,
  encode: encodeIncomingCallConnected,
  length: incomingCallConnectedLength,
} = ICCN_SPEC;

// ---------------------------------------------------------------------------
// Call-Clear-Request (CCRQ), RFC 2637 §2.12
//
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |      header (..., Control Message Type = 12, Reserved0)       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |            Call ID            |           Reserved1           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ---------------------------------------------------------------------------

/** CCRQ as a field table (RFC 2637 §2.12). */
export const CCRQ_SPEC = definePptpMessage(PptpMessageType.CallClearRequest, 'Call-Clear-Request', [
  // "The Call ID assigned by the PNS to this call."
  CALL.callId,
  reservedField('reserved1', 2),
]);

/** Call-Clear-Request (CCRQ, RFC 2637 §2.12): the PNS asks the PAC to disconnect a call. */
export type PptpCallClearRequest = PptpMessageValueOf<typeof CCRQ_SPEC>;

/** Decodes, encodes and sizes (16) a CCRQ (RFC 2637 §2.12). */
export const {
  decode: decodeCallClearRequest,
  encode: encodeCallClearRequest,
  length: callClearRequestLength,
} = CCRQ_SPEC;

// ---------------------------------------------------------------------------
// Call-Disconnect-Notify (CDN), RFC 2637 §2.13
//
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |      header (..., Control Message Type = 13, Reserved0)       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |            Call ID            |  Result Code  |  Error Code   |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |          Cause Code           |           Reserved1           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                 Call Statistics (128 octets)                  |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ---------------------------------------------------------------------------

/** CDN as a field table (RFC 2637 §2.13); the Result Code is a {@link PptpDisconnectResult}. */
export const CDN_SPEC = definePptpMessage(PptpMessageType.CallDisconnectNotify, 'Call-Disconnect-Notify', [
  // "The value of the Call ID assigned by the PAC to this call."
  CALL.callId,
  ...resultFields({
    [PptpDisconnectResult.LostCarrier]: 'Lost Carrier',
    [PptpDisconnectResult.GeneralError]: 'General Error',
    [PptpDisconnectResult.AdminShutdown]: 'Admin Shutdown',
    [PptpDisconnectResult.Request]: 'Request',
  }),
  // "For ISDN calls it is the Q.931 cause code."
  CALL.causeCode,
  reservedField('reserved1', 2),
  // Vendor-specific ASCII statistics.
  stringField('callStatistics', PPTP_CALL_STATISTICS_LENGTH, 'Call Statistics', 'statistics'),
]);

/** Call-Disconnect-Notify (CDN, RFC 2637 §2.13): the PAC reports a call is gone, and why. */
export type PptpCallDisconnectNotify = PptpMessageValueOf<typeof CDN_SPEC>;

/** Decodes, encodes and sizes (148) a CDN (RFC 2637 §2.13). */
export const {
  decode: decodeCallDisconnectNotify,
  encode: encodeCallDisconnectNotify,
  length: callDisconnectNotifyLength,
} = CDN_SPEC;
