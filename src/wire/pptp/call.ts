/**
 * Call-management messages (RFC 2637 §2.7–§2.13): Outgoing-Call-Request/
 * -Reply, Incoming-Call-Request/-Reply/-Connected, Call-Clear-Request,
 * Call-Disconnect-Notify.
 *
 * Same conventions as `connection.ts`: one field table per message next to
 * its diagram, a value interface, and decode/encode/length functions.
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

import { put16, put32, readFixedString, u16, u32, writeFixedString } from '../bytes.js';
import {
  beginPptpMessage,
  checkPptpMessage,
  checkPptpString,
  checkUint,
  PPTP_CALL_STATISTICS_LENGTH,
  PPTP_MESSAGE_LENGTH,
  PPTP_PHONE_NUMBER_LENGTH,
  PPTP_SUBADDRESS_LENGTH,
  PptpMessageType,
} from './header.js';

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

/** Byte offsets of OCRQ (RFC 2637 §2.7). */
export const OCRQ_FIELD = {
  CALL_ID: 12,
  CALL_SERIAL_NUMBER: 14,
  MINIMUM_BPS: 16,
  MAXIMUM_BPS: 20,
  BEARER_TYPE: 24,
  FRAMING_TYPE: 28,
  PACKET_RECV_WINDOW_SIZE: 32,
  PACKET_PROCESSING_DELAY: 34,
  PHONE_NUMBER_LENGTH: 36,
  RESERVED1: 38,
  PHONE_NUMBER: 40,
  SUBADDRESS: 104,
} as const;

/** Outgoing-Call-Request (OCRQ, RFC 2637 §2.7): the PNS asks the PAC to place a call. */
export interface PptpOutgoingCallRequest {
  readonly type: PptpMessageType.OutgoingCallRequest;
  /** The PNS's Call ID for this session. */
  readonly callId: number;
  /** Logged by both sides; "The combination of IP address and call serial number SHOULD be unique." */
  readonly callSerialNumber: number;
  /** Lowest acceptable line speed, bits/s. */
  readonly minimumBps: number;
  /** Highest acceptable line speed, bits/s. */
  readonly maximumBps: number;
  /** {@link PptpBearer}: 1 analog, 2 digital, 3 any. */
  readonly bearerType: number;
  /** {@link PptpFraming}: 1 async, 2 sync, 3 either. */
  readonly framingType: number;
  /** "The number of received data packets the PNS will buffer for this session." */
  readonly packetRecvWindowSize: number;
  /** Delay the PNS may impose on data from the PAC, in 1/10 s (§4.4). */
  readonly packetProcessingDelay: number;
  /** "The actual number of valid digits in the Phone Number field." */
  readonly phoneNumberLength: number;
  readonly phoneNumber: string;
  readonly subaddress: string;
}

/** Decodes an OCRQ (RFC 2637 §2.7). */
export function decodeOutgoingCallRequest(bytes: Uint8Array): PptpOutgoingCallRequest {
  checkPptpMessage(bytes, PptpMessageType.OutgoingCallRequest);
  return {
    type: PptpMessageType.OutgoingCallRequest,
    callId: u16(bytes, OCRQ_FIELD.CALL_ID),
    callSerialNumber: u16(bytes, OCRQ_FIELD.CALL_SERIAL_NUMBER),
    minimumBps: u32(bytes, OCRQ_FIELD.MINIMUM_BPS),
    maximumBps: u32(bytes, OCRQ_FIELD.MAXIMUM_BPS),
    bearerType: u32(bytes, OCRQ_FIELD.BEARER_TYPE),
    framingType: u32(bytes, OCRQ_FIELD.FRAMING_TYPE),
    packetRecvWindowSize: u16(bytes, OCRQ_FIELD.PACKET_RECV_WINDOW_SIZE),
    packetProcessingDelay: u16(bytes, OCRQ_FIELD.PACKET_PROCESSING_DELAY),
    phoneNumberLength: u16(bytes, OCRQ_FIELD.PHONE_NUMBER_LENGTH),
    phoneNumber: readFixedString(bytes, OCRQ_FIELD.PHONE_NUMBER, PPTP_PHONE_NUMBER_LENGTH),
    subaddress: readFixedString(bytes, OCRQ_FIELD.SUBADDRESS, PPTP_SUBADDRESS_LENGTH),
  };
}

/** Encodes an OCRQ. */
export function encodeOutgoingCallRequest(
  m: PptpOutgoingCallRequest,
  out?: Uint8Array,
  offset = 0,
): Uint8Array {
  const b = beginPptpMessage(PptpMessageType.OutgoingCallRequest, out, offset);
  const o = offset;
  put16(b, o + OCRQ_FIELD.CALL_ID, checkUint(m.callId, 16, 'OCRQ Call ID'));
  put16(b, o + OCRQ_FIELD.CALL_SERIAL_NUMBER, checkUint(m.callSerialNumber, 16, 'OCRQ Call Serial Number'));
  put32(b, o + OCRQ_FIELD.MINIMUM_BPS, checkUint(m.minimumBps, 32, 'OCRQ Minimum BPS'));
  put32(b, o + OCRQ_FIELD.MAXIMUM_BPS, checkUint(m.maximumBps, 32, 'OCRQ Maximum BPS'));
  put32(b, o + OCRQ_FIELD.BEARER_TYPE, checkUint(m.bearerType, 32, 'OCRQ Bearer Type'));
  put32(b, o + OCRQ_FIELD.FRAMING_TYPE, checkUint(m.framingType, 32, 'OCRQ Framing Type'));
  put16(b, o + OCRQ_FIELD.PACKET_RECV_WINDOW_SIZE, checkUint(m.packetRecvWindowSize, 16, 'OCRQ Window Size'));
  put16(b, o + OCRQ_FIELD.PACKET_PROCESSING_DELAY, checkUint(m.packetProcessingDelay, 16, 'OCRQ Delay'));
  put16(
    b,
    o + OCRQ_FIELD.PHONE_NUMBER_LENGTH,
    checkUint(m.phoneNumberLength, 16, 'OCRQ Phone Number Length'),
  );
  writeFixedString(
    b,
    o + OCRQ_FIELD.PHONE_NUMBER,
    PPTP_PHONE_NUMBER_LENGTH,
    checkPptpString(m.phoneNumber, PPTP_PHONE_NUMBER_LENGTH, 'OCRQ Phone Number'),
  );
  writeFixedString(
    b,
    o + OCRQ_FIELD.SUBADDRESS,
    PPTP_SUBADDRESS_LENGTH,
    checkPptpString(m.subaddress, PPTP_SUBADDRESS_LENGTH, 'OCRQ Subaddress'),
  );
  return b.subarray(o, o + PPTP_MESSAGE_LENGTH[m.type]);
}

/** Size of an OCRQ: always 168. */
export function outgoingCallRequestLength(_m?: PptpOutgoingCallRequest): number {
  return PPTP_MESSAGE_LENGTH[PptpMessageType.OutgoingCallRequest];
}

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

/** Byte offsets of OCRP (RFC 2637 §2.8). */
export const OCRP_FIELD = {
  CALL_ID: 12,
  PEER_CALL_ID: 14,
  RESULT_CODE: 16,
  ERROR_CODE: 17,
  CAUSE_CODE: 18,
  CONNECT_SPEED: 20,
  PACKET_RECV_WINDOW_SIZE: 24,
  PACKET_PROCESSING_DELAY: 26,
  PHYSICAL_CHANNEL_ID: 28,
} as const;

/** Outgoing-Call-Reply (OCRP, RFC 2637 §2.8): the PAC's answer to an OCRQ. */
export interface PptpOutgoingCallReply {
  readonly type: PptpMessageType.OutgoingCallReply;
  /** The PAC's Call ID for this session. */
  readonly callId: number;
  /** The OCRQ's Call ID (the PNS's). */
  readonly peerCallId: number;
  /** {@link PptpOutgoingCallResult}. */
  readonly resultCode: number;
  /** {@link PptpGeneralError} when `resultCode` is General Error, else 0. */
  readonly errorCode: number;
  /** "For ISDN call attempts it is the Q.931 cause code." */
  readonly causeCode: number;
  /** Actual connection speed, bits/s. */
  readonly connectSpeed: number;
  /** "The number of received data packets the PAC will buffer for this session." */
  readonly packetRecvWindowSize: number;
  /** Delay the PAC may impose on data from the PNS, in 1/10 s (§4.4). */
  readonly packetProcessingDelay: number;
  /** Vendor-specific, "used for logging purposes only". */
  readonly physicalChannelId: number;
}

/** Decodes an OCRP (RFC 2637 §2.8). */
export function decodeOutgoingCallReply(bytes: Uint8Array): PptpOutgoingCallReply {
  checkPptpMessage(bytes, PptpMessageType.OutgoingCallReply);
  return {
    type: PptpMessageType.OutgoingCallReply,
    callId: u16(bytes, OCRP_FIELD.CALL_ID),
    peerCallId: u16(bytes, OCRP_FIELD.PEER_CALL_ID),
    resultCode: bytes[OCRP_FIELD.RESULT_CODE]!,
    errorCode: bytes[OCRP_FIELD.ERROR_CODE]!,
    causeCode: u16(bytes, OCRP_FIELD.CAUSE_CODE),
    connectSpeed: u32(bytes, OCRP_FIELD.CONNECT_SPEED),
    packetRecvWindowSize: u16(bytes, OCRP_FIELD.PACKET_RECV_WINDOW_SIZE),
    packetProcessingDelay: u16(bytes, OCRP_FIELD.PACKET_PROCESSING_DELAY),
    physicalChannelId: u32(bytes, OCRP_FIELD.PHYSICAL_CHANNEL_ID),
  };
}

/** Encodes an OCRP. */
export function encodeOutgoingCallReply(m: PptpOutgoingCallReply, out?: Uint8Array, offset = 0): Uint8Array {
  const b = beginPptpMessage(PptpMessageType.OutgoingCallReply, out, offset);
  const o = offset;
  put16(b, o + OCRP_FIELD.CALL_ID, checkUint(m.callId, 16, 'OCRP Call ID'));
  put16(b, o + OCRP_FIELD.PEER_CALL_ID, checkUint(m.peerCallId, 16, "OCRP Peer's Call ID"));
  b[o + OCRP_FIELD.RESULT_CODE] = checkUint(m.resultCode, 8, 'OCRP Result Code');
  b[o + OCRP_FIELD.ERROR_CODE] = checkUint(m.errorCode, 8, 'OCRP Error Code');
  put16(b, o + OCRP_FIELD.CAUSE_CODE, checkUint(m.causeCode, 16, 'OCRP Cause Code'));
  put32(b, o + OCRP_FIELD.CONNECT_SPEED, checkUint(m.connectSpeed, 32, 'OCRP Connect Speed'));
  put16(b, o + OCRP_FIELD.PACKET_RECV_WINDOW_SIZE, checkUint(m.packetRecvWindowSize, 16, 'OCRP Window Size'));
  put16(b, o + OCRP_FIELD.PACKET_PROCESSING_DELAY, checkUint(m.packetProcessingDelay, 16, 'OCRP Delay'));
  put32(
    b,
    o + OCRP_FIELD.PHYSICAL_CHANNEL_ID,
    checkUint(m.physicalChannelId, 32, 'OCRP Physical Channel ID'),
  );
  return b.subarray(o, o + PPTP_MESSAGE_LENGTH[m.type]);
}

/** Size of an OCRP: always 32. */
export function outgoingCallReplyLength(_m?: PptpOutgoingCallReply): number {
  return PPTP_MESSAGE_LENGTH[PptpMessageType.OutgoingCallReply];
}

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

/** Byte offsets of ICRQ (RFC 2637 §2.9). */
export const ICRQ_FIELD = {
  CALL_ID: 12,
  CALL_SERIAL_NUMBER: 14,
  CALL_BEARER_TYPE: 16,
  PHYSICAL_CHANNEL_ID: 20,
  DIALED_NUMBER_LENGTH: 24,
  DIALING_NUMBER_LENGTH: 26,
  DIALED_NUMBER: 28,
  DIALING_NUMBER: 92,
  SUBADDRESS: 156,
} as const;

/** Incoming-Call-Request (ICRQ, RFC 2637 §2.9): the PAC tells the PNS a call is ringing. */
export interface PptpIncomingCallRequest {
  readonly type: PptpMessageType.IncomingCallRequest;
  /** The PAC's Call ID for this session. */
  readonly callId: number;
  readonly callSerialNumber: number;
  /** {@link PptpBearer}: 1 analog, 2 digital. */
  readonly callBearerType: number;
  readonly physicalChannelId: number;
  readonly dialedNumberLength: number;
  readonly dialingNumberLength: number;
  /** "The number that was dialed by the caller." */
  readonly dialedNumber: string;
  /** "The number from which the call was placed." */
  readonly dialingNumber: string;
  readonly subaddress: string;
}

/** Decodes an ICRQ (RFC 2637 §2.9). */
export function decodeIncomingCallRequest(bytes: Uint8Array): PptpIncomingCallRequest {
  checkPptpMessage(bytes, PptpMessageType.IncomingCallRequest);
  return {
    type: PptpMessageType.IncomingCallRequest,
    callId: u16(bytes, ICRQ_FIELD.CALL_ID),
    callSerialNumber: u16(bytes, ICRQ_FIELD.CALL_SERIAL_NUMBER),
    callBearerType: u32(bytes, ICRQ_FIELD.CALL_BEARER_TYPE),
    physicalChannelId: u32(bytes, ICRQ_FIELD.PHYSICAL_CHANNEL_ID),
    dialedNumberLength: u16(bytes, ICRQ_FIELD.DIALED_NUMBER_LENGTH),
    dialingNumberLength: u16(bytes, ICRQ_FIELD.DIALING_NUMBER_LENGTH),
    dialedNumber: readFixedString(bytes, ICRQ_FIELD.DIALED_NUMBER, PPTP_PHONE_NUMBER_LENGTH),
    dialingNumber: readFixedString(bytes, ICRQ_FIELD.DIALING_NUMBER, PPTP_PHONE_NUMBER_LENGTH),
    subaddress: readFixedString(bytes, ICRQ_FIELD.SUBADDRESS, PPTP_SUBADDRESS_LENGTH),
  };
}

/** Encodes an ICRQ. */
export function encodeIncomingCallRequest(
  m: PptpIncomingCallRequest,
  out?: Uint8Array,
  offset = 0,
): Uint8Array {
  const b = beginPptpMessage(PptpMessageType.IncomingCallRequest, out, offset);
  const o = offset;
  put16(b, o + ICRQ_FIELD.CALL_ID, checkUint(m.callId, 16, 'ICRQ Call ID'));
  put16(b, o + ICRQ_FIELD.CALL_SERIAL_NUMBER, checkUint(m.callSerialNumber, 16, 'ICRQ Call Serial Number'));
  put32(b, o + ICRQ_FIELD.CALL_BEARER_TYPE, checkUint(m.callBearerType, 32, 'ICRQ Call Bearer Type'));
  put32(
    b,
    o + ICRQ_FIELD.PHYSICAL_CHANNEL_ID,
    checkUint(m.physicalChannelId, 32, 'ICRQ Physical Channel ID'),
  );
  put16(
    b,
    o + ICRQ_FIELD.DIALED_NUMBER_LENGTH,
    checkUint(m.dialedNumberLength, 16, 'ICRQ Dialed Number Length'),
  );
  put16(
    b,
    o + ICRQ_FIELD.DIALING_NUMBER_LENGTH,
    checkUint(m.dialingNumberLength, 16, 'ICRQ Dialing Number Length'),
  );
  writeFixedString(
    b,
    o + ICRQ_FIELD.DIALED_NUMBER,
    PPTP_PHONE_NUMBER_LENGTH,
    checkPptpString(m.dialedNumber, PPTP_PHONE_NUMBER_LENGTH, 'ICRQ Dialed Number'),
  );
  writeFixedString(
    b,
    o + ICRQ_FIELD.DIALING_NUMBER,
    PPTP_PHONE_NUMBER_LENGTH,
    checkPptpString(m.dialingNumber, PPTP_PHONE_NUMBER_LENGTH, 'ICRQ Dialing Number'),
  );
  writeFixedString(
    b,
    o + ICRQ_FIELD.SUBADDRESS,
    PPTP_SUBADDRESS_LENGTH,
    checkPptpString(m.subaddress, PPTP_SUBADDRESS_LENGTH, 'ICRQ Subaddress'),
  );
  return b.subarray(o, o + PPTP_MESSAGE_LENGTH[m.type]);
}

/** Size of an ICRQ: always 220. */
export function incomingCallRequestLength(_m?: PptpIncomingCallRequest): number {
  return PPTP_MESSAGE_LENGTH[PptpMessageType.IncomingCallRequest];
}

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

/** Byte offsets of ICRP (RFC 2637 §2.10). */
export const ICRP_FIELD = {
  CALL_ID: 12,
  PEER_CALL_ID: 14,
  RESULT_CODE: 16,
  ERROR_CODE: 17,
  PACKET_RECV_WINDOW_SIZE: 18,
  PACKET_TRANSMIT_DELAY: 20,
  RESERVED1: 22,
} as const;

/** Incoming-Call-Reply (ICRP, RFC 2637 §2.10): the PNS says whether the PAC should answer. */
export interface PptpIncomingCallReply {
  readonly type: PptpMessageType.IncomingCallReply;
  /** The PNS's Call ID for this session. */
  readonly callId: number;
  /** The ICRQ's Call ID (the PAC's). */
  readonly peerCallId: number;
  /** {@link PptpIncomingCallResult}. */
  readonly resultCode: number;
  /** {@link PptpGeneralError} when `resultCode` is General Error, else 0. */
  readonly errorCode: number;
  /**
   * Packets the PNS will buffer. (The RFC's text says "the PAC", a slip:
   * this message comes from the PNS and advertises its own receive window.)
   */
  readonly packetRecvWindowSize: number;
  /** In 1/10 s. */
  readonly packetTransmitDelay: number;
}

/** Decodes an ICRP (RFC 2637 §2.10). */
export function decodeIncomingCallReply(bytes: Uint8Array): PptpIncomingCallReply {
  checkPptpMessage(bytes, PptpMessageType.IncomingCallReply);
  return {
    type: PptpMessageType.IncomingCallReply,
    callId: u16(bytes, ICRP_FIELD.CALL_ID),
    peerCallId: u16(bytes, ICRP_FIELD.PEER_CALL_ID),
    resultCode: bytes[ICRP_FIELD.RESULT_CODE]!,
    errorCode: bytes[ICRP_FIELD.ERROR_CODE]!,
    packetRecvWindowSize: u16(bytes, ICRP_FIELD.PACKET_RECV_WINDOW_SIZE),
    packetTransmitDelay: u16(bytes, ICRP_FIELD.PACKET_TRANSMIT_DELAY),
  };
}

/** Encodes an ICRP. */
export function encodeIncomingCallReply(m: PptpIncomingCallReply, out?: Uint8Array, offset = 0): Uint8Array {
  const b = beginPptpMessage(PptpMessageType.IncomingCallReply, out, offset);
  const o = offset;
  put16(b, o + ICRP_FIELD.CALL_ID, checkUint(m.callId, 16, 'ICRP Call ID'));
  put16(b, o + ICRP_FIELD.PEER_CALL_ID, checkUint(m.peerCallId, 16, "ICRP Peer's Call ID"));
  b[o + ICRP_FIELD.RESULT_CODE] = checkUint(m.resultCode, 8, 'ICRP Result Code');
  b[o + ICRP_FIELD.ERROR_CODE] = checkUint(m.errorCode, 8, 'ICRP Error Code');
  put16(b, o + ICRP_FIELD.PACKET_RECV_WINDOW_SIZE, checkUint(m.packetRecvWindowSize, 16, 'ICRP Window Size'));
  put16(b, o + ICRP_FIELD.PACKET_TRANSMIT_DELAY, checkUint(m.packetTransmitDelay, 16, 'ICRP Transmit Delay'));
  return b.subarray(o, o + PPTP_MESSAGE_LENGTH[m.type]);
}

/** Size of an ICRP: always 24. */
export function incomingCallReplyLength(_m?: PptpIncomingCallReply): number {
  return PPTP_MESSAGE_LENGTH[PptpMessageType.IncomingCallReply];
}

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

/** Byte offsets of ICCN (RFC 2637 §2.11). */
export const ICCN_FIELD = {
  PEER_CALL_ID: 12,
  RESERVED1: 14,
  CONNECT_SPEED: 16,
  PACKET_RECV_WINDOW_SIZE: 20,
  PACKET_TRANSMIT_DELAY: 22,
  FRAMING_TYPE: 24,
} as const;

/** Incoming-Call-Connected (ICCN, RFC 2637 §2.11): the PAC answered; the call is established. */
export interface PptpIncomingCallConnected {
  readonly type: PptpMessageType.IncomingCallConnected;
  /** The ICRP's Call ID (the PNS's). */
  readonly peerCallId: number;
  readonly connectSpeed: number;
  /** "The number of received data packets the PAC will buffer for this session." */
  readonly packetRecvWindowSize: number;
  /** In 1/10 s. */
  readonly packetTransmitDelay: number;
  /** {@link PptpFraming}: 1 async, 2 sync. */
  readonly framingType: number;
}

/** Decodes an ICCN (RFC 2637 §2.11). */
export function decodeIncomingCallConnected(bytes: Uint8Array): PptpIncomingCallConnected {
  checkPptpMessage(bytes, PptpMessageType.IncomingCallConnected);
  return {
    type: PptpMessageType.IncomingCallConnected,
    peerCallId: u16(bytes, ICCN_FIELD.PEER_CALL_ID),
    connectSpeed: u32(bytes, ICCN_FIELD.CONNECT_SPEED),
    packetRecvWindowSize: u16(bytes, ICCN_FIELD.PACKET_RECV_WINDOW_SIZE),
    packetTransmitDelay: u16(bytes, ICCN_FIELD.PACKET_TRANSMIT_DELAY),
    framingType: u32(bytes, ICCN_FIELD.FRAMING_TYPE),
  };
}

/** Encodes an ICCN. */
export function encodeIncomingCallConnected(
  m: PptpIncomingCallConnected,
  out?: Uint8Array,
  offset = 0,
): Uint8Array {
  const b = beginPptpMessage(PptpMessageType.IncomingCallConnected, out, offset);
  const o = offset;
  put16(b, o + ICCN_FIELD.PEER_CALL_ID, checkUint(m.peerCallId, 16, "ICCN Peer's Call ID"));
  put32(b, o + ICCN_FIELD.CONNECT_SPEED, checkUint(m.connectSpeed, 32, 'ICCN Connect Speed'));
  put16(b, o + ICCN_FIELD.PACKET_RECV_WINDOW_SIZE, checkUint(m.packetRecvWindowSize, 16, 'ICCN Window Size'));
  put16(b, o + ICCN_FIELD.PACKET_TRANSMIT_DELAY, checkUint(m.packetTransmitDelay, 16, 'ICCN Transmit Delay'));
  put32(b, o + ICCN_FIELD.FRAMING_TYPE, checkUint(m.framingType, 32, 'ICCN Framing Type'));
  return b.subarray(o, o + PPTP_MESSAGE_LENGTH[m.type]);
}

/** Size of an ICCN: always 28. */
export function incomingCallConnectedLength(_m?: PptpIncomingCallConnected): number {
  return PPTP_MESSAGE_LENGTH[PptpMessageType.IncomingCallConnected];
}

// ---------------------------------------------------------------------------
// Call-Clear-Request (CCRQ), RFC 2637 §2.12
//
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |      header (..., Control Message Type = 12, Reserved0)       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |            Call ID            |           Reserved1           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ---------------------------------------------------------------------------

/** Byte offsets of CCRQ (RFC 2637 §2.12). */
export const CCRQ_FIELD = { CALL_ID: 12, RESERVED1: 14 } as const;

/** Call-Clear-Request (CCRQ, RFC 2637 §2.12): the PNS asks the PAC to disconnect a call. */
export interface PptpCallClearRequest {
  readonly type: PptpMessageType.CallClearRequest;
  /** "The Call ID assigned by the PNS to this call." */
  readonly callId: number;
}

/** Decodes a CCRQ (RFC 2637 §2.12). */
export function decodeCallClearRequest(bytes: Uint8Array): PptpCallClearRequest {
  checkPptpMessage(bytes, PptpMessageType.CallClearRequest);
  return { type: PptpMessageType.CallClearRequest, callId: u16(bytes, CCRQ_FIELD.CALL_ID) };
}

/** Encodes a CCRQ. */
export function encodeCallClearRequest(m: PptpCallClearRequest, out?: Uint8Array, offset = 0): Uint8Array {
  const b = beginPptpMessage(PptpMessageType.CallClearRequest, out, offset);
  put16(b, offset + CCRQ_FIELD.CALL_ID, checkUint(m.callId, 16, 'CCRQ Call ID'));
  return b.subarray(offset, offset + PPTP_MESSAGE_LENGTH[m.type]);
}

/** Size of a CCRQ: always 16. */
export function callClearRequestLength(_m?: PptpCallClearRequest): number {
  return PPTP_MESSAGE_LENGTH[PptpMessageType.CallClearRequest];
}

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

/** Byte offsets of CDN (RFC 2637 §2.13). */
export const CDN_FIELD = {
  CALL_ID: 12,
  RESULT_CODE: 14,
  ERROR_CODE: 15,
  CAUSE_CODE: 16,
  RESERVED1: 18,
  CALL_STATISTICS: 20,
} as const;

/** Call-Disconnect-Notify (CDN, RFC 2637 §2.13): the PAC reports a call is gone, and why. */
export interface PptpCallDisconnectNotify {
  readonly type: PptpMessageType.CallDisconnectNotify;
  /** "The value of the Call ID assigned by the PAC to this call." */
  readonly callId: number;
  /** {@link PptpDisconnectResult}. */
  readonly resultCode: number;
  /** {@link PptpGeneralError} when `resultCode` is General Error, else 0. */
  readonly errorCode: number;
  /** "For ISDN calls it is the Q.931 cause code." */
  readonly causeCode: number;
  /** Vendor-specific ASCII statistics, at most 128 bytes. */
  readonly callStatistics: string;
}

/** Decodes a CDN (RFC 2637 §2.13). */
export function decodeCallDisconnectNotify(bytes: Uint8Array): PptpCallDisconnectNotify {
  checkPptpMessage(bytes, PptpMessageType.CallDisconnectNotify);
  return {
    type: PptpMessageType.CallDisconnectNotify,
    callId: u16(bytes, CDN_FIELD.CALL_ID),
    resultCode: bytes[CDN_FIELD.RESULT_CODE]!,
    errorCode: bytes[CDN_FIELD.ERROR_CODE]!,
    causeCode: u16(bytes, CDN_FIELD.CAUSE_CODE),
    callStatistics: readFixedString(bytes, CDN_FIELD.CALL_STATISTICS, PPTP_CALL_STATISTICS_LENGTH),
  };
}

/** Encodes a CDN. */
export function encodeCallDisconnectNotify(
  m: PptpCallDisconnectNotify,
  out?: Uint8Array,
  offset = 0,
): Uint8Array {
  const b = beginPptpMessage(PptpMessageType.CallDisconnectNotify, out, offset);
  const o = offset;
  put16(b, o + CDN_FIELD.CALL_ID, checkUint(m.callId, 16, 'CDN Call ID'));
  b[o + CDN_FIELD.RESULT_CODE] = checkUint(m.resultCode, 8, 'CDN Result Code');
  b[o + CDN_FIELD.ERROR_CODE] = checkUint(m.errorCode, 8, 'CDN Error Code');
  put16(b, o + CDN_FIELD.CAUSE_CODE, checkUint(m.causeCode, 16, 'CDN Cause Code'));
  writeFixedString(
    b,
    o + CDN_FIELD.CALL_STATISTICS,
    PPTP_CALL_STATISTICS_LENGTH,
    checkPptpString(m.callStatistics, PPTP_CALL_STATISTICS_LENGTH, 'CDN Call Statistics'),
  );
  return b.subarray(o, o + PPTP_MESSAGE_LENGTH[m.type]);
}

/** Size of a CDN: always 148. */
export function callDisconnectNotifyLength(_m?: PptpCallDisconnectNotify): number {
  return PPTP_MESSAGE_LENGTH[PptpMessageType.CallDisconnectNotify];
}
