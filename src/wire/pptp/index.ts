/**
 * PPTP control messages (RFC 2637 §2) and the TCP 1723 stream framer.
 *
 * - `header.ts`: common header, message types, General Error codes, sizes.
 * - `connection.ts`: SCCRQ, SCCRP, StopCCRQ, StopCCRP, ECHORQ, ECHORP.
 * - `call.ts`: OCRQ, OCRP, ICRQ, ICRP, ICCN, CCRQ, CDN.
 * - `link.ts`: WEN, SLI.
 * - `message.ts`: the `PptpMessage` union and `decodePptpMessage` /
 *   `encodePptpMessage` / `pptpMessageLength` over all of them.
 * - `framer.ts`: `PptpFramer`, partial and coalesced TCP reads.
 */
export * from './call.js';
export * from './connection.js';
export * from './framer.js';
export * from './header.js';
export * from './link.js';
export * from './message.js';
