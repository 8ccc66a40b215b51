/**
 * The Challenge-Handshake Authentication Protocol engines (RFC 1994), both
 * sides, sans-IO. One pair of classes runs every CHAP algorithm; what
 * differs between MD5 (RFC 1994), MS-CHAP (RFC 2433) and MS-CHAP-V2
 * (RFC 2759) — challenge size, how a Response is computed and checked, the
 * Success/Failure texts, retries, mutual authentication — is a
 * {@link ChapVariant} (chap-md5.ts, mschap.ts, mschapv2.ts).
 *
 * Authenticator:
 * ```
 *   start ──► send Challenge(id, random value) ──► waiting ◄─┐ restart timer:
 *                                                   │        │ resend the same
 *                                  Response(id) ────┤        │ Challenge, up to
 *                                                   │        │ maxChallenges
 *      ok: send Success(id) ──► success             │
 *      bad, retries left (MS-CHAP): send Failure(id, R=1, C=new) and wait
 *                         for Response(id+1) to the new challenge ──┘
 *      bad, no retry: send Failure(id, R=0) ──► failure
 *   success/failure: a repeated Response(id) gets the same reply again
 * ```
 *
 * Peer:
 * ```
 *   start ──► waiting (peer-wait timer) ── Challenge(id) ──► send Response(id)
 *     Success(id): check it (MS-CHAP-V2: S= must match) ──► success
 *     Failure(id) ──► failure (non-interactive: no retry even with R=1)
 *   success: a new Challenge (re-authentication) is answered again
 * ```
 */

import { type Logger, nullLogger } from '../../log/logger.js';
import { bytesEqual, utf8 } from '../../wire/bytes.js';
import { decodeChapPacket, encodeChapPacket } from '../../wire/chap.js';
import type { ChapAlgorithm } from '../../wire/lcp.js';
import { PppProtocol } from '../../wire/ppp.js';
import { fromLatin1Text, toLatin1 } from '../byte-string.js';
import {
  decodeName,
  decodeOrDiscard,
  defaultRandom,
  failureAction,
  printable,
  sendAction,
  stripDomain,
} from './auth-util.js';
import {
  AUTH_DEFAULTS,
  AUTH_TIMER,
  type AuthAction,
  type Authenticator,
  type AuthenticatorOptions,
  type AuthFailureReason,
  type AuthMethod,
  type AuthPeer,
  type AuthState,
  type AuthVerdict,
  type Credential,
  type MppeKeyMaterial,
  type PeerCredentials,
  type PeerOptions,
  type RandomBytes,
} from './types.js';

/** The Success message of an accept verdict that brings none (pppd's text). */
const VERDICT_SUCCESS_TEXT = 'Access granted';

/** The empty byte string, shared: what an authenticator holds before its first Challenge and after success. */
const NO_BYTES = new Uint8Array(0);

// ─── Variant contract ───────────────────────────────────────────────────────

/** A secret the authenticator can verify with. */
export type VerifySecret = { readonly password: string } | { readonly ntHash: Uint8Array };

/** Everything the authenticator knows when a Response arrives. */
export interface VerifyInput {
  readonly identifier: number;
  /** The challenge Value we sent. */
  readonly challenge: Uint8Array;
  /** The Response Value. */
  readonly value: Uint8Array;
  /** The Name field as on the wire (MS-CHAP-V2 hashes it). */
  readonly name: Uint8Array;
  readonly secret: VerifySecret;
}

/** The authenticator's verdict on one Response. */
export type VerifyResult =
  | { readonly ok: true; readonly message: Uint8Array; readonly mppe?: MppeKeyMaterial }
  | {
      readonly ok: false;
      readonly reason: AuthFailureReason;
      readonly detail: string;
      /** Text for the peer chosen by a decider (a RADIUS Reply-Message). */
      readonly text?: string;
    };

/** What a Failure packet must say. */
export interface FailureText {
  readonly reason: AuthFailureReason;
  /** The human text to send instead of the variant's own (MS-CHAP `M=`, the CHAP-MD5 message). */
  readonly text?: string;
  /** Whether a new Response will be accepted (MS-CHAP `R=1`). */
  readonly retry: boolean;
  /** The challenge the next Response must use (MS-CHAP `C=`). */
  readonly challenge: Uint8Array;
}

/** What the peer side checks when the Success arrives. */
export type SuccessCheck =
  | { readonly ok: true; readonly message: string; readonly mppe?: MppeKeyMaterial }
  | { readonly ok: false; readonly reason: AuthFailureReason; readonly detail: string };

/** The peer's Response to one Challenge, and how to check the Success that answers it. */
export type RespondResult =
  | {
      readonly ok: true;
      readonly value: Uint8Array;
      readonly checkSuccess: (message: Uint8Array) => SuccessCheck;
    }
  | { readonly ok: false; readonly reason: AuthFailureReason; readonly detail: string };

/** What the peer reads from a Failure packet. */
export interface FailureReading {
  readonly reason: AuthFailureReason;
  readonly message: string;
  readonly error?: number;
}

/** One CHAP algorithm. */
export interface ChapVariant {
  readonly method: AuthMethod;
  readonly algorithm: ChapAlgorithm;
  /** Size of the Challenge Value the authenticator sends. */
  readonly challengeLength: number;
  /** Whether a Failure may offer a retry (MS-CHAP `R=1`, RFC 2433 §8 / RFC 2759 §6). */
  readonly retries: boolean;
  verify(input: VerifyInput): VerifyResult;
  /** The Message of a Failure packet. */
  failureMessage(f: FailureText): Uint8Array;
  respond(
    challenge: Uint8Array,
    identifier: number,
    credentials: PeerCredentials,
    random: RandomBytes,
  ): RespondResult;
  readFailure(message: Uint8Array): FailureReading;
}

// ─── Authenticator ──────────────────────────────────────────────────────────

/**
 * The CHAP authenticator for one variant. Identifier rule (RFC 1994 §4.1):
 * "The Response Identifier MUST be copied from the Identifier field of the
 * Challenge which caused the Response": a Response with any other
 * Identifier is tossed. After a Failure with `R=1` the retried Response
 * carries the next Identifier (RFC 2759 §9.1.4 "Response (++ID)").
 */
export class ChapAuthenticator implements Authenticator {
  readonly role = 'authenticator' as const;
  readonly protocol = PppProtocol.Chap;
  readonly method: AuthMethod;
  private stateValue: AuthState = 'initial';
  /** Identifier and Value of the challenge the next Response must answer. */
  private identifier = 0;
  private challenge: Uint8Array = NO_BYTES;
  private challengePacket: Uint8Array = NO_BYTES;
  private transmissions = 0;
  /** True while waiting for a retried Response (after Failure R=1): no Challenge retransmission. */
  private awaitingRetry = false;
  private retriesLeft = 0;
  /**
   * The reply already sent, to repeat for a duplicated Response (RFC 1994
   * §4.1 Implementation Notes), and the Identifier it answered (-1: none).
   * Kept one character per byte (src/ppp/byte-string.ts): every
   * authenticated link holds it for its whole life, and a short string costs
   * some 200 bytes less heap than a typed array and its buffer.
   */
  private lastReplyId = -1;
  private lastReply = '';
  /** What a failed attempt sends and does, held while its failure delay runs. */
  private held: { readonly after: AuthAction[]; readonly retry: boolean } | undefined;
  private readonly log: Logger;
  private readonly random: RandomBytes;
  private readonly restartMs: number;
  private readonly maxChallenges: number;
  private readonly retryWaitMs: number;

  constructor(
    private readonly variant: ChapVariant,
    private readonly options: AuthenticatorOptions,
  ) {
    this.method = variant.method;
    this.log = options.log ?? nullLogger;
    this.random = options.random ?? defaultRandom;
    this.restartMs = options.restartMs ?? AUTH_DEFAULTS.restartMs;
    this.maxChallenges = Math.max(1, options.maxChallenges ?? AUTH_DEFAULTS.maxChallenges);
    this.retryWaitMs = options.retryWaitMs ?? AUTH_DEFAULTS.retryWaitMs;
    this.retriesLeft = variant.retries ? Math.max(0, options.maxRetries ?? AUTH_DEFAULTS.maxRetries) : 0;
  }

  get state(): AuthState {
    return this.stateValue;
  }

  start(): AuthAction[] {
    if (this.stateValue !== 'initial') return [];
    this.stateValue = 'waiting';
    this.identifier = this.random(1)[0]!;
    this.challenge = this.random(this.variant.challengeLength).slice();
    this.challengePacket = encodeChapPacket({
      kind: 'challenge',
      identifier: this.identifier,
      value: this.challenge,
      name: utf8(this.options.name ?? ''),
    });
    return this.sendChallenge();
  }

  /** (Re)transmits the current Challenge. RFC 1994 §4.1: "Additional Challenge packets MUST be sent until a valid Response packet is received, or an optional retry counter expires." */
  private sendChallenge(): AuthAction[] {
    this.transmissions++;
    this.log.log('debug', 'CHAP send Challenge', { id: this.identifier, transmission: this.transmissions });
    return [
      sendAction(this.protocol, this.challengePacket),
      { kind: 'startTimer', id: AUTH_TIMER.chapChallengeRestart, ms: this.restartMs },
    ];
  }

  receive(payload: Uint8Array): AuthAction[] {
    // RFC 1994 §4.1: "Any Response packets received during any other phase
    // MUST be silently discarded."
    if (this.stateValue === 'initial' || this.stateValue === 'stopped' || this.held) return [];
    const p = decodeOrDiscard(decodeChapPacket, payload, 'CHAP', this.log);
    if (p?.kind !== 'response') return [];
    if (p.identifier === this.lastReplyId) {
      // "any Response packets received having the current Challenge
      // Identifier MUST return the same reply Code previously returned"
      return [sendAction(this.protocol, fromLatin1Text(this.lastReply))];
    }
    if (this.stateValue !== 'waiting' || p.identifier !== this.identifier) {
      this.log.log('debug', 'CHAP Response with an unexpected Identifier: tossed', {
        id: p.identifier,
        want: this.identifier,
      });
      return [];
    }
    const rawPeerName = decodeName(p.name);
    const peerName = this.options.ignoreDomain ? stripDomain(rawPeerName) : rawPeerName;
    const cred = this.options.lookup({
      peerName,
      rawPeerName,
      method: this.method,
      exchange: { identifier: p.identifier, challenge: this.challenge, response: p.value },
    });
    // The decider has not answered: as if the Response had not come (it is handed in again).
    if (cred !== undefined && 'pending' in cred) return [];
    return this.judge(p.identifier, p.value, p.name, peerName, cred);
  }

  private judge(
    identifier: number,
    value: Uint8Array,
    nameBytes: Uint8Array,
    peerName: string,
    cred: Credential | undefined,
  ): AuthAction[] {
    const actions: AuthAction[] = [
      this.awaitingRetry
        ? { kind: 'stopTimer', id: AUTH_TIMER.chapRetryWait }
        : { kind: 'stopTimer', id: AUTH_TIMER.chapChallengeRestart },
    ];
    this.awaitingRetry = false;
    const result = this.verify(identifier, value, nameBytes, cred);

    if (result.ok) {
      this.stateValue = 'success';
      // Only the reply is needed from now on (a repeated Response gets it again): a server keeps
      // thousands of authenticated links, so the challenge goes.
      this.challenge = NO_BYTES;
      this.challengePacket = NO_BYTES;
      const reply = encodeChapPacket({ kind: 'success', identifier, message: result.message });
      this.lastReplyId = identifier;
      this.lastReply = toLatin1(reply);
      this.log.log('info', 'CHAP peer authenticated', { method: this.method, user: printable(peerName) });
      actions.push(sendAction(this.protocol, reply), {
        kind: 'success',
        result: {
          method: this.method,
          role: this.role,
          peerName,
          message: printable(result.message),
          ...(result.mppe ? { mppe: result.mppe } : {}),
        },
      });
      return actions;
    }

    // Only a wrong secret is worth another try; a refused account is not.
    const retry =
      this.retriesLeft > 0 && (result.reason === 'wrong-password' || result.reason === 'unknown-user');
    if (retry) {
      this.retriesLeft--;
      this.challenge = this.random(this.variant.challengeLength).slice();
    }
    const message = this.variant.failureMessage({
      reason: result.reason,
      retry,
      challenge: this.challenge,
      ...(result.text !== undefined ? { text: result.text } : {}),
    });
    const reply = encodeChapPacket({ kind: 'failure', identifier, message });
    this.lastReplyId = identifier;
    this.lastReply = toLatin1(reply);
    const delay = this.options.failureDelayMs?.(peerName, result.reason, this.method) ?? 0;
    this.log.log('warn', 'CHAP peer failed authentication', {
      method: this.method,
      user: printable(peerName),
      reason: result.reason,
      retry,
      ...(delay > 0 ? { delayMs: delay } : {}),
    });
    const after: AuthAction[] = [sendAction(this.protocol, reply)];
    if (retry) {
      // RFC 2759 §6: with R=1 the authenticator "disables short timeouts,
      // expecting the peer to prompt the user for new credentials".
      this.identifier = (identifier + 1) & 0xff;
      after.push({ kind: 'startTimer', id: AUTH_TIMER.chapRetryWait, ms: this.retryWaitMs });
    } else {
      after.push(failureAction(this, result.reason, result.detail, { peerName, ...errorField(message) }));
    }
    if (delay > 0) {
      // Nothing goes out until the delay is over; Responses meanwhile are tossed.
      this.held = { after, retry };
      actions.push({ kind: 'startTimer', id: AUTH_TIMER.failureDelay, ms: delay });
      return actions;
    }
    return this.release(actions, after, retry);
  }

  /** Sends a failed attempt's reply and enters the state that follows it. */
  private release(actions: AuthAction[], after: AuthAction[], retry: boolean): AuthAction[] {
    if (retry) this.awaitingRetry = true;
    else this.stateValue = 'failure';
    actions.push(...after);
    return actions;
  }

  private verify(
    identifier: number,
    value: Uint8Array,
    nameBytes: Uint8Array,
    cred: Credential | undefined,
  ): VerifyResult {
    if (!cred) return { ok: false, reason: 'unknown-user', detail: 'no secret for this name' };
    if ('pending' in cred) return { ok: false, reason: 'timed-out', detail: 'no verdict' };
    if ('refuse' in cred)
      return { ok: false, reason: cred.refuse, detail: `account refused: ${cred.refuse}` };
    if ('verdict' in cred) return this.applyVerdict(cred);
    return this.variant.verify({
      identifier,
      challenge: this.challenge,
      value,
      name: nameBytes,
      secret: cred,
    });
  }

  /**
   * A decision taken elsewhere. An accept for MS-CHAP-V2 must bring the
   * authenticator response: RFC 2759 §5, "If the authenticator response is
   * either missing or incorrect, the peer MUST end the session", so without
   * it the peer would hang up anyway.
   */
  private applyVerdict(v: AuthVerdict): VerifyResult {
    if (v.verdict === 'reject') {
      return {
        ok: false,
        reason: v.reason ?? 'wrong-password',
        detail: v.detail ?? 'rejected',
        ...(v.message !== undefined ? { text: v.message } : {}),
      };
    }
    if (this.method === 'mschap-v2' && !(v.message && v.message[0] === 0x53 && v.message[1] === 0x3d)) {
      return {
        ok: false,
        reason: 'protocol-error',
        detail: 'accepted without an MS-CHAP-V2 authenticator response (S=)',
      };
    }
    return {
      ok: true,
      message: v.message ?? utf8(VERDICT_SUCCESS_TEXT),
      ...(v.mppe ? { mppe: v.mppe } : {}),
    };
  }

  timeout(id: string): AuthAction[] {
    if (this.stateValue !== 'waiting') return [];
    if (id === AUTH_TIMER.failureDelay) {
      const held = this.held;
      if (!held) return [];
      this.held = undefined;
      return this.release([], held.after, held.retry);
    }
    if (this.held) return [];
    if (id === AUTH_TIMER.chapChallengeRestart && !this.awaitingRetry) {
      if (this.transmissions >= this.maxChallenges) {
        return this.timedOut(`no Response to ${this.transmissions} Challenges`);
      }
      return this.sendChallenge();
    }
    if (id === AUTH_TIMER.chapRetryWait && this.awaitingRetry) {
      this.awaitingRetry = false;
      return this.timedOut('no retried Response after Failure R=1');
    }
    return [];
  }

  private timedOut(detail: string): AuthAction[] {
    this.stateValue = 'failure';
    this.log.log('warn', 'CHAP authentication timed out', { method: this.method, detail });
    return [failureAction(this, 'timed-out', detail)];
  }

  stop(): AuthAction[] {
    const was = this.stateValue;
    this.stateValue = 'stopped';
    if (was !== 'waiting') return [];
    if (this.held) {
      this.held = undefined;
      return [{ kind: 'stopTimer', id: AUTH_TIMER.failureDelay }];
    }
    return [
      {
        kind: 'stopTimer',
        id: this.awaitingRetry ? AUTH_TIMER.chapRetryWait : AUTH_TIMER.chapChallengeRestart,
      },
    ];
  }
}

/** The `E=` code of an MS-CHAP Failure message we sent, for the failure result. */
function errorField(message: Uint8Array): { error?: number } {
  const m = /^E=(\d{1,10})/.exec(String.fromCharCode(...message.subarray(0, 16)));
  return m ? { error: Number(m[1]) } : {};
}

// ─── Peer ───────────────────────────────────────────────────────────────────

/** The Response we sent, so a retransmitted Challenge gets the very same one. */
interface Answered {
  readonly identifier: number;
  readonly challenge: Uint8Array;
  readonly payload: Uint8Array;
  readonly checkSuccess: (message: Uint8Array) => SuccessCheck;
}

/**
 * The CHAP peer for one variant. RFC 1994 §4.1: "Whenever a Challenge
 * packet is received, the peer MUST transmit a CHAP packet with the Code
 * field set to 2 (Response)"; Success/Failure must carry the Identifier of
 * our Response (§4.2), anything else is tossed. A retransmitted Challenge
 * (same Identifier and Value) is answered with the same Response (pppd's
 * response cache: MS-CHAP-V2 Responses carry a random Peer-Challenge, and
 * the Success must match the Response the authenticator accepted).
 */
export class ChapPeer implements AuthPeer {
  readonly role = 'peer' as const;
  readonly protocol = PppProtocol.Chap;
  readonly method: AuthMethod;
  private stateValue: AuthState = 'initial';
  private answered: Answered | undefined;
  /** Transmissions of the current Response. */
  private transmissions = 0;
  /** The timer now running, if any (one at a time). */
  private timer: string | undefined;
  /** Set once the first authentication succeeded (later Challenges re-authenticate). */
  private authenticated = false;
  private readonly log: Logger;
  private readonly random: RandomBytes;
  private readonly waitMs: number;
  private readonly restartMs: number;
  private readonly maxResponses: number;

  constructor(
    private readonly variant: ChapVariant,
    private readonly options: PeerOptions,
  ) {
    this.method = variant.method;
    this.log = options.log ?? nullLogger;
    this.random = options.random ?? defaultRandom;
    this.waitMs = options.waitMs ?? AUTH_DEFAULTS.waitMs;
    this.restartMs = options.restartMs ?? AUTH_DEFAULTS.restartMs;
    this.maxResponses = Math.max(1, options.maxRequests ?? AUTH_DEFAULTS.maxRequests);
  }

  get state(): AuthState {
    return this.stateValue;
  }

  start(): AuthAction[] {
    if (this.stateValue !== 'initial') return [];
    this.stateValue = 'waiting';
    return this.startTimer(AUTH_TIMER.chapPeerWait, this.waitMs);
  }

  /** Starts `id` (stopping another running timer first). */
  private startTimer(id: string, ms: number): AuthAction[] {
    const out = this.stopTimer();
    this.timer = id;
    out.push({ kind: 'startTimer', id, ms });
    return out;
  }

  private stopTimer(): AuthAction[] {
    const t = this.timer;
    this.timer = undefined;
    return t ? [{ kind: 'stopTimer', id: t }] : [];
  }

  receive(payload: Uint8Array): AuthAction[] {
    if (this.stateValue !== 'waiting' && this.stateValue !== 'success') return [];
    const p = decodeOrDiscard(decodeChapPacket, payload, 'CHAP', this.log);
    if (!p) return [];
    switch (p.kind) {
      case 'challenge':
        return this.onChallenge(p.identifier, p.value);
      case 'success':
      case 'failure':
        if (this.stateValue !== 'waiting' || !this.answered || p.identifier !== this.answered.identifier) {
          this.log.log('debug', `CHAP ${p.kind} with an unexpected Identifier: tossed`, { id: p.identifier });
          return [];
        }
        return p.kind === 'success' ? this.onSuccess(p.message) : this.onFailure(p.message);
      default:
        return [];
    }
  }

  private onChallenge(identifier: number, challenge: Uint8Array): AuthAction[] {
    const a = this.answered;
    if (a && a.identifier === identifier && bytesEqual(a.challenge, challenge)) {
      // A retransmitted Challenge: our Response was lost (or is late).
      this.log.log('debug', 'CHAP retransmitted Challenge: same Response again', { id: identifier });
      return [sendAction(this.protocol, a.payload)];
    }
    const r = this.variant.respond(challenge, identifier, this.options.credentials, this.random);
    if (!r.ok) return this.fail(r.reason, r.detail);
    const payload = encodeChapPacket({
      kind: 'response',
      identifier,
      value: r.value,
      name: utf8(this.options.credentials.name),
    });
    this.answered = { identifier, challenge: challenge.slice(), payload, checkSuccess: r.checkSuccess };
    this.stateValue = 'waiting';
    this.transmissions = 1;
    this.log.log('debug', 'CHAP send Response', { id: identifier, method: this.method });
    return [
      sendAction(this.protocol, payload),
      ...this.startTimer(AUTH_TIMER.chapResponseRestart, this.restartMs),
    ];
  }

  private onSuccess(message: Uint8Array): AuthAction[] {
    const check = this.answered!.checkSuccess(message);
    if (!check.ok) return this.fail(check.reason, check.detail, printable(message));
    this.stateValue = 'success';
    const stop = this.stopTimer();
    if (this.authenticated) {
      this.log.log('debug', 'CHAP re-authentication succeeded', { method: this.method });
      return stop;
    }
    this.authenticated = true;
    this.log.log('info', 'CHAP authentication succeeded', { method: this.method });
    return [
      ...stop,
      {
        kind: 'success',
        result: {
          method: this.method,
          role: this.role,
          peerName: this.options.credentials.name,
          message: check.message,
          ...(check.mppe ? { mppe: check.mppe } : {}),
        },
      },
    ];
  }

  private onFailure(message: Uint8Array): AuthAction[] {
    const f = this.variant.readFailure(message);
    return this.fail(f.reason, 'the authenticator sent Failure', f.message, f.error);
  }

  private fail(reason: AuthFailureReason, detail: string, message?: string, error?: number): AuthAction[] {
    this.stateValue = 'failure';
    this.log.log('warn', 'CHAP authentication failed', { method: this.method, reason, detail });
    const peerName = this.options.credentials.name;
    return [...this.stopTimer(), failureAction(this, reason, detail, { peerName, message, error })];
  }

  timeout(id: string): AuthAction[] {
    if (id !== this.timer || this.stateValue !== 'waiting') return [];
    this.timer = undefined;
    if (id === AUTH_TIMER.chapResponseRestart && this.answered && this.transmissions < this.maxResponses) {
      this.transmissions++;
      this.log.log('debug', 'CHAP resend Response', {
        id: this.answered.identifier,
        transmission: this.transmissions,
      });
      return [
        sendAction(this.protocol, this.answered.payload),
        ...this.startTimer(AUTH_TIMER.chapResponseRestart, this.restartMs),
      ];
    }
    const detail = this.answered
      ? `no Success or Failure after ${this.transmissions} Responses`
      : 'no Challenge';
    this.stateValue = 'failure';
    this.log.log('warn', 'CHAP authentication timed out', { method: this.method, detail });
    return [failureAction(this, 'timed-out', detail, { peerName: this.options.credentials.name })];
  }

  stop(): AuthAction[] {
    this.stateValue = 'stopped';
    return this.stopTimer();
  }
}
