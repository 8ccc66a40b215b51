/**
 * What the server tells those who watch it (metrics, src/server/server-metrics.ts)
 * about session life, and the view of a live session it gives on request
 * (the management socket, src/server/management.ts). Observers hear of
 * session starts and ends only: per-packet counters stay in the GRE channel
 * and the PPP unit and are read when someone asks (a scrape, `sessions`).
 */
import type { AuthFailure } from '../ppp/auth/index.js';
import type { PppFailure, PppPhase } from '../ppp/unit-types.js';
import type { SessionStats } from '../session/session.js';
import type { CallAccounting } from './call-auth.js';
import type { SessionEndCause } from './end-cause.js';

export interface ServerObserver {
  /** A session reached the network phase for the first time, `seconds` after its TCP accept. */
  sessionUp?(seconds: number, session: ServerSessionDetail): void;
  /** A client failed to authenticate (each attempt, retries included). */
  authFailure?(f: AuthFailure): void;
  /** A RADIUS Access-Request ended (a reply, or a failure), `seconds` after it was sent. */
  radiusAuthResult?(result: string, seconds: number): void;
  /** A session ended; `stats` are its final counters, `failure` why its PPP link ended (if it did). */
  sessionEnded?(e: {
    readonly stats: SessionStats;
    readonly failure: PppFailure | undefined;
    readonly wasUp: boolean;
    /** The session as it was when it ended. */
    readonly session: ServerSessionDetail;
    /** Why it ended (accounting's Acct-Terminate-Cause), and the line the log shows. */
    readonly cause: SessionEndCause;
    readonly reason: string;
  }): void;
}

export type { SessionEndCause };

/** A live session as the management socket and the metrics see it. */
export interface ServerSessionDetail {
  /** Server-wide id (what `pptp-ts kick ID` takes). */
  readonly id: number;
  readonly callId: number;
  /** The client's outer (TCP source) address. */
  readonly peer: string;
  readonly user: string | undefined;
  /** The tunnel address the pool gave. */
  readonly address: string | undefined;
  readonly ifname: string | undefined;
  readonly phase: PppPhase;
  /** IPv4 passes. */
  readonly up: boolean;
  /** Clock times (ms) of the call's start and of the network phase. */
  readonly startedAt: number;
  readonly upAt: number | undefined;
  readonly auth: string | undefined;
  readonly mppe: string | undefined;
  readonly stats: SessionStats;
  /** RFC 2866 §5.5 Acct-Session-Id, when accounting gave the session one (RFC 5176 §3 matches on it). */
  readonly acctSessionId?: string;
  /** What the authentication said for accounting (Class, Acct-Interim-Interval), when it said anything. */
  readonly accounting?: CallAccounting;
}
