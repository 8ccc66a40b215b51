/**
 * Error reporting and PPP session control (RFC 2637 §2.14–§2.15):
 * WAN-Error-Notify and Set-Link-Info. Same conventions as `connection-messages.ts`:
 * per message its diagram and its field table.
 */

import {
  PPTP_CALL_ROWS as CALL,
  definePptpMessage,
  type PptpMessageValueOf,
  reservedField,
  u32Field,
} from './fields.js';
import { PptpMessageType } from './header.js';

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

/** WEN as a field table (RFC 2637 §2.14). */
export const WEN_SPEC = definePptpMessage(PptpMessageType.WanErrorNotify, 'WAN-Error-Notify', [
  // "The Call ID assigned by the PNS to this call."
  CALL.peerCallId,
  reservedField('reserved1', 2),
  u32Field('crcErrors', 'CRC Errors', 'CRC errors'),
  u32Field('framingErrors', 'Framing Errors', 'framing errors'),
  u32Field('hardwareOverruns', 'Hardware Overruns', 'hardware overruns'),
  u32Field('bufferOverruns', 'Buffer Overruns', 'buffer overruns'),
  u32Field('timeoutErrors', 'Time-out Errors', 'time-out errors'),
  u32Field('alignmentErrors', 'Alignment Errors', 'alignment errors'),
]);

/**
 * WAN-Error-Notify (WEN, RFC 2637 §2.14): the PAC's cumulative error
 * counters for one call, "not more than once every 60 seconds".
 */
export type PptpWanErrorNotify = PptpMessageValueOf<typeof WEN_SPEC>;

/** Decodes, encodes and sizes (40) a WEN (RFC 2637 §2.14). */
export const {
  decode: decodeWanErrorNotify,
  encode: encodeWanErrorNotify,
  length: wanErrorNotifyLength,
} = WEN_SPEC;

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

/** SLI as a field table (RFC 2637 §2.15). */
export const SLI_SPEC = definePptpMessage(PptpMessageType.SetLinkInfo, 'Set-Link-Info', [
  // "The value of the Call ID assigned by the PAC to this call."
  CALL.peerCallId,
  reservedField('reserved1', 2),
  // RFC 1662 ACCMs; 0xFFFFFFFF until an SLI arrives.
  u32Field('sendAccm', 'Send ACCM', 'send ACCM', 'hex'),
  u32Field('receiveAccm', 'Receive ACCM', 'receive ACCM', 'hex'),
]);

/**
 * Set-Link-Info (SLI, RFC 2637 §2.15): the PNS passes PPP-negotiated ACCMs
 * to the PAC. Meaningless over GRE (no async HDLC framing), but Windows
 * sends one after LCP, often with non-zero ACCMs.
 */
export type PptpSetLinkInfo = PptpMessageValueOf<typeof SLI_SPEC>;

/** Decodes, encodes and sizes (24) an SLI (RFC 2637 §2.15). */
export const { decode: decodeSetLinkInfo, encode: encodeSetLinkInfo, length: setLinkInfoLength } = SLI_SPEC;
