/**
 * What the PPP dissector keeps from one frame to the next, and the options
 * that change what it shows. Kept apart so that the control-protocol, the
 * authentication and the MPPE parts of the dissector can share them.
 */

import type { MppeOption } from '../wire/ccp.js';
import type { MppeSessionDecryptor, MsChapExchange } from './mppe-decrypt.js';

/**
 * What the dissector remembers about one PPP session, learnt from earlier
 * frames, to read later ones: which CHAP algorithm was agreed (MS-CHAP v1
 * and v2 Responses have the same size) and which MPPE variant CCP agreed.
 */
export interface PppSessionState {
  /** CHAP Algorithm octet of an acknowledged LCP Authentication-Protocol option. */
  chapAlgorithm?: number;
  /** Value-Size of the last CHAP Challenge. */
  chapChallengeLength?: number;
  /** The MPPE option of an acknowledged CCP Configure-Request. */
  mppe?: MppeOption;
  /** The last CHAP Challenge: who sent it and its value. */
  challenge?: { readonly from: string; readonly value: Uint8Array };
  /** The MS-CHAP exchange that last succeeded (its keys are the ones MPPE uses). */
  msChap?: MsChapExchange;
  /** A Response waiting for its Success. */
  pendingMsChap?: MsChapExchange;
  /** The decryptor built from `msChap` and the password, or why there is none. */
  decryptor?: MppeSessionDecryptor | { readonly error: string; readonly wrongPassword?: true };
}

/** Options that change what is shown. */
export interface PppDissectOptions {
  /** Show PAP passwords (hidden by default: a capture may be shared, the output even more so). */
  readonly showSecrets?: boolean;
  /** Outer source address of the frame (which side sent it). */
  readonly from?: string;
  /** The account's password: decrypts MPPE after an MS-CHAP exchange seen in the capture. */
  readonly password?: string;
  /**
   * Told about a problem that concerns the whole capture rather than one
   * packet (a wrong password), once per session; the caller reports it once.
   */
  readonly warn?: (message: string) => void;
}

/** The one line a wrong `--password` gives (once, not per packet). */
export const WRONG_PASSWORD_WARNING = 'MPPE: could not decrypt with the given password (wrong password?)';
