/**
 * The typed error of the PPTP control plane (docs/style.md §3, yamux's
 * reason-code pattern): a malformed or unexpected control message becomes a
 * {@link PptpProtocolError} carrying the RFC 2637 General Error code
 * (§2.16) and the Stop-Control-Connection-Request Reason (§2.3) to answer
 * with. The connection engine then sends StopCCRQ, or closes TCP when the
 * connection is not established or the stream lost sync.
 */

import { PptpGeneralError, PptpStopReason } from '../wire/pptp/index.js';

export class PptpProtocolError extends Error {
  override readonly name = 'PptpProtocolError';
  constructor(
    /** The RFC 2637 §2.16 General Error code that names the problem. */
    readonly generalError: PptpGeneralError,
    /** What was wrong, for logs. */
    readonly detail: string,
    /** The RFC sentence that makes it an error, when there is one. */
    readonly reference?: string,
    /** The Reason of the StopCCRQ sent because of it (RFC 2637 §2.3). */
    readonly stopReason: PptpStopReason = PptpStopReason.None,
    /** Control Message Type of the offending message, when known. */
    readonly messageType?: number,
  ) {
    super(
      `${PptpGeneralError[generalError] ?? generalError}: ${detail}${reference ? ` (${reference})` : ''}`,
    );
  }
}
