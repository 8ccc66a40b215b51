/**
 * The PPP unit's faces (src/ppp/unit.ts): the ports it writes to, the
 * options it takes (pppd's names and defaults), and what it reports to its
 * driver (phases, actions, failures, counters). Kept apart from the unit's
 * machinery so that drivers and tests read the contract in one place.
 */

import type { Logger } from '../log/logger.js';
import type { PppFrame, PppFramingFlags } from '../wire/ppp.js';
import type {
  AuthenticatorOptions,
  AuthFailure,
  AuthSuccess,
  CredentialLookup,
  RandomBytes,
} from './auth/index.js';
import type { CcpNegotiated } from './ccp.js';
import type { IpcpNegotiated } from './ipcp.js';
import type { Ipv6cpNegotiated } from './ipv6cp.js';
import type { AuthOptions, LcpNegotiated } from './lcp.js';

// ─── Ports ──────────────────────────────────────────────────────────────────

/**
 * The PPP channel the unit sends through (Linux `struct ppp_channel`): the
 * PPTP call's GRE data path, or an in-memory pipe in tests.
 */
export interface PppChannel {
  /** Largest PPP Information field the channel carries. */
  readonly mtu: number;
  /** Bytes {@link sendInPlace} needs free in front of the Information field. */
  readonly headroom: number;
  /** Sends one frame; the channel copies what it keeps. */
  send(frame: PppFrame): void;
  /**
   * Zero-copy send: the Information field is `buf[offset, offset+length)`
   * and `headroom` bytes before it are the channel's to write. Optional.
   */
  sendInPlace?(buf: Uint8Array, offset: number, length: number, protocol: number): void;
  /** ACFC/PFC for transmission as LCP negotiated them (RFC 1661 §6.5, §6.6). Optional. */
  setFraming?(flags: PppFramingFlags): void;
}

/** Where received network-layer packets go (the TUN side). */
export interface PppInterfaceSink {
  /** One IPv4 (0x0021) or IPv6 (0x0057) packet from the peer, decrypted; valid only during the call. */
  deliver(protocol: number, packet: Uint8Array): void;
}

// ─── Options ────────────────────────────────────────────────────────────────

/**
 * The unit's settings, named after pppd's options (camelCase). Defaults are
 * the strongest PPTP allows (docs/architecture.md §6): MS-CHAP-v2 only, MPPE-128
 * required, on both sides.
 */
export interface PppUnitOptions extends AuthOptions {
  readonly log?: Logger;
  /** Random bytes for challenges, magic numbers and identifiers (default: crypto.randomBytes). */
  readonly random?: RandomBytes;

  // Authenticating ourselves (the peer role; pppd `user`, `password`).
  /** pppd `user`: the name we authenticate as. */
  readonly user?: string;
  /** pppd `password`. */
  readonly password?: string;
  /** The NT password hash instead of a password (MS-CHAP only). */
  readonly ntHash?: Uint8Array;

  // Authenticating the peer (the authenticator role).
  /** The secrets (a chap-secrets file): enables the authenticator role. */
  readonly lookup?: CredentialLookup;
  /** pppd `name`: our name in CHAP Challenges. */
  readonly name?: string;
  /** pppd `ms-ignore-domain`. */
  readonly msIgnoreDomain?: boolean;
  // Which methods we demand and refuse: pppd's `require-*` / `refuse-*` ({@link AuthOptions}).

  // MPPE (RFC 3078).
  /** pppd `nomppe`: no MPPE at all (CCP is Protocol-Rejected). */
  readonly nomppe?: boolean;
  /** pppd `require-mppe`: MPPE required, any strength not excluded. Set false to allow without requiring. */
  readonly requireMppe?: boolean;
  /** pppd `require-mppe-40` / `-128` (and 56, which pppd lacks): required, these strengths only. */
  readonly requireMppe40?: boolean;
  readonly requireMppe56?: boolean;
  readonly requireMppe128?: boolean;
  /** pppd `nomppe-40` / `nomppe-128` (and 56). */
  readonly nomppe40?: boolean;
  readonly nomppe56?: boolean;
  readonly nomppe128?: boolean;
  /** pppd `mppe-stateful` (see {@link CcpPolicy}: we then request stateful mode). */
  readonly mppeStateful?: boolean;

  // LCP.
  /** pppd `mtu`. Default 1500. */
  readonly mtu?: number;
  /** pppd `mru`. Default 1500. */
  readonly mru?: number;
  /** pppd `nopcomp`, `noaccomp`, `nomagic`. */
  readonly nopcomp?: boolean;
  readonly noaccomp?: boolean;
  readonly nomagic?: boolean;
  /** pppd `lcp-echo-interval` in seconds (0 disables). Default 30. */
  readonly lcpEchoInterval?: number;
  /** pppd `lcp-echo-failure`. Default 4. */
  readonly lcpEchoFailure?: number;
  /** pppd `lcp-echo-adaptive`. Default true here. */
  readonly lcpEchoAdaptive?: boolean;
  /** pppd `lcp-restart` (s), `lcp-max-configure`, `lcp-max-terminate`, `lcp-max-failure`; also used by the NCPs. */
  readonly lcpRestart?: number;
  readonly lcpMaxConfigure?: number;
  readonly lcpMaxTerminate?: number;
  readonly lcpMaxFailure?: number;
  /** pppd `passive`. */
  readonly passive?: boolean;

  // IPCP.
  /** pppd `noip`: no IPv4. */
  readonly noip?: boolean;
  /** Our address (pppd `local:remote`); 0/absent asks the peer. */
  readonly localAddress?: number;
  /** The address we give the peer. */
  readonly remoteAddress?: number;
  /** Picks the peer's address once it has authenticated (a server's pool); overrides `remoteAddress`. */
  readonly assignRemoteAddress?: (peerName: string | undefined) => number | undefined;
  /** pppd `ipcp-accept-local`, `ipcp-accept-remote`. */
  readonly ipcpAcceptLocal?: boolean;
  readonly ipcpAcceptRemote?: boolean;
  /**
   * Read when the network phase begins (after authentication): what the
   * source that authenticated the peer (a RADIUS Access-Accept) says about
   * this link. `dns` replaces `msDns`; `mppeKeyBits` narrows the MPPE key
   * lengths offered and accepted; `mppeRequired` makes MPPE mandatory.
   */
  readonly networkPolicy?: () =>
    | {
        readonly dns?: readonly number[];
        readonly mppeKeyBits?: readonly (40 | 56 | 128)[];
        readonly mppeRequired?: boolean;
      }
    | undefined;
  /** pppd `ms-dns`, `ms-wins`, `usepeerdns`. */
  readonly msDns?: readonly number[];
  readonly msWins?: readonly number[];
  readonly usePeerDns?: boolean;

  // IPv6CP.
  /** pppd `+ipv6`. Default off. */
  readonly ipv6?: boolean;
  readonly ipv6LocalIdentifier?: Uint8Array;
  readonly ipv6RemoteIdentifier?: Uint8Array;

  // Unit.
  /** Packets queued per protocol while its npmode is QUEUE (default 32); beyond that they are dropped and counted. */
  readonly queueLimit?: number;
  /** Timers of the authentication engines (pppd `chap-restart` etc.), ms. */
  readonly authRestartMs?: number;
  /** MS-CHAP authenticator: new Responses accepted after a failed one (Failure with R=1); see `AuthenticatorOptions.maxRetries`. */
  readonly authMaxRetries?: number;
  /** Authenticator: how long to hold each failed attempt's Failure; see `AuthenticatorOptions.failureDelayMs`. */
  readonly authFailureDelayMs?: AuthenticatorOptions['failureDelayMs'];
}

// ─── Outputs ────────────────────────────────────────────────────────────────

/** RFC 1661 §3.2 phases. */
export type PppPhase = 'Dead' | 'Establish' | 'Authenticate' | 'Network' | 'Terminate';

/**
 * Linux's `npmode` (Linux `enum NPmode`): what the transmit path does
 * with a network protocol's packets.
 */
export type NpMode = 'PASS' | 'QUEUE' | 'DROP' | 'ERROR';

/** Why a link ended, for the caller. */
export type PppFailureCode =
  /** Authentication failed (either direction): wrong password, unknown user... (`auth` has details). */
  | 'auth-failed'
  /** No authentication method both ends accept (the peer refused ours, or demanded one we refuse). */
  | 'auth-refused'
  /** MPPE required but the peer will not (or not as we allow). */
  | 'mppe-refused'
  /** MPPE required but the authentication gave no keys (only MS-CHAP does, RFC 3079). */
  | 'mppe-unavailable'
  /** The peer stopped answering (LCP Configure-Requests or Echo-Requests). */
  | 'peer-silent'
  /** The link is looped back (RFC 1661 §6.4). */
  | 'loopback'
  /** The peer sent an LCP Terminate-Request. */
  | 'peer-terminated'
  /** We were asked to close. */
  | 'closed'
  /** The channel went away. */
  | 'lower-down'
  /** A negotiation could not produce a usable link (no IP address, a catastrophic Code-Reject...). */
  | 'negotiation-failed';

export interface PppFailure {
  readonly code: PppFailureCode;
  /** One line for humans (pppd's wording where it has one). */
  readonly message: string;
  /** For auth failures: the engine's typed result, including the peer's message. */
  readonly auth?: AuthFailure;
  /** The peer's Terminate-Request text, when the peer ended the link. */
  readonly peerMessage?: string;
}

/** What the unit asks its driver to do or tells it. */
export type UnitAction =
  | { readonly kind: 'startTimer'; readonly id: string; readonly ms: number }
  | { readonly kind: 'stopTimer'; readonly id: string }
  | { readonly kind: 'phase'; readonly phase: PppPhase }
  | { readonly kind: 'lcp-up'; readonly lcp: LcpNegotiated }
  | { readonly kind: 'authenticated'; readonly result: AuthSuccess }
  | { readonly kind: 'ipcp-up'; readonly ipcp: IpcpNegotiated }
  | { readonly kind: 'ipcp-down' }
  | { readonly kind: 'ipv6cp-up'; readonly ipv6cp: Ipv6cpNegotiated }
  | { readonly kind: 'ipv6cp-down' }
  | { readonly kind: 'ccp-up'; readonly ccp: CcpNegotiated }
  | { readonly kind: 'ccp-down' }
  /** An NCP ended without ending the link (RFC 1661 §3.7). */
  | { readonly kind: 'ncp-finished'; readonly protocol: number; readonly reason: string }
  /** The link is finished: tear the channel down. `failure` says why. */
  | { readonly kind: 'dead'; readonly failure: PppFailure };

/** Counters in the spirit of the kernel's `rtnl_link_stats64` (network-layer packets only). */
export interface PppCounters {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  /** Received frames we could not use (undecryptable, bad inner protocol...). */
  rxErrors: number;
  /** Packets we could not send (no protocol for them, too long, npmode ERROR). */
  txErrors: number;
  /** Received packets discarded on purpose (NCP not open, unencrypted while MPPE runs, MPPE drops...). */
  rxDropped: number;
  /** Packets discarded on transmit (npmode DROP, queue full, ...). */
  txDropped: number;
  /** Control frames (LCP, auth, NCPs, CCP) received and sent. */
  rxControl: number;
  txControl: number;
  /** Protocol-Rejects we sent. */
  protocolRejects: number;
  /** CCP Reset-Requests we sent and received. */
  resetRequestsSent: number;
  resetRequestsReceived: number;
  /** Stateful MPPE: our last packet sent again, flushed, to answer a Reset-Request at once. */
  resetResends: number;
}

/** Timer ids of the unit's own timers (the automata use `<name>.restart`, the auth engines `auth.*`). */
export const UNIT_TIMER = {
  /** LCP echo keep-alive interval. */
  echo: 'lcp.echo',
  /** Resend a CCP Reset-Request while MPPE waits for a flushed packet (pppd RACKTIMEOUT, 1 s). */
  ccpReset: 'ccp.reset',
} as const;
