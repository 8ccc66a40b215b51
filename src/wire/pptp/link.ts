/**
 * Error reporting and PPP session control (RFC 2637 §2.14–§2.15):
 * WAN-Error-Notify and Set-Link-Info. Same conventions as `connection.ts`.
 */

import { put16, put32, u16, u32 } from '../bytes.js';
import {
  beginPptpMessage,
  checkPptpMessage,
  checkUint,
  PPTP_MESSAGE_LENGTH,
  PptpMessageType,
} from './header.js';

// ---------------------------------------------------------------------------
// WAN-Error-Notify (WEN), RFC 2637 §2.14
//
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |      header (..., Control Message Type = 14, Reserved0)       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |        Peer's Call ID         |           Reserved1           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                          CRC Errors                           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                        Framing Errors                         |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                       Hardware Overruns                       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                        Buffer Overruns                        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                        Time-out Errors                        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                       Alignment Errors                        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ---------------------------------------------------------------------------

/** Byte offsets of WEN (RFC 2637 §2.14). */
export const WEN_FIELD = {
  PEER_CALL_ID: 12,
  RESERVED1: 14,
  CRC_ERRORS: 16,
  FRAMING_ERRORS: 20,
  HARDWARE_OVERRUNS: 24,
  BUFFER_OVERRUNS: 28,
  TIMEOUT_ERRORS: 32,
  ALIGNMENT_ERRORS: 36,
} as const;

/**
 * WAN-Error-Notify (WEN, RFC 2637 §2.14): the PAC's cumulative error
 * counters for one call, "not more than once every 60 seconds".
 */
export interface PptpWanErrorNotify {
  readonly type: PptpMessageType.WanErrorNotify;
  /** "The Call ID assigned by the PNS to this call." */
  readonly peerCallId: number;
  readonly crcErrors: number;
  readonly framingErrors: number;
  readonly hardwareOverruns: number;
  readonly bufferOverruns: number;
  readonly timeoutErrors: number;
  readonly alignmentErrors: number;
}

/** Decodes a WEN (RFC 2637 §2.14). */
export function decodeWanErrorNotify(bytes: Uint8Array): PptpWanErrorNotify {
  checkPptpMessage(bytes, PptpMessageType.WanErrorNotify);
  return {
    type: PptpMessageType.WanErrorNotify,
    peerCallId: u16(bytes, WEN_FIELD.PEER_CALL_ID),
    crcErrors: u32(bytes, WEN_FIELD.CRC_ERRORS),
    framingErrors: u32(bytes, WEN_FIELD.FRAMING_ERRORS),
    hardwareOverruns: u32(bytes, WEN_FIELD.HARDWARE_OVERRUNS),
    bufferOverruns: u32(bytes, WEN_FIELD.BUFFER_OVERRUNS),
    timeoutErrors: u32(bytes, WEN_FIELD.TIMEOUT_ERRORS),
    alignmentErrors: u32(bytes, WEN_FIELD.ALIGNMENT_ERRORS),
  };
}

/** Encodes a WEN. */
export function encodeWanErrorNotify(m: PptpWanErrorNotify, out?: Uint8Array, offset = 0): Uint8Array {
  const b = beginPptpMessage(PptpMessageType.WanErrorNotify, out, offset);
  const o = offset;
  put16(b, o + WEN_FIELD.PEER_CALL_ID, checkUint(m.peerCallId, 16, "WEN Peer's Call ID"));
  put32(b, o + WEN_FIELD.CRC_ERRORS, checkUint(m.crcErrors, 32, 'WEN CRC Errors'));
  put32(b, o + WEN_FIELD.FRAMING_ERRORS, checkUint(m.framingErrors, 32, 'WEN Framing Errors'));
  put32(b, o + WEN_FIELD.HARDWARE_OVERRUNS, checkUint(m.hardwareOverruns, 32, 'WEN Hardware Overruns'));
  put32(b, o + WEN_FIELD.BUFFER_OVERRUNS, checkUint(m.bufferOverruns, 32, 'WEN Buffer Overruns'));
  put32(b, o + WEN_FIELD.TIMEOUT_ERRORS, checkUint(m.timeoutErrors, 32, 'WEN Time-out Errors'));
  put32(b, o + WEN_FIELD.ALIGNMENT_ERRORS, checkUint(m.alignmentErrors, 32, 'WEN Alignment Errors'));
  return b.subarray(o, o + PPTP_MESSAGE_LENGTH[m.type]);
}

/** Size of a WEN: always 40. */
export function wanErrorNotifyLength(_m?: PptpWanErrorNotify): number {
  return PPTP_MESSAGE_LENGTH[PptpMessageType.WanErrorNotify];
}

// ---------------------------------------------------------------------------
// Set-Link-Info (SLI), RFC 2637 §2.15
//
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |      header (..., Control Message Type = 15, Reserved0)       |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |        Peer's Call ID         |           Reserved1           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                           Send ACCM                           |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                         Receive ACCM                          |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ---------------------------------------------------------------------------

/** Byte offsets of SLI (RFC 2637 §2.15). */
export const SLI_FIELD = { PEER_CALL_ID: 12, RESERVED1: 14, SEND_ACCM: 16, RECEIVE_ACCM: 20 } as const;

/**
 * Set-Link-Info (SLI, RFC 2637 §2.15): the PNS passes PPP-negotiated ACCMs
 * to the PAC. Meaningless over GRE (no async HDLC framing), but Windows
 * sends one after LCP, often with non-zero ACCMs.
 */
export interface PptpSetLinkInfo {
  readonly type: PptpMessageType.SetLinkInfo;
  /** "The value of the Call ID assigned by the PAC to this call." */
  readonly peerCallId: number;
  /** Default 0xFFFFFFFF until an SLI arrives (RFC 1662 ACCM). */
  readonly sendAccm: number;
  readonly receiveAccm: number;
}

/** Decodes an SLI (RFC 2637 §2.15). */
export function decodeSetLinkInfo(bytes: Uint8Array): PptpSetLinkInfo {
  checkPptpMessage(bytes, PptpMessageType.SetLinkInfo);
  return {
    type: PptpMessageType.SetLinkInfo,
    peerCallId: u16(bytes, SLI_FIELD.PEER_CALL_ID),
    sendAccm: u32(bytes, SLI_FIELD.SEND_ACCM),
    receiveAccm: u32(bytes, SLI_FIELD.RECEIVE_ACCM),
  };
}

/** Encodes an SLI. */
export function encodeSetLinkInfo(m: PptpSetLinkInfo, out?: Uint8Array, offset = 0): Uint8Array {
  const b = beginPptpMessage(PptpMessageType.SetLinkInfo, out, offset);
  const o = offset;
  put16(b, o + SLI_FIELD.PEER_CALL_ID, checkUint(m.peerCallId, 16, "SLI Peer's Call ID"));
  put32(b, o + SLI_FIELD.SEND_ACCM, checkUint(m.sendAccm, 32, 'SLI Send ACCM'));
  put32(b, o + SLI_FIELD.RECEIVE_ACCM, checkUint(m.receiveAccm, 32, 'SLI Receive ACCM'));
  return b.subarray(o, o + PPTP_MESSAGE_LENGTH[m.type]);
}

/** Size of an SLI: always 24. */
export function setLinkInfoLength(_m?: PptpSetLinkInfo): number {
  return PPTP_MESSAGE_LENGTH[PptpMessageType.SetLinkInfo];
}
