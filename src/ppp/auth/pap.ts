/**
 * Password Authentication Protocol (RFC 1334 §2), both sides, sans-IO.
 *
 * ```
 *  Peer                                    Authenticator
 *   start: send Authenticate-Request ──►   start: wait (request-wait timer)
 *   restart timer: resend with a new Id     request: lookup, compare
 *   ◄── Authenticate-Ack / -Nak             send Ack / Nak, success / failure
 *   success / failure                       repeated request: same reply code
 * ```
 *
 * PAP sends the password in clear text over the link: the defaults of this
 * stack refuse it (docs/architecture.md §6); it exists for equipment that knows
 * nothing better.
 */

import { ntPasswordHash } from '../../crypto/mschap.js';
import { type Logger, nullLogger } from '../../log/logger.js';
import { utf8 } from '../../wire/bytes.js';
import { decodePapPacket, encodePapPacket, type PapPacket } from '../../wire/pap.js';
import { PppProtocol } from '../../wire/ppp.js';
import {
  decodeName,
  decodeOrDiscard,
  defaultRandom,
  digestsEqual,
  failureAction,
  printable,
  secretsEqual,
  sendAction,
} from './auth-util.js';
import {
  AUTH_DEFAULTS,
  AUTH_TIMER,
  type AuthAction,
  type Authenticator,
  type AuthenticatorOptions,
  type AuthFailureReason,
  type AuthPeer,
  type AuthState,
  type MppeKeyMaterial,
  type PeerOptions,
} from './types.js';

/** pppd's reply texts. */
const ACK_MESSAGE = 'Login ok';
const NAK_MESSAGE = 'Login incorrect';

function encode(p: PapPacket): Uint8Array {
  return encodePapPacket(p);
}

// ─── Peer ───────────────────────────────────────────────────────────────────

/**
 * PAP peer: sends Authenticate-Request until a reply comes or
 * `maxRequests` transmissions are used up. RFC 1334 §2.2.1: "The
 * Authenticate-Request packet MUST be repeated until a valid reply packet is
 * received, or an optional retry counter expires", and "The Identifier
 * field MUST be changed each time an Authenticate-Request packet is
 * issued": so each retransmission takes the next Identifier, and a reply to
 * any of them is accepted (they all carry the same credentials).
 */
export class PapPeer implements AuthPeer {
  readonly method = 'pap' as const;
  readonly role = 'peer' as const;
  readonly protocol = PppProtocol.Pap;
  private stateValue: AuthState = 'initial';
  private identifier = 0;
  private transmissions = 0;
  private readonly sentIds = new Set<number>();
  private readonly log: Logger;
  private readonly restartMs: number;
  private readonly maxRequests: number;

  constructor(private readonly options: PeerOptions) {
    this.log = options.log ?? nullLogger;
    this.restartMs = options.restartMs ?? AUTH_DEFAULTS.restartMs;
    this.maxRequests = Math.max(1, options.maxRequests ?? AUTH_DEFAULTS.maxRequests);
    this.identifier = (options.random ?? defaultRandom)(1)[0]!;
  }

  get state(): AuthState {
    return this.stateValue;
  }

  start(): AuthAction[] {
    if (this.stateValue !== 'initial') return [];
    if (!('password' in this.options.credentials.secret)) {
      this.stateValue = 'failure';
      return [
        this.fail('no-usable-secret', 'PAP needs the clear-text password, only an NT hash is configured'),
      ];
    }
    this.stateValue = 'waiting';
    return this.sendRequest();
  }

  private sendRequest(): AuthAction[] {
    const secret = this.options.credentials.secret;
    const password = 'password' in secret ? secret.password : '';
    const id = this.identifier;
    this.identifier = (this.identifier + 1) & 0xff;
    this.sentIds.add(id);
    this.transmissions++;
    this.log.log('debug', 'PAP send Authenticate-Request', { id, transmission: this.transmissions });
    return [
      sendAction(
        this.protocol,
        encode({
          kind: 'authenticate-request',
          identifier: id,
          peerId: utf8(this.options.credentials.name),
          password: utf8(password),
        }),
      ),
      { kind: 'startTimer', id: AUTH_TIMER.papRequestRestart, ms: this.restartMs },
    ];
  }

  receive(payload: Uint8Array): AuthAction[] {
    if (this.stateValue !== 'waiting') return [];
    const p = decodeOrDiscard(decodePapPacket, payload, 'PAP', this.log);
    if (!p || (p.kind !== 'authenticate-ack' && p.kind !== 'authenticate-nak')) return [];
    if (!this.sentIds.has(p.identifier)) {
      this.log.log('debug', 'PAP reply with an Identifier we did not send: tossed', { id: p.identifier });
      return [];
    }
    const stop: AuthAction = { kind: 'stopTimer', id: AUTH_TIMER.papRequestRestart };
    const message = printable(p.message);
    if (p.kind === 'authenticate-ack') {
      this.stateValue = 'success';
      this.log.log('info', 'PAP authentication succeeded', { message });
      return [
        stop,
        {
          kind: 'success',
          result: { method: this.method, role: this.role, peerName: this.options.credentials.name, message },
        },
      ];
    }
    this.stateValue = 'failure';
    return [stop, this.fail('wrong-password', 'the authenticator sent Authenticate-Nak', message)];
  }

  timeout(id: string): AuthAction[] {
    if (id !== AUTH_TIMER.papRequestRestart || this.stateValue !== 'waiting') return [];
    if (this.transmissions >= this.maxRequests) {
      this.stateValue = 'failure';
      return [this.fail('timed-out', `no reply to ${this.transmissions} Authenticate-Requests`)];
    }
    return this.sendRequest();
  }

  stop(): AuthAction[] {
    const was = this.stateValue;
    this.stateValue = 'stopped';
    return was === 'waiting' ? [{ kind: 'stopTimer', id: AUTH_TIMER.papRequestRestart }] : [];
  }

  private fail(reason: AuthFailureReason, detail: string, message?: string): AuthAction {
    this.log.log('warn', 'PAP authentication failed', { reason, detail });
    return failureAction(this, reason, detail, { peerName: this.options.credentials.name, message });
  }
}

// ─── Authenticator ──────────────────────────────────────────────────────────

/** What the authenticator decided about one Authenticate-Request; `message` overrides the Ack/Nak text. */
type PapOutcome =
  | { readonly ok: true; readonly message?: string; readonly mppe?: MppeKeyMaterial }
  | {
      readonly ok: false;
      readonly reason: AuthFailureReason;
      readonly detail: string;
      readonly message?: string;
    };

/**
 * PAP authenticator: waits for one Authenticate-Request, checks it against
 * the credentials lookup, answers Ack or Nak. RFC 1334 §2.2.2: on a bad
 * pair it "MUST transmit ... Authenticate-Nak, and SHOULD take action to
 * terminate the link" (the `failure` action). Repeated requests after the
 * verdict get the same reply Code without being checked again (§2.2.1
 * Implementation Note), so a peer cannot guess passwords on one link.
 */
export class PapAuthenticator implements Authenticator {
  readonly method = 'pap' as const;
  readonly role = 'authenticator' as const;
  readonly protocol = PppProtocol.Pap;
  private stateValue: AuthState = 'initial';
  private verdict: { ack: boolean; message: string } | undefined;
  /** A Nak and failure held while the failure delay runs. */
  private held: AuthAction[] | undefined;
  private readonly log: Logger;

  constructor(private readonly options: AuthenticatorOptions) {
    this.log = options.log ?? nullLogger;
  }

  get state(): AuthState {
    return this.stateValue;
  }

  start(): AuthAction[] {
    if (this.stateValue !== 'initial') return [];
    this.stateValue = 'waiting';
    return [
      {
        kind: 'startTimer',
        id: AUTH_TIMER.papRequestWait,
        ms: this.options.requestWaitMs ?? AUTH_DEFAULTS.requestWaitMs,
      },
    ];
  }

  receive(payload: Uint8Array): AuthAction[] {
    // "Any Authenticate-Request packets received during any other phase
    // MUST be silently discarded." (RFC 1334 §2.2.1)
    if (this.stateValue === 'initial' || this.stateValue === 'stopped' || this.held) return [];
    const p = decodeOrDiscard(decodePapPacket, payload, 'PAP', this.log);
    if (p?.kind !== 'authenticate-request') return [];
    if (this.verdict) {
      // "MUST return the same reply Code returned when the Authentication
      // phase completed (the message portion MAY be different)."
      return [this.reply(p.identifier, this.verdict.ack, this.verdict.message)];
    }
    const rawPeerName = decodeName(p.peerId);
    const checked = this.check(rawPeerName, p.identifier, p.password);
    // The decider has not answered: as if the request had not come (it is handed in again).
    if (checked === 'pending') return [];
    const outcome = checked.ok ? undefined : checked;
    const ack = outcome === undefined;
    const message = checked.message ?? (ack ? ACK_MESSAGE : NAK_MESSAGE);
    this.verdict = { ack, message };
    const delay = outcome
      ? (this.options.failureDelayMs?.(rawPeerName, outcome.reason, this.method) ?? 0)
      : 0;
    this.stateValue = ack ? 'success' : delay > 0 ? 'waiting' : 'failure';
    const actions: AuthAction[] = [
      { kind: 'stopTimer', id: AUTH_TIMER.papRequestWait },
      this.reply(p.identifier, ack, message),
    ];
    if (ack) {
      this.log.log('info', 'PAP peer authenticated', { user: printable(rawPeerName) });
      actions.push({
        kind: 'success',
        result: {
          method: this.method,
          role: this.role,
          peerName: rawPeerName,
          message: printable(message),
          ...(checked.ok && checked.mppe ? { mppe: checked.mppe } : {}),
        },
      });
    } else {
      this.log.log('warn', 'PAP peer failed authentication', {
        user: printable(rawPeerName),
        reason: outcome.reason,
        ...(delay > 0 ? { delayMs: delay } : {}),
      });
      actions.push(failureAction(this, outcome.reason, outcome.detail, { peerName: rawPeerName }));
    }
    if (delay > 0) {
      // Nothing goes out until the delay is over; Requests meanwhile are tossed.
      this.held = actions.splice(1);
      actions.push({ kind: 'startTimer', id: AUTH_TIMER.failureDelay, ms: delay });
    }
    return actions;
  }

  /** The verdict on one Authenticate-Request, or `pending` while the lookup's decider has not answered. */
  private check(peerName: string, identifier: number, password: Uint8Array): PapOutcome | 'pending' {
    const cred = this.options.lookup({
      peerName,
      rawPeerName: peerName,
      method: this.method,
      exchange: { identifier, password },
    });
    const wrong: PapOutcome = { ok: false, reason: 'wrong-password', detail: 'password mismatch' };
    if (!cred) return { ok: false, reason: 'unknown-user', detail: 'no secret for this name' };
    if ('pending' in cred) return 'pending';
    if ('refuse' in cred)
      return { ok: false, reason: cred.refuse, detail: `account refused: ${cred.refuse}` };
    if ('verdict' in cred) {
      if (cred.verdict === 'reject') {
        return {
          ok: false,
          reason: cred.reason ?? 'wrong-password',
          detail: cred.detail ?? 'rejected',
          ...(cred.message !== undefined ? { message: cred.message } : {}),
        };
      }
      return {
        ok: true,
        ...(cred.message !== undefined ? { message: decodeName(cred.message) } : {}),
        ...(cred.mppe ? { mppe: cred.mppe } : {}),
      };
    }
    if ('password' in cred) return secretsEqual(password, utf8(cred.password)) ? { ok: true } : wrong;
    // Only the NT hash is stored: hash what the peer sent and compare.
    let hash: Uint8Array;
    try {
      hash = ntPasswordHash(decodeName(password));
    } catch {
      return { ok: false, reason: 'wrong-password', detail: 'password too long to hash' };
    }
    return digestsEqual(hash, cred.ntHash) ? { ok: true } : wrong;
  }

  private reply(identifier: number, ack: boolean, message: string): AuthAction {
    return sendAction(
      this.protocol,
      encode({ kind: ack ? 'authenticate-ack' : 'authenticate-nak', identifier, message: utf8(message) }),
    );
  }

  timeout(id: string): AuthAction[] {
    if (id === AUTH_TIMER.failureDelay && this.held) {
      const held = this.held;
      this.held = undefined;
      this.stateValue = 'failure';
      return held;
    }
    if (id !== AUTH_TIMER.papRequestWait || this.stateValue !== 'waiting' || this.held) return [];
    this.stateValue = 'failure';
    this.log.log('warn', 'PAP: no Authenticate-Request in time');
    return [failureAction(this, 'timed-out', 'no Authenticate-Request')];
  }

  stop(): AuthAction[] {
    const was = this.stateValue;
    this.stateValue = 'stopped';
    if (this.held) {
      this.held = undefined;
      return [{ kind: 'stopTimer', id: AUTH_TIMER.failureDelay }];
    }
    return was === 'waiting' ? [{ kind: 'stopTimer', id: AUTH_TIMER.papRequestWait }] : [];
  }
}
