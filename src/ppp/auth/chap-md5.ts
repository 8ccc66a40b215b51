/**
 * CHAP with MD5 (RFC 1994 §2.2, LCP Algorithm 5): Response Value =
 * MD5(Identifier ‖ secret ‖ Challenge Value). The secret is the clear-text
 * password on both sides, so an authenticator that stores only NT hashes
 * cannot use this method.
 */

import { utf8 } from '../../wire/bytes.js';
import { ChapAlgorithm } from '../../wire/lcp.js';
import { digestsEqual, md5, printable } from './auth-util.js';
import type { ChapVariant } from './chap.js';

/** pppd's texts (chap-md5.c). */
const SUCCESS_TEXT = 'Access granted';
const FAILURE_TEXT = 'Access denied';

/** RFC 1994 §2.2: "The Response Value is the one-way hash calculated over a stream of octets consisting of the Identifier, followed by (concatenated with) the "secret", followed by (concatenated with) the Challenge Value." */
function responseValue(identifier: number, password: string, challenge: Uint8Array): Uint8Array {
  return md5(Uint8Array.of(identifier & 0xff), utf8(password), challenge);
}

export const chapMd5: ChapVariant = {
  method: 'chap-md5',
  algorithm: ChapAlgorithm.Md5,
  // pppd sends 16..24 random octets; 16 is what MD5 digests anyway.
  challengeLength: 16,
  retries: false,

  verify({ identifier, challenge, value, secret }) {
    if (!('password' in secret)) {
      return { ok: false, reason: 'no-usable-secret', detail: 'CHAP-MD5 needs the clear-text password' };
    }
    // "16 octets for MD5" (RFC 1994 §4.1); digestsEqual is false on any other length.
    if (!digestsEqual(value, responseValue(identifier, secret.password, challenge))) {
      return { ok: false, reason: 'wrong-password', detail: 'MD5 response mismatch' };
    }
    return { ok: true, message: utf8(SUCCESS_TEXT) };
  },

  failureMessage: ({ text }) => utf8(text ?? FAILURE_TEXT),

  respond(challenge, identifier, credentials) {
    const secret = credentials.secret;
    if (!('password' in secret)) {
      return { ok: false, reason: 'no-usable-secret', detail: 'CHAP-MD5 needs the clear-text password' };
    }
    return {
      ok: true,
      value: responseValue(identifier, secret.password, challenge),
      checkSuccess: (message) => ({ ok: true, message: printable(message) }),
    };
  },

  readFailure: (message) => ({ reason: 'wrong-password', message: printable(message) }),
};
