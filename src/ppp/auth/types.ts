/**
 * The common interface of the authentication engines (PAP, CHAP-MD5,
 * MS-CHAP v1, MS-CHAP-V2), both directions. This file is the contract the
 * PPP unit integrates; keep it stable.
 *
 * Each engine is sans-IO (docs/style.md §4): it never reads the clock, never
 * starts a timer and never touches a socket. The unit calls
 *
 *  - `start()` when the Authentication phase begins (RFC 1661 §3.5: after
 *    LCP reaches Opened, for the direction(s) LCP negotiated);
 *  - `receive(payload)` for every PAP (0xc023) / CHAP (0xc223) packet the
 *    engine should see (use {@link authPacketTarget} to route: with
 *    authentication in both directions over CHAP, Challenge/Success/Failure
 *    go to the peer engine and Response to the authenticator);
 *  - `timeout(id)` when a timer the engine asked for fires;
 *  - `stop()` when the link leaves the Authenticate/Network phases;
 *
 * and executes the returned {@link AuthAction}s in order.
 *
 * Vocabulary (RFC 1661 §3.5, RFC 1994 §1.2): the *authenticator* demands
 * authentication (our server normally); the *peer* proves its identity (our
 * client normally). Either side may be either role.
 */

import type { Logger } from '../../log/logger.js';
import { ChapCode } from '../../wire/chap.js';
import type { AuthMethod } from '../../wire/lcp.js';
import { PapCode } from '../../wire/pap.js';
import { type PppFrame, PppProtocol } from '../../wire/ppp.js';

export type { AuthMethod } from '../../wire/lcp.js';

/** Which half of an authentication exchange an engine plays. */
export type AuthRole = 'authenticator' | 'peer';

// ─── Actions ────────────────────────────────────────────────────────────────

/**
 * What an engine asks its driver to do. Timer ids are unique per engine and
 * role (see {@link AUTH_TIMER}); starting a running timer restarts it.
 */
export type AuthAction =
  | { readonly kind: 'send'; readonly frame: PppFrame }
  | { readonly kind: 'startTimer'; readonly id: string; readonly ms: number }
  | { readonly kind: 'stopTimer'; readonly id: string }
  /** This direction of authentication succeeded; the unit may leave the Authenticate phase once both are done. */
  | { readonly kind: 'success'; readonly result: AuthSuccess }
  /**
   * This direction failed. RFC 1661 §3.5: "If Authentication fails, the
   * authenticator SHOULD proceed instead to the Link Termination phase."
   * The peer side fails the link too (pppd does).
   */
  | { readonly kind: 'failure'; readonly failure: AuthFailure };

/** Timer ids, named by intent (docs/style.md §4). */
export const AUTH_TIMER = {
  /** PAP peer: retransmit the Authenticate-Request (RFC 1334 §2.2.1 "MUST be repeated"). */
  papRequestRestart: 'auth.pap.request-restart',
  /** PAP authenticator: give up waiting for an Authenticate-Request. */
  papRequestWait: 'auth.pap.request-wait',
  /** CHAP authenticator: retransmit the Challenge (RFC 1994 §4.1 "Additional Challenge packets MUST be sent"). */
  chapChallengeRestart: 'auth.chap.challenge-restart',
  /** CHAP authenticator: give up waiting for a retried Response after a Failure with R=1 (MS-CHAP). */
  chapRetryWait: 'auth.chap.retry-wait',
  /** CHAP peer: give up waiting for the first Challenge. */
  chapPeerWait: 'auth.chap.peer-wait',
  /**
   * CHAP peer: resend our Response while no Success/Failure comes. RFC 1994
   * §4.1: "Because the Success might be lost, the authenticator MUST allow
   * repeated Response packets"; resending is what recovers a lost Success
   * (or a lost Response when the authenticator has stopped retransmitting).
   */
  chapResponseRestart: 'auth.chap.response-restart',
  /** Authenticator: the Failure (PAP Authenticate-Nak, CHAP Failure) is held until this fires ({@link AuthenticatorOptions.failureDelayMs}). */
  failureDelay: 'auth.failure-delay',
} as const;

// ─── Results ────────────────────────────────────────────────────────────────

/**
 * Secret material for MPPE key derivation (RFC 3079). Never log it: its
 * `toJSON()` and `toString()` are redacted. Feed it to
 * `mppeMasterKeysFromAuth()` (keys.ts).
 *  - MS-CHAP v1 (RFC 3079 §2.3): the NT password hash and the
 *    authenticator's 8-octet challenge of this (first) authentication.
 *  - MS-CHAP-V2 (RFC 3079 §3.3): PasswordHashHash = MD4(NT hash) and the
 *    peer's 24-octet NT-Response.
 */
export type MppeKeyMaterial =
  | {
      readonly method: 'mschap';
      readonly ntPasswordHash: Uint8Array;
      readonly challenge: Uint8Array;
    }
  | {
      readonly method: 'mschap-v2';
      readonly passwordHashHash: Uint8Array;
      readonly ntResponse: Uint8Array;
    }
  /**
   * Master keys handed over ready-made, as the authenticator's end sees them
   * (a RADIUS Access-Accept's MS-MPPE-Send-Key and MS-MPPE-Recv-Key, RFC 2548
   * §2.4.2–2.4.3: the Send-Key keys what the NAS sends). `source` says where
   * they came from, for logs.
   */
  | {
      readonly method: 'keys';
      readonly sendKey: Uint8Array;
      readonly receiveKey: Uint8Array;
      readonly source: string;
    };

/** A completed authentication (one direction). */
export interface AuthSuccess {
  readonly method: AuthMethod;
  readonly role: AuthRole;
  /**
   * Authenticator: the name the peer authenticated as (after `DOMAIN\`
   * stripping when `ignoreDomain` is on), e.g. for PEERNAME in ip-up.
   * Peer: the name we sent.
   */
  readonly peerName: string;
  /** The Success/Ack message text (sanitised, for logs), if any. */
  readonly message: string;
  /** Present for MS-CHAP v1 and v2: what MPPE key derivation needs. */
  readonly mppe?: MppeKeyMaterial;
}

/**
 * Why authentication failed, as typed codes the unit surfaces to its
 * caller. MS-CHAP `E=` codes map 1:1 where one exists (RFC 2759 §6).
 */
export type AuthFailureReason =
  /** The secret did not match (PAP Nak, CHAP Failure, MS-CHAP E=691). */
  | 'wrong-password'
  /** Authenticator only: no secret for this name (the peer sees E=691 / a Nak, nothing more). */
  | 'unknown-user'
  /** Authenticator only: the name has a secret this method cannot use (an NT hash for CHAP-MD5). */
  | 'no-usable-secret'
  /** MS-CHAP E=647 ERROR_ACCT_DISABLED. */
  | 'account-disabled'
  /** MS-CHAP E=646 ERROR_RESTRICTED_LOGON_HOURS. */
  | 'restricted-hours'
  /** MS-CHAP E=648 ERROR_PASSWD_EXPIRED (password change is not implemented). */
  | 'password-expired'
  /** MS-CHAP E=649 ERROR_NO_DIALIN_PERMISSION. */
  | 'no-dialin-permission'
  /** MS-CHAP: some other E= code (see `error`). */
  | 'other-error'
  /**
   * The authentication protocol was refused during LCP negotiation. Not
   * produced by these engines (they run after LCP); the unit uses this code
   * so every auth failure has one vocabulary.
   */
  | 'protocol-refused'
  /** No answer in time after bounded retransmissions. */
  | 'timed-out'
  /** MS-CHAP-V2 peer: the Success packet's `S=` did not match (RFC 2759 §5: "the peer MUST end the session"). */
  | 'authenticator-response-mismatch'
  /** The other side sent something unusable (a Success without `S=`, an MS-CHAP v1 LAN Manager-only response...). */
  | 'protocol-error';

/** A failed authentication (one direction). */
export interface AuthFailure {
  readonly method: AuthMethod;
  readonly role: AuthRole;
  readonly reason: AuthFailureReason;
  /** Human-readable detail for logs (never contains a secret). */
  readonly detail: string;
  /** Peer side: the text the authenticator sent (sanitised), e.g. MS-CHAP `M=`. */
  readonly message?: string;
  /** MS-CHAP: the `E=` code sent or received. */
  readonly error?: number;
  /** The peer name involved, when known. */
  readonly peerName?: string;
}

// ─── Credentials ────────────────────────────────────────────────────────────

/**
 * A user's secret as the authenticator knows it, or a reason to refuse the
 * account outright (sent as the matching MS-CHAP `E=` code with R=0; PAP
 * and CHAP-MD5 just fail).
 *  - `password`: usable by every method.
 *  - `ntHash`: the 16-octet NT password hash (MD4 of the UTF-16LE
 *    password, RFC 2759 §8.3): usable by MS-CHAP v1/v2 and PAP (the
 *    authenticator hashes the PAP password), not by CHAP-MD5.
 */
export type Credential =
  | { readonly password: string }
  | { readonly ntHash: Uint8Array }
  | {
      readonly refuse: 'account-disabled' | 'restricted-hours' | 'password-expired' | 'no-dialin-permission';
    }
  | AuthVerdict
  /**
   * The answer is not in yet (a RADIUS server is being asked about this very
   * exchange): the engine tosses the packet as if it had not come, changes
   * nothing, and the lookup's owner hands the packet in again once the
   * verdict is known.
   */
  | { readonly pending: true };

/**
 * A decision taken elsewhere (a RADIUS server checked the exchange in
 * {@link CredentialRequest.exchange}), instead of a secret to verify with.
 *  - `accept`: `message` is the Success/Ack message to send as is (for
 *    MS-CHAP-V2 it must carry the `S=` authenticator response, RFC 2759 §5);
 *    `mppe` the key material, if the decider gave keys.
 *  - `reject`: `message` is the text for the peer (MS-CHAP `M=`, the PAP Nak
 *    or CHAP Failure message); `reason` defaults to `wrong-password`.
 */
export type AuthVerdict =
  | {
      readonly verdict: 'accept';
      readonly message?: Uint8Array;
      readonly mppe?: MppeKeyMaterial;
    }
  | {
      readonly verdict: 'reject';
      readonly reason?: AuthFailureReason;
      readonly message?: string;
      readonly detail?: string;
    };

/**
 * The exchange a lookup is asked about, for a decider that checks it itself
 * (RADIUS sends these to its server, RFC 2865 §5.2–5.3, RFC 2548 §2.1–2.3).
 * Views into the packet and the engine's state: copy what you keep.
 */
export interface AuthExchange {
  /** The Identifier of the PAP Authenticate-Request or CHAP Response. */
  readonly identifier: number;
  /** PAP: the Password field. */
  readonly password?: Uint8Array;
  /** CHAP family: the Challenge Value we sent. */
  readonly challenge?: Uint8Array;
  /** CHAP family: the Response Value. */
  readonly response?: Uint8Array;
}

/** What the authenticator passes to its credentials lookup. */
export interface CredentialRequest {
  /** The name the peer presented, after `DOMAIN\` stripping when `ignoreDomain` is on. */
  readonly peerName: string;
  /** The name exactly as it came on the wire (decoded as UTF-8). */
  readonly rawPeerName: string;
  readonly method: AuthMethod;
  /** The packet and challenge being judged (engines always fill it in; a plain secrets file ignores it). */
  readonly exchange?: AuthExchange;
}

/**
 * The authenticator's secrets lookup (e.g. a chap-secrets file). Returns
 * `undefined` for an unknown user. Synchronous on purpose: the engines are
 * sans-IO. A back end that decides itself (RADIUS) answers `pending` first,
 * asks about {@link CredentialRequest.exchange} elsewhere, and returns an
 * {@link AuthVerdict} when the same packet comes again.
 */
export type CredentialLookup = (request: CredentialRequest) => Credential | undefined;

/** What the peer side authenticates with. */
export interface PeerCredentials {
  /** Our name (PAP Peer-ID, CHAP Name); may carry a `DOMAIN\` prefix for MS-CHAP. */
  readonly name: string;
  /** The password, or the NT hash for MS-CHAP v1/v2 only. */
  readonly secret: { readonly password: string } | { readonly ntHash: Uint8Array };
}

// ─── Engine options ─────────────────────────────────────────────────────────

/** Source of random bytes (challenges, peer challenges, first identifiers). Defaults to `crypto.randomBytes`. */
export type RandomBytes = (n: number) => Uint8Array;

/** Options common to both roles. */
export interface AuthCommonOptions {
  readonly log?: Logger;
  readonly random?: RandomBytes;
}

/** Authenticator options, with pppd's names and defaults in the comments. */
export interface AuthenticatorOptions extends AuthCommonOptions {
  readonly lookup: CredentialLookup;
  /** Our name, sent in CHAP Challenges (pppd `name`; Microsoft sends none). Default ''. */
  readonly name?: string;
  /** Challenge retransmission interval (pppd `chap-restart` 3 s). */
  readonly restartMs?: number;
  /** Challenge transmissions before giving up (pppd `chap-max-challenge` 10). */
  readonly maxChallenges?: number;
  /** PAP: how long to wait for an Authenticate-Request (pppd `pap-timeout`, 30 s here). */
  readonly requestWaitMs?: number;
  /**
   * MS-CHAP v1/v2: how many new Responses to accept after a failed one
   * (each Failure then carries `R=1` and a new `C=`; RFC 2759 §9.1.4).
   * Default 2, i.e. three attempts as in RFC 2759 §9.1.5. pppd sends R=1
   * but never accepts a retry; 0 gives honest `R=0` behaviour like it.
   */
  readonly maxRetries?: number;
  /** MS-CHAP: how long to wait for the retried Response (the peer may prompt a user). Default 60 s. */
  readonly retryWaitMs?: number;
  /** Strip `DOMAIN\` from the CHAP Name before the lookup (pppd `ms-ignore-domain`). Default false. */
  readonly ignoreDomain?: boolean;
  /**
   * Called for every failed attempt (before anything is sent); a result
   * above 0 holds the Failure (and whatever follows it) for that many ms
   * and tosses Responses meanwhile: a tarpit against password guessing.
   * Default: no delay.
   */
  readonly failureDelayMs?: (peerName: string, reason: AuthFailureReason, method: AuthMethod) => number;
}

/** Peer options. */
export interface PeerOptions extends AuthCommonOptions {
  readonly credentials: PeerCredentials;
  /** Retransmission interval of the PAP Authenticate-Request and of the CHAP Response (pppd `pap-restart` 3 s). */
  readonly restartMs?: number;
  /** Transmissions of one Authenticate-Request / Response before giving up (pppd `pap-max-authreq` 10). */
  readonly maxRequests?: number;
  /** CHAP family: how long to wait for the first Challenge. Default 30 s. */
  readonly waitMs?: number;
}

/** pppd's defaults for the options above. */
export const AUTH_DEFAULTS = {
  restartMs: 3000,
  maxChallenges: 10,
  maxRequests: 10,
  requestWaitMs: 30_000,
  maxRetries: 2,
  retryWaitMs: 60_000,
  waitMs: 30_000,
} as const;

// ─── Engine ─────────────────────────────────────────────────────────────────

/** Where an engine is (for logs and tests). */
export type AuthState = 'initial' | 'waiting' | 'success' | 'failure' | 'stopped';

/** One direction of one authentication method. */
export interface AuthEngine {
  readonly method: AuthMethod;
  readonly role: AuthRole;
  /** PPP protocol of its packets: 0xc023 (PAP) or 0xc223 (CHAP family). */
  readonly protocol: number;
  readonly state: AuthState;
  /** The Authentication phase begins. Calling it twice is a no-op. */
  start(): AuthAction[];
  /** One packet (the PPP Information field) of `protocol`. Malformed or unexpected packets are tossed. */
  receive(payload: Uint8Array): AuthAction[];
  /** A timer this engine started fired. Unknown ids are ignored. */
  timeout(id: string): AuthAction[];
  /** The link is going down: stop timers, ignore everything after. */
  stop(): AuthAction[];
}

/** The authenticator side (verifies the peer). */
export interface Authenticator extends AuthEngine {
  readonly role: 'authenticator';
}

/** The peer side (proves our identity). */
export interface AuthPeer extends AuthEngine {
  readonly role: 'peer';
}

/**
 * Which engine a PAP or CHAP packet is for, by its Code: what the peer sends
 * (PAP Authenticate-Request, CHAP Response) goes to our authenticator; what
 * the authenticator sends (PAP Ack/Nak, CHAP Challenge/Success/Failure) goes
 * to our peer engine. `undefined` for other protocols, unknown codes and
 * packets too short to have a Code (the unit discards those).
 */
export function authPacketTarget(protocol: number, payload: Uint8Array): AuthRole | undefined {
  if (payload.length < 1) return undefined;
  const code = payload[0]!;
  if (protocol === PppProtocol.Pap) {
    if (code === PapCode.AuthenticateRequest) return 'authenticator';
    if (code === PapCode.AuthenticateAck || code === PapCode.AuthenticateNak) return 'peer';
    return undefined;
  }
  if (protocol === PppProtocol.Chap) {
    if (code === ChapCode.Response) return 'authenticator';
    if (code === ChapCode.Challenge || code === ChapCode.Success || code === ChapCode.Failure) return 'peer';
    return undefined;
  }
  return undefined;
}
