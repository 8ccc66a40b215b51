/**
 * MS-CHAP-V2 (RFC 2759, LCP CHAP Algorithm 0x81), with mutual
 * authentication: the authenticator proves it knows the password too, in
 * the `S=` of its Success message, and the peer ends the session when that
 * does not verify (RFC 2759 §5: "If the authenticator response is either
 * missing or incorrect, the peer MUST end the session.").
 *
 * Windows 98 quirk (pppd chap_ms.c): Windows 98 sets the Response Flags to
 * 0x04 (the RFC says MUST be zero) and then rejects a Success message with
 * an `M=` part. So when the Flags are non-zero, the Success is just
 * `S=<auth_string>`.
 */

import { hashNtPasswordHash } from '../../crypto/mschap.js';
import {
  checkAuthenticatorResponseFromHash,
  generateAuthenticatorResponseFromHash,
  generateNtResponseFromHash,
} from '../../crypto/mschap-v2.js';
import { utf8 } from '../../wire/bytes.js';
import { WireError } from '../../wire/errors.js';
import { ChapAlgorithm } from '../../wire/lcp.js';
import {
  decodeMsChapV2Response,
  encodeMsChapV2Response,
  MSCHAPV2_CHALLENGE_LENGTH,
  parseMsChapV2Success,
  toUpperHex,
} from '../../wire/mschap.js';
import { digestsEqual, printable, redacted } from './auth-util.js';
import type { ChapVariant } from './chap.js';
import {
  copyPair,
  decodedResponse,
  MSCHAP_SUCCESS_TEXT,
  msChapFailureMessage,
  msChapFailureText,
  readMsChapFailure,
  responderNtHash,
  verifierNtHash,
} from './mschap.js';
import type { MppeKeyMaterial } from './types.js';

/** MS-CHAP-V2 key material (RFC 3079 §3.3): MD4(NT hash) and the NT-Response. Redacted for logs. */
function v2KeyMaterial(ntHash: Uint8Array, ntResponse: Uint8Array): MppeKeyMaterial {
  const [passwordHashHash, response] = copyPair(hashNtPasswordHash(ntHash), ntResponse);
  return redacted({ method: 'mschap-v2', passwordHashHash, ntResponse: response });
}

export const msChapV2: ChapVariant = {
  method: 'mschap-v2',
  algorithm: ChapAlgorithm.MsChapV2,
  challengeLength: MSCHAPV2_CHALLENGE_LENGTH,
  retries: true,

  verify({ challenge, value, name, secret }) {
    const decoded = decodedResponse(decodeMsChapV2Response, value);
    if (!decoded.ok) return decoded;
    const r = decoded.response;
    const hashed = verifierNtHash(secret);
    if (!hashed.ok) return hashed;
    const { ntHash } = hashed;
    // RFC 2759 §8.1 GenerateNTResponse; ChallengeHash uses the user name
    // without any "DOMAIN\" (crypto strips it), from the Name on the wire.
    const expected = generateNtResponseFromHash(challenge, r.peerChallenge, name, ntHash);
    if (!digestsEqual(r.ntResponse, expected)) {
      return { ok: false, reason: 'wrong-password', detail: 'NT-Response mismatch' };
    }
    // RFC 2759 §8.7 GenerateAuthenticatorResponse: "S=" + 40 upper-case hex.
    const authResponse = generateAuthenticatorResponseFromHash(
      ntHash,
      r.ntResponse,
      r.peerChallenge,
      challenge,
      name,
    );
    const text = r.flags !== 0 ? authResponse : `${authResponse} M=${MSCHAP_SUCCESS_TEXT}`;
    return { ok: true, message: utf8(text), mppe: v2KeyMaterial(ntHash, r.ntResponse) };
  },

  // "E=691 R=1 C=<32 hex> V=0 M=Authentication failed": C "MUST be exactly
  // 32 octets long and MUST be present" (RFC 2759 §6); V=0: we do not
  // implement password change.
  failureMessage: (f) => msChapFailureMessage(f, f.text ?? msChapFailureText(f.reason)),

  respond(challenge, _identifier, credentials, random) {
    const hashed = responderNtHash(
      challenge,
      MSCHAPV2_CHALLENGE_LENGTH,
      'MS-CHAP-V2',
      'RFC 2759 §3',
      credentials.secret,
    );
    if (!hashed.ok) return hashed;
    const { ntHash } = hashed;
    const name = utf8(credentials.name);
    const peerChallenge = random(16).slice();
    const authChallenge = challenge.slice();
    const ntResponse = generateNtResponseFromHash(authChallenge, peerChallenge, name, ntHash);
    const value = encodeMsChapV2Response({
      peerChallenge,
      reserved: new Uint8Array(8),
      ntResponse,
      flags: 0,
    });
    return {
      ok: true,
      value,
      checkSuccess(message) {
        let s: ReturnType<typeof parseMsChapV2Success>;
        try {
          s = parseMsChapV2Success(message);
        } catch (e) {
          if (!(e instanceof WireError)) throw e;
          return {
            ok: false,
            reason: 'authenticator-response-mismatch',
            detail: 'Success without a valid "S=" authenticator response',
          };
        }
        // RFC 2759 §8.8 CheckAuthenticatorResponse (constant-time compare).
        const received = `S=${toUpperHex(s.authenticatorResponse)}`;
        if (
          !checkAuthenticatorResponseFromHash(
            ntHash,
            ntResponse,
            peerChallenge,
            authChallenge,
            name,
            received,
          )
        ) {
          return {
            ok: false,
            reason: 'authenticator-response-mismatch',
            detail: 'the authenticator response does not match: the server does not know our password',
          };
        }
        return { ok: true, message: printable(s.message ?? ''), mppe: v2KeyMaterial(ntHash, ntResponse) };
      },
    };
  },

  readFailure: readMsChapFailure,
};
