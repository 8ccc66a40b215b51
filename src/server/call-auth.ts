/**
 * Authentication decided outside the server, per call: the hooks an
 * embedding program's authenticator plugs into (the library's
 * `createServer({ authenticator })`, src/api/authenticator.ts). Without
 * them the server reads its chap-secrets file, as pppd does.
 *
 * The authentication engines are sans-IO and look a secret up
 * synchronously ({@link CredentialLookup}); an authenticator that asks a
 * database answers later. So the call holds the peer's PAP
 * Authenticate-Request or CHAP Response back ({@link CallAuth.hold}) until
 * the answer is in, then hands it to the engine, whose lookup now finds the
 * answer ready.
 */
import type { CredentialLookup } from '../ppp/auth/index.js';
import type { PppSession } from '../session/session.js';
import type { PppFrame } from '../wire/ppp.js';
import type { AddressPolicy } from './chap-secrets.js';

/**
 * What the source that authenticated a call said about the session (a
 * RADIUS Access-Accept, RFC 2865 §5, RFC 2869 §5, RFC 2548 §2.4). Read by
 * the server when the session comes up and by whatever accounts for it
 * (`Class` goes back in every Accounting-Request, RFC 2865 §5.25).
 */
export interface SessionAuthorization {
  /** Who decided: a RADIUS server (`host:port`) or `secrets`. */
  readonly source: string;
  /** Class attributes, in order, as received. */
  readonly class: readonly Uint8Array[];
  /** Session-Timeout, s. */
  readonly sessionTimeout?: number;
  /** Idle-Timeout, s. */
  readonly idleTimeout?: number;
  /** Acct-Interim-Interval, s. */
  readonly acctInterimInterval?: number;
  /** Framed-MTU. */
  readonly framedMtu?: number;
  /** Framed-IP-Address, when it names an address (not 255.255.255.254/255: "from the pool"). */
  readonly address?: number;
  /** MS-Primary-DNS-Server, MS-Secondary-DNS-Server: sent instead of `ms-dns`. */
  readonly dns?: readonly number[];
  /** MS-MPPE-Encryption-Policy 2 (RFC 2548 §2.4.4): encryption required. */
  readonly mppeRequired?: boolean;
  /** MS-MPPE-Encryption-Types (RFC 2548 §2.4.5): the key lengths allowed. */
  readonly mppeKeyBits?: readonly (40 | 56 | 128)[];
  /** Where the MPPE master keys come from: the Access-Accept, or derived from MS-CHAP by us. */
  readonly mppeKeys?: 'access-accept' | 'ms-chap';
}

/** One call's outside authentication. */
export interface CallAuth {
  /** What the deciding source said about the session, once decided (RADIUS). */
  readonly authorization?: SessionAuthorization | undefined;
  /** Replaces the secrets lookup for this call. */
  readonly lookup: CredentialLookup;
  /** {@link PppSessionOptions.hold}: keeps back a frame whose answer is not in yet. */
  readonly hold: (frame: PppFrame) => boolean;
  /** The call's session exists (held frames go back to it). */
  attach(session: PppSession): void;
  /** Which addresses the user may get (`undefined`: any pool address). */
  addressPolicy(peerName: string | undefined): AddressPolicy | undefined;
  /** The call ended: drop what is held, forget pending answers. */
  close(): void;
  /** What the authentication server said for accounting, once the user is accepted (RADIUS Access-Accept). */
  accounting?(): CallAccounting | undefined;
}

/**
 * Accounting inputs from the authentication (RFC 2865 §5.25 Class, RFC 2869
 * §5.16 Acct-Interim-Interval): echoed in every Accounting-Request of the
 * session, and its Interim-Update period.
 */
export interface CallAccounting {
  readonly classes?: readonly Uint8Array[];
  /** Seconds; overrides `radius.interim-interval`. */
  readonly interimInterval?: number;
  /** Acct-Authentic (RFC 2866 §5.6): who authenticated the user. */
  readonly authentic?: 'radius' | 'local' | 'remote';
}

/** Makes the {@link CallAuth} of each new call. */
export type CallAuthFactory = (call: { readonly peer: string; readonly callId: number }) => CallAuth;
