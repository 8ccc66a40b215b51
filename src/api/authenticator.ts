/**
 * The pluggable authenticator of `createServer()`: an async function that
 * answers, for a user name, with the secret the stack verifies against (or a
 * refusal), plus optional per-user settings.
 *
 * Why a secret and not a yes/no: with CHAP, MS-CHAP and MS-CHAP-V2 the
 * client proves it knows the password without sending it (RFC 1994 §2,
 * RFC 2759 §4), so the server needs the password, or for MS-CHAP its NT
 * hash, to check the response; and MPPE's keys are derived from that NT hash
 * (RFC 3079 §3). A bare "accept" could not set up encryption. With PAP the
 * client sends the password itself (RFC 1334 §2.2.1), so the authenticator
 * is given it and may check it on its own (a salted hash in its store) and
 * accept without returning a secret.
 *
 * How it plugs in (src/server/call-auth.ts): the call holds back the
 * peer's PAP Authenticate-Request or CHAP Response while the authenticator
 * runs, then hands it to the authentication engine, whose synchronous
 * secrets lookup finds the answer ready. One answer is kept per call (for
 * the last user name asked about), one frame is held, one question runs at
 * a time, and each is bounded by `authenticatorTimeoutMs`.
 */
import type { Clock, Timer } from '../io/clock.js';
import type { Logger } from '../log/logger.js';
import { decodeName, stripDomain } from '../ppp/auth/auth-util.js';
import type { AuthMethod, Credential, CredentialRequest } from '../ppp/auth/index.js';
import type { CallAuth } from '../server/call-auth.js';
import type { AddressPolicy } from '../server/chap-secrets.js';
import type { PppSession } from '../session/session.js';
import { parseIpv4 } from '../wire/bytes.js';
import { ChapCode, decodeChapPacket } from '../wire/chap.js';
import { decodePapPacket, PapCode } from '../wire/pap.js';
import { type PppFrame, PppProtocol } from '../wire/ppp.js';

/** What the authenticator is asked. */
export interface AuthRequest {
  /**
   * The user name the client sent. For CHAP and MS-CHAP a `DOMAIN\` prefix
   * is removed when the server's `ppp.ms-ignore-domain` is on (the default).
   */
  readonly user: string;
  /** The method LCP negotiated: `pap`, `chap-md5`, `mschap` or `mschap-v2`. */
  readonly method: AuthMethod;
  /** PAP only: the password the client sent (clear text on the link). */
  readonly password?: string;
  /** The client's outer IPv4 address. */
  readonly peerAddress: string;
  /** Aborted when the answer is no longer wanted (the call ended, or the time-out passed). */
  readonly signal: AbortSignal;
}

/** Why a user is refused; the four account states go to MS-CHAP clients as their `E=` code (RFC 2759 §6). */
export type AuthRejectReason =
  | 'unknown-user'
  | 'wrong-password'
  | 'account-disabled'
  | 'restricted-hours'
  | 'password-expired'
  | 'no-dialin-permission';

/** The authenticator's answer. */
export type AuthResult =
  | {
      readonly accept: true;
      /**
       * The user's password: every method can verify with it. Required for
       * CHAP/MS-CHAP unless `ntHash` is given; optional for PAP (without it,
       * accepting means "the password sent was right").
       */
      readonly password?: string | Uint8Array;
      /** The 16-byte NT password hash (MD4 of the UTF-16LE password): MS-CHAP v1/v2 and PAP. */
      readonly ntHash?: Uint8Array;
      /** Give the client this tunnel address instead of one from the pool. */
      readonly address?: string;
      /** End the session after this many seconds (at most {@link MAX_SESSION_TIMEOUT_S}). */
      readonly sessionTimeout?: number;
    }
  | { readonly accept: false; readonly reason?: AuthRejectReason };

/** The embedding program's authenticator. May return the answer directly or a promise. */
export type Authenticator = (request: AuthRequest) => AuthResult | Promise<AuthResult>;

/** The longest session time-out honoured, s (about 23 days: a timer cannot wait longer than 2^31 ms). */
export const MAX_SESSION_TIMEOUT_S = 2_000_000;

/** What one frame asks about, if it is a PAP Authenticate-Request or a CHAP Response. */
interface Exchange {
  /** The name exactly as decoded from the wire (what the engine's lookup calls `rawPeerName`). */
  readonly key: string;
  readonly pap: boolean;
  readonly password: string | undefined;
}

function exchangeOf(frame: PppFrame): Exchange | undefined {
  const p = frame.payload;
  try {
    if (frame.protocol === PppProtocol.Pap && p[0] === PapCode.AuthenticateRequest) {
      const pkt = decodePapPacket(p);
      if (pkt.kind !== 'authenticate-request') return undefined;
      return { key: decodeName(pkt.peerId), pap: true, password: decodeName(pkt.password) };
    }
    if (frame.protocol === PppProtocol.Chap && p[0] === ChapCode.Response) {
      const pkt = decodeChapPacket(p);
      if (pkt.kind !== 'response') return undefined;
      return { key: decodeName(pkt.name), pap: false, password: undefined };
    }
  } catch {
    // Malformed: the engine discards it and counts it, as without an authenticator.
  }
  return undefined;
}

interface Decision {
  readonly key: string;
  readonly credential: Credential | undefined;
  readonly policy: AddressPolicy | undefined;
  readonly sessionTimeout: number | undefined;
}

export interface ExternalAuthOptions {
  readonly authenticator: Authenticator;
  readonly clock: Clock;
  readonly log: Logger;
  /** Longest wait for one answer; then the user is refused. */
  readonly timeoutMs: number;
  /** The server's `ppp.ms-ignore-domain`. */
  readonly ignoreDomain: boolean;
}

function text(v: string | Uint8Array): string {
  return typeof v === 'string' ? v : decodeName(v);
}

/** One call's {@link CallAuth} around an {@link Authenticator}. */
export class ExternalCallAuth implements CallAuth {
  private session: PppSession | undefined;
  private decided: Decision | undefined;
  private pending: { key: string; controller: AbortController; timer: Timer } | undefined;
  private held: { frame: PppFrame; exchange: Exchange } | undefined;
  private closed = false;

  constructor(
    private readonly o: ExternalAuthOptions,
    readonly peer: string,
    readonly callId: number,
    private readonly onClose?: () => void,
  ) {}

  /** The session time-out the authenticator gave, s. */
  get sessionTimeout(): number | undefined {
    return this.decided?.sessionTimeout;
  }

  attach(session: PppSession): void {
    this.session = session;
  }

  readonly lookup = (req: CredentialRequest): Credential | undefined =>
    this.decided?.key === req.rawPeerName ? this.decided.credential : undefined;

  readonly hold = (frame: PppFrame): boolean => {
    if (this.closed) return false;
    const ex = exchangeOf(frame);
    if (!ex || this.decided?.key === ex.key) return false;
    // The frame may be a view of a receive buffer: keep a copy. Only the newest is kept (a
    // retransmission answers the newest Challenge).
    this.held = { frame: { protocol: frame.protocol, payload: frame.payload.slice() }, exchange: ex };
    if (this.pending?.key !== ex.key) this.ask(ex);
    return true;
  };

  addressPolicy(_peerName: string | undefined): AddressPolicy | undefined {
    return this.decided?.policy;
  }

  close(): void {
    this.closed = true;
    this.held = undefined;
    this.cancelPending();
    this.onClose?.();
  }

  private cancelPending(): void {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    p.timer.cancel();
    p.controller.abort();
  }

  private ask(ex: Exchange): void {
    this.cancelPending();
    const o = this.o;
    const method: AuthMethod = ex.pap
      ? 'pap'
      : (this.session?.unit.lcpNegotiated?.authPeerWith ?? 'mschap-v2');
    const user = !ex.pap && o.ignoreDomain ? stripDomain(ex.key) : ex.key;
    const controller = new AbortController();
    const timer = o.clock.setTimer(o.timeoutMs, () => {
      if (this.pending?.controller !== controller) return;
      o.log.log('warn', 'the authenticator did not answer in time: refused', {
        user,
        seconds: o.timeoutMs / 1000,
      });
      controller.abort();
      this.settle(ex.key, { accept: false }, ex, method);
    });
    this.pending = { key: ex.key, controller, timer };
    const request: AuthRequest = {
      user,
      method,
      ...(ex.pap ? { password: ex.password ?? '' } : {}),
      peerAddress: this.peer,
      signal: controller.signal,
    };
    Promise.resolve()
      .then(() => o.authenticator(request))
      .then(
        (result) => {
          if (this.pending?.controller === controller) this.settle(ex.key, result, ex, method);
        },
        (err: unknown) => {
          if (this.pending?.controller !== controller) return;
          o.log.log('warn', 'the authenticator failed: refused', {
            user,
            error: (err as Error)?.message ?? String(err),
          });
          this.settle(ex.key, { accept: false }, ex, method);
        },
      );
  }

  private settle(key: string, result: AuthResult, ex: Exchange, method: AuthMethod): void {
    const p = this.pending;
    if (p) {
      p.timer.cancel();
      this.pending = undefined;
    }
    if (this.closed) return;
    this.decided = this.decide(key, result, ex, method);
    const held = this.held;
    if (!held) return;
    if (held.exchange.key === key) {
      this.held = undefined;
      this.session?.receiveFrame(held.frame);
    } else {
      this.ask(held.exchange); // the peer changed its name meanwhile
    }
  }

  private decide(key: string, r: AuthResult, ex: Exchange, method: AuthMethod): Decision {
    const none = { key, credential: undefined, policy: undefined, sessionTimeout: undefined };
    if (typeof r !== 'object' || r === null) {
      this.o.log.log('warn', 'the authenticator returned no answer object: refused', { user: key });
      return none;
    }
    if (!r.accept) {
      const reason = r.reason;
      const refuse =
        reason === 'account-disabled' ||
        reason === 'restricted-hours' ||
        reason === 'password-expired' ||
        reason === 'no-dialin-permission'
          ? reason
          : undefined;
      return { ...none, credential: refuse ? { refuse } : undefined };
    }
    let credential: Credential | undefined;
    if (r.password !== undefined) credential = { password: text(r.password) };
    else if (r.ntHash !== undefined) {
      if (r.ntHash.length !== 16) {
        this.o.log.log('warn', 'the authenticator gave an NT hash that is not 16 bytes: refused', {
          user: key,
        });
        return none;
      }
      credential = { ntHash: Uint8Array.from(r.ntHash) };
    } else if (ex.pap) credential = { password: ex.password ?? '' };
    else {
      this.o.log.log(
        'warn',
        `the authenticator accepted without a password or NT hash: ${method} needs one`,
        {
          user: key,
        },
      );
      return none;
    }
    let policy: AddressPolicy | undefined;
    if (r.address !== undefined) {
      const a = parseIpv4(r.address);
      if (a === undefined) {
        this.o.log.log('warn', 'the authenticator gave an address that is not IPv4: refused', {
          user: key,
          address: String(r.address),
        });
        return none;
      }
      policy = { none: false, fixed: [a], allow: [], deny: [] };
    }
    const t = r.sessionTimeout;
    const sessionTimeout =
      typeof t === 'number' && Number.isFinite(t) && t > 0 ? Math.min(t, MAX_SESSION_TIMEOUT_S) : undefined;
    return { key, credential, policy, sessionTimeout };
  }
}
