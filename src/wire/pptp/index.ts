/**
 * PPTP control messages (RFC 2637 §2) and the TCP 1723 stream framer.
 *
 * - `header.ts`: common header, message types, General Error codes, sizes.
 * - `fields.ts`: the field-table description of a message and the one
 *   generic decoder/encoder that works from it.
 * - `connection-messages.ts`: SCCRQ, SCCRP, StopCCRQ, StopCCRP, ECHORQ, ECHORP.
 * - `call-messages.ts`: OCRQ, OCRP, ICRQ, ICRP, ICCN, CCRQ, CDN.
 * - `link-messages.ts`: WEN, SLI.
 * - `message.ts`: the `PptpMessage` union, `PPTP_MESSAGE_SPECS` (every
 *   table by type) and `decodePptpMessage` /
 *   `encodePptpMessage` / `pptpMessageLength` over all of them.
 * - `framer.ts`: `PptpFramer`, partial and coalesced TCP reads.
 */
export * from './call-messages.js';
export * from './connection-messages.js';
export * from './fields.js';
export * from './framer.js';
export * from './header.js';
export * from './link-messages.js';
export * from './message.js';
