/**
 * Why a PPP link ended when LCP finished before anything else recorded a
 * reason: the peer's Terminate-Request (RFC 1661 §5.5), read in the light
 * of where authentication stood, or LCP's own reason (no answer, a failed
 * negotiation).
 */

import type { PppFailure } from './unit-types.js';

/**
 * `reason` is LCP's This-Layer-Finished reason; `peerText` the Data of the
 * peer's Terminate-Request, if one came; `refusedAuth` the method the peer
 * demanded and we refuse, when nothing authenticated; `downDuringAuth` that
 * LCP went down while authentication ran.
 */
export function lcpEndFailure(
  reason: string,
  peerText: string | undefined,
  refusedAuth: string | undefined,
  downDuringAuth: boolean,
): PppFailure {
  if (peerText !== undefined) {
    if (refusedAuth) {
      return {
        code: 'auth-refused',
        message: `the peer demanded ${refusedAuth} authentication, which we refuse; it ended the link`,
        peerMessage: peerText,
      };
    }
    if (downDuringAuth) {
      // Typically an MS-CHAP peer that got our Failure (with R=1) and hung up instead of retrying.
      return {
        code: 'auth-failed',
        message: `the peer ended the link during authentication (${peerText})`,
        peerMessage: peerText,
      };
    }
    return {
      code: 'peer-terminated',
      message: `LCP terminated by peer (${peerText})`,
      peerMessage: peerText,
    };
  }
  if (reason.startsWith('peer did not answer')) return { code: 'peer-silent', message: reason };
  return { code: 'negotiation-failed', message: `LCP: ${reason}` };
}
