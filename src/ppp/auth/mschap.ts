/**
 * MS-CHAP version 1 (RFC 2433, LCP CHAP Algorithm 0x80), and the pieces both
 * MS-CHAP versions share: `E=` codes and reading a Failure message.
 *
 * Response Value (RFC 2433 §6): 24 octets LAN Manager response (we send
 * zeros: "peers SHOULD NOT generate it, and the sub-field SHOULD be
 * zero-filled"), 24 octets NT response = ChallengeResponse(Challenge,
 * NtPasswordHash) (§A.5), and the flag 1 "use the NT response".
 *
 * Like pppd built without MSLANMAN, the authenticator refuses a Response
 * whose flag asks for the LAN Manager response.
 */

import { challengeResponse, ntPasswordHash } from '../../crypto/mschap.js';
import { utf8 } from '../../wire/bytes.js';
import { WireError } from '../../wire/errors.js';
import { ChapAlgorithm } from '../../wire/lcp.js';
import {
  decodeMsChapV1Response,
  encodeMsChapV1Response,
  formatMsChapFailure,
  MSCHAP_CHALLENGE_LENGTH,
  MsChapError,
  parseMsChapFailure,
} from '../../wire/mschap.js';
import { digestsEqual, printable, redacted } from './auth-util.js';
import type { ChapVariant, FailureReading, FailureText, VerifySecret } from './chap.js';
import type { AuthFailureReason, MppeKeyMaterial, PeerCredentials } from './types.js';

/** pppd's success text. */
export const MSCHAP_SUCCESS_TEXT = 'Access granted';

/** The `E=` code a failure reason is reported with (RFC 2759 §6 list). */
export function msChapErrorFor(reason: AuthFailureReason): number {
  switch (reason) {
    case 'account-disabled':
      return MsChapError.AccountDisabled;
    case 'restricted-hours':
      return MsChapError.RestrictedLogonHours;
    case 'password-expired':
      return MsChapError.PasswordExpired;
    case 'no-dialin-permission':
      return MsChapError.NoDialinPermission;
    default:
      // Unknown user, wrong password, unusable secret, malformed Response:
      // all look the same to the peer (no hint which names exist).
      return MsChapError.AuthenticationFailure;
  }
}

/** The failure reason for an `E=` code received from an authenticator. */
export function reasonForMsChapError(error: number): AuthFailureReason {
  switch (error) {
    case MsChapError.AuthenticationFailure:
      return 'wrong-password';
    case MsChapError.AccountDisabled:
      return 'account-disabled';
    case MsChapError.RestrictedLogonHours:
      return 'restricted-hours';
    case MsChapError.PasswordExpired:
      return 'password-expired';
    case MsChapError.NoDialinPermission:
      return 'no-dialin-permission';
    default:
      return 'other-error';
  }
}

/** Human text for the `M=` of MS-CHAP-V2 Failures. */
export function msChapFailureText(reason: AuthFailureReason): string {
  switch (reason) {
    case 'account-disabled':
      return 'Account disabled';
    case 'restricted-hours':
      return 'Restricted logon hours';
    case 'password-expired':
      return 'Password expired';
    case 'no-dialin-permission':
      return 'No dial-in permission';
    default:
      return 'Authentication failed';
  }
}

/**
 * Reads an MS-CHAP Failure message (either version). A message without a
 * usable `E=` is still a failure: reported as a wrong password with its
 * raw text (pppd prints such messages as they are).
 */
export function readMsChapFailure(message: Uint8Array): FailureReading {
  try {
    const f = parseMsChapFailure(message);
    return {
      reason: reasonForMsChapError(f.error),
      message: printable(f.message ?? `E=${f.error}`),
      error: f.error,
    };
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
    return { reason: 'wrong-password', message: printable(message) };
  }
}

/** The NT hash of a secret (hashing a password when that is what is stored). */
export function ntHashOf(secret: VerifySecret | PeerCredentials['secret']): Uint8Array {
  return 'ntHash' in secret ? secret.ntHash : ntPasswordHash(secret.password);
}

/** Why a Response cannot be checked or given: the shape both versions refuse with. */
type Refusal = { readonly ok: false; readonly reason: AuthFailureReason; readonly detail: string };

/** The authenticator's NT hash of the stored secret, or the refusal when it cannot be hashed. */
export function verifierNtHash(
  secret: VerifySecret,
): { readonly ok: true; readonly ntHash: Uint8Array } | Refusal {
  try {
    return { ok: true, ntHash: ntHashOf(secret) };
  } catch {
    return { ok: false, reason: 'no-usable-secret', detail: 'stored password cannot be hashed' };
  }
}

/** The peer's Response Value read with `decode` (either version), or the refusal of a malformed one. */
export function decodedResponse<R>(
  decode: (value: Uint8Array) => R,
  value: Uint8Array,
): { readonly ok: true; readonly response: R } | Refusal {
  try {
    return { ok: true, response: decode(value) };
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
    return { ok: false, reason: 'protocol-error', detail: e.message };
  }
}

/**
 * What the peer checks in both versions before it answers a Challenge: its
 * size (`rule`: the RFC section that asks for `length` octets) and that the
 * password can be hashed (at most 256 characters). The NT hash, or the refusal.
 */
export function responderNtHash(
  challenge: Uint8Array,
  length: number,
  variant: string,
  rule: string,
  secret: PeerCredentials['secret'],
): { readonly ok: true; readonly ntHash: Uint8Array } | Refusal {
  if (challenge.length !== length) {
    return {
      ok: false,
      reason: 'protocol-error',
      detail: `${variant} challenge of ${challenge.length} octets, ${rule} says ${length}`,
    };
  }
  try {
    return { ok: true, ntHash: ntHashOf(secret) };
  } catch {
    return {
      ok: false,
      reason: 'no-usable-secret',
      detail: 'password too long for MS-CHAP (256 characters)',
    };
  }
}

/**
 * The Failure message of both versions (RFC 2433 §8, RFC 2759 §6): `E=` from
 * the reason, `R=`, `C=` the next challenge, `V=0` (no password change), and
 * `M=` when there is a text.
 */
export function msChapFailureMessage(f: FailureText, text: string | undefined): Uint8Array {
  return formatMsChapFailure({
    error: msChapErrorFor(f.reason),
    retry: f.retry,
    challenge: f.challenge,
    version: 0,
    message: text,
  });
}

/** MS-CHAP v1 key material (RFC 3079 §2.3): NT hash and the 8-octet challenge. Redacted for logs. */
/**
 * Copies of `a` and `b` as two views of one buffer: a link keeps its key
 * material for as long as it lives, and every typed array's own buffer costs
 * some 90 bytes of heap besides its bytes.
 */
export function copyPair(a: Uint8Array, b: Uint8Array): [Uint8Array, Uint8Array] {
  const both = new Uint8Array(a.length + b.length);
  both.set(a, 0);
  both.set(b, a.length);
  return [both.subarray(0, a.length), both.subarray(a.length)];
}

function v1KeyMaterial(ntHash: Uint8Array, challenge: Uint8Array): MppeKeyMaterial {
  const [ntPasswordHash, challengeCopy] = copyPair(ntHash, challenge);
  return redacted({ method: 'mschap', ntPasswordHash, challenge: challengeCopy });
}

export const msChapV1: ChapVariant = {
  method: 'mschap',
  algorithm: ChapAlgorithm.MsChap,
  challengeLength: MSCHAP_CHALLENGE_LENGTH,
  retries: true,

  verify({ challenge, value, secret }) {
    const decoded = decodedResponse(decodeMsChapV1Response, value);
    if (!decoded.ok) return decoded;
    const r = decoded.response;
    if (r.useNtResponse === 0) {
      return {
        ok: false,
        reason: 'protocol-error',
        detail: 'the peer asked for LAN Manager authentication, which is not supported',
      };
    }
    const hashed = verifierNtHash(secret);
    if (!hashed.ok) return hashed;
    const { ntHash } = hashed;
    if (!digestsEqual(r.ntResponse, challengeResponse(challenge, ntHash))) {
      return { ok: false, reason: 'wrong-password', detail: 'NT response mismatch' };
    }
    return { ok: true, message: utf8(MSCHAP_SUCCESS_TEXT), mppe: v1KeyMaterial(ntHash, challenge) };
  },

  // pppd: "E=691 R=1 C=<challenge> V=0" (no M= for version 1, unless a decider gave a text).
  failureMessage: (f) => msChapFailureMessage(f, f.text),

  respond(challenge, _identifier, credentials) {
    const hashed = responderNtHash(
      challenge,
      MSCHAP_CHALLENGE_LENGTH,
      'MS-CHAP',
      'RFC 2433 §5',
      credentials.secret,
    );
    if (!hashed.ok) return hashed;
    const { ntHash } = hashed;
    const value = encodeMsChapV1Response({
      lmResponse: new Uint8Array(24),
      ntResponse: challengeResponse(challenge, ntHash),
      useNtResponse: 1,
    });
    const saved = challenge.slice();
    return {
      ok: true,
      value,
      checkSuccess: (message) => ({
        ok: true,
        message: printable(message),
        mppe: v1KeyMaterial(ntHash, saved),
      }),
    };
  },

  readFailure: readMsChapFailure,
};
