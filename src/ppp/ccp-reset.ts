/**
 * The CCP reset controller of a PPP unit's MPPE receive side, sans-IO.
 *
 * RFC 1962 §3.1: "Once a Reset-Request has been sent, any Compressed
 * packets received are discarded, and another Reset-Request is sent with
 * the same Identifier, until a valid Reset-Ack is received." MPPE (RFC 3078
 * §8.2) ends the wait not with the Reset-Ack but with the next packet whose
 * flushed bit is set: the decryptor (src/mppe/mppe.ts) says when it is
 * still `awaitingFlush`, and until then the unit repeats the Reset-Request
 * every {@link CCP_RESET_RETRY_MS} (pppd's RACKTIMEOUT).
 *
 * The controller exists only once a link first needs a reset: a clean
 * stateless link never creates one.
 */

import type { CcpNote, CcpPolicy } from './ccp.js';
import type { Fsm, FsmAction } from './fsm.js';

/** Delay before a Reset-Request is repeated while the decryptor still waits for a flushed packet. */
export const CCP_RESET_RETRY_MS = 1000;

export class CcpResetController {
  /** Identifier of the outstanding Reset-Request. */
  private id = 0;

  /**
   * The actions that send one Reset-Request "without data" (RFC 3078 §8.2):
   * `fresh` for a new loss of synchronisation (a new Identifier), else the
   * repeat of the outstanding one (RFC 1962 §3.1: "with the same
   * Identifier").
   */
  request(ccp: Fsm<CcpNote>, policy: CcpPolicy, fresh: boolean): readonly FsmAction<CcpNote>[] {
    return ccp.withContext((ctx) => {
      if (fresh) this.id = ctx.nextId();
      ctx.send(policy.resetRequest(this.id));
    });
  }
}
