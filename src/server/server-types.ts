/**
 * The server's shapes: what it needs from the outside world
 * ({@link ServerEnv}), what it counts and reports, and the two records it
 * keeps per control connection and per call (docs/client-server.md).
 */

import type { Clock, Timer } from '../io/clock.js';
import type { HookContext, HookResult } from '../io/hooks.js';
import type { Undo } from '../io/ip.js';
import type { TcpSocket, TcpTransport } from '../io/tcp.js';
import type { GreSocket, TunDevice } from '../io/types.js';
import type { Logger } from '../log/logger.js';
import type { RandomBytes } from '../ppp/auth/index.js';
import type { Ipv6cpNegotiated } from '../ppp/ipv6cp.js';
import type { CallIdMap } from '../pptp/call-id-map.js';
import type { ControlDriver } from '../session/control-driver.js';
import type { PppSession, SessionInfo, SessionStats } from '../session/session.js';
import type { RateLimitedLogger } from './admission.js';
import type { CallAuth, CallAuthFactory, SessionAuthorization } from './call-auth.js';
import type { SecretEntry } from './chap-secrets.js';
import type { SessionEndCause } from './end-cause.js';
import type { RadiusAuthenticator, RadiusAuthTransport } from './radius-auth.js';
import type { ServerHost } from './server-host.js';

/** Everything the server does to the outside world. */
export interface ServerEnv {
  readonly clock: Clock;
  readonly log: Logger;
  readonly tcp: TcpTransport;
  readonly host: ServerHost;
  /** Opens a TUN interface (name or `%d` pattern). */
  openTun(name: string): TunDevice;
  /**
   * Opens the raw GRE socket (bound to `bindAddress` unless undefined);
   * `bufferBytes`: its receive and send buffers (`limits.gre-socket-buffer`).
   */
  openGre(bindAddress: string | undefined, bufferBytes?: number): GreSocket;
  /** The secrets (parsed chap-secrets); a function so a reload takes effect at the next authentication. */
  secrets(): readonly SecretEntry[];
  runHook?(script: string, name: 'ip-up' | 'ip-down', ctx: HookContext): Promise<HookResult>;
  readonly random?: RandomBytes;
  /** Authentication from outside, per call (call-auth.ts); default: {@link secrets}. */
  readonly callAuth?: CallAuthFactory;
  /**
   * Opens the RADIUS client's transport (the UDP driver) when the config's
   * `radius.order` includes "radius"; without it RADIUS requests fail.
   */
  openRadius?(
    auth: RadiusAuthenticator,
    servers: readonly { readonly host: string; readonly port: number }[],
  ): Promise<RadiusAuthTransport & { close(): void }>;
  /** Told when a session is up and when it ends (the library's events). */
  readonly sessionEvents?: ServerSessionEvents;
}

/** What {@link ServerEnv.sessionEvents} hears. */
export interface ServerSessionEvents {
  /** The session's network is up and its route/interface configured. */
  up(session: ServerSessionStatus, info: SessionInfo): void;
  /** The session ended (`wasUp`: whether `up` was reported for it); `stats` are its final counters. */
  down(session: ServerSessionStatus, reason: string, stats: SessionStats, wasUp: boolean): void;
}

/** Server-wide counters (docs/client-server.md "Counters"). */
export interface ServerCounters {
  connectionsAccepted: number;
  /** Refused at accept: too many from that source address, or shutting down. */
  connectionsRefused: number;
  /** Closed because no session came up within the handshake time. */
  handshakeTimeouts: number;
  /** Accepted while `setup-concurrency` connections were setting up: waited for a slot. */
  connectionsQueued: number;
  sessionsStarted: number;
  sessionsUp: number;
  sessionsEnded: number;
  /** Calls refused, for any reason (each reason also has its own counter below). */
  callsRefused: number;
  /** Calls refused: `limits.max-calls-per-connection` reached on that connection. */
  callsRefusedPerConnection: number;
  /** Calls refused: `limits.max-calls-per-address` reached for that source address. */
  callsRefusedPerAddress: number;
  /** Calls refused: `limits.max-starting` unauthenticated calls server-wide. */
  callsRefusedStarting: number;
  /** Calls refused: `limits.max-starting-per-address` unauthenticated calls from that address. */
  callsRefusedStartingPerAddress: number;
  /** Calls ended because their peer did not authenticate within `limits.auth-timeout`. */
  authTimeouts: number;
  /** Failed authentication attempts (each one delayed per `limits.auth-failure-delay`). */
  authFailures: number;
  /** Control connections dropped because the peer did not read what we wrote. */
  controlWriteOverflows: number;
  /** Sessions ended because their route, interface or address could not be set up. */
  hostSetupFailures: number;
  /** Packets from a session whose inner source address is not the session's: dropped. */
  spoofedDropped: number;
  /** Session-to-session packets the client-to-client policy refused. */
  clientToClientDropped: number;
  /** Session-to-session packets forwarded. */
  clientToClientForwarded: number;
  /** Packets read from the shared TUN for an address no session has. */
  noSessionDropped: number;
  /** Packets read from the TUN that are not IPv4 (shared mode carries IPv4 only). */
  notIpv4Dropped: number;
}

/** Every server-wide counter at 0 (a new server, or a test's). */
export function zeroServerCounters(): ServerCounters {
  return {
    connectionsAccepted: 0,
    connectionsRefused: 0,
    handshakeTimeouts: 0,
    connectionsQueued: 0,
    sessionsStarted: 0,
    sessionsUp: 0,
    sessionsEnded: 0,
    callsRefused: 0,
    callsRefusedPerConnection: 0,
    callsRefusedPerAddress: 0,
    callsRefusedStarting: 0,
    callsRefusedStartingPerAddress: 0,
    authTimeouts: 0,
    authFailures: 0,
    controlWriteOverflows: 0,
    hostSetupFailures: 0,
    spoofedDropped: 0,
    clientToClientDropped: 0,
    clientToClientForwarded: 0,
    noSessionDropped: 0,
    notIpv4Dropped: 0,
  };
}

/** A live call, for status output and tests. */
export interface ServerSessionStatus {
  /** Unique for the server's lifetime (Call IDs are unique only per peer address, and reused). */
  readonly id: number;
  readonly callId: number;
  readonly peer: string;
  readonly user: string | undefined;
  readonly address: string | undefined;
  readonly up: boolean;
  readonly ifname: string | undefined;
  readonly spoofedDropped: number;
  /** GRE packets of this call dropped for a Sequence Number outside the accept window (docs/data-path.md). */
  readonly greOutOfWindow: number;
  /** Times the call's GRE receive side resynchronised on a run of out-of-window packets. */
  readonly greResyncs: number;
  /** What the deciding source (RADIUS) said about the session: Class, Acct-Interim-Interval, ... */
  readonly authorization?: SessionAuthorization;
}

/** Shutdown limits: each step bounded, so the whole shutdown is. */
export const SERVER_SHUTDOWN = {
  /** LCP Terminate-Request → Terminate-Ack, for every session at once. */
  lcpTerminateMs: 3000,
  /** Stop-Control-Connection-Request → Reply, for every connection at once. */
  stopMs: 2000,
} as const;

/** One control connection (TCP 1723). */
export interface Connection {
  readonly id: number;
  readonly socket: TcpSocket;
  readonly remote: string;
  readonly local: string;
  /** Clock time of the TCP accept (handshake duration). */
  readonly acceptedAt: number;
  driver: ControlDriver;
  readonly calls: CallIdMap<ServerCall>;
  handshakeTimer: Timer | undefined;
  /**
   * Set while it holds one of the `setup-concurrency` slots (until a
   * session is up, it closes, or this timer ends the hold).
   */
  setupSlotTimer: Timer | undefined;
  closed: boolean;
  /** The connection's rate-limited logger (flushed when it closes). */
  log: RateLimitedLogger;
}

/** One call: its PPP session and what the server set up for it. */
export interface ServerCall {
  /** Server-wide session id (Call IDs are only unique per peer). */
  readonly id: number;
  readonly conn: Connection;
  readonly callId: number;
  readonly session: PppSession;
  readonly startedAt: number;
  user: string | undefined;
  /** The assigned inner address (uint32), once the pool gave one. */
  address: number | undefined;
  upAt: number | undefined;
  info: SessionInfo | undefined;
  /** Per-session mode: this session's TUN. */
  tun: TunDevice | undefined;
  readonly undo: Undo[];
  spoofed: number;
  c2cDropped: number;
  ipUpRan: boolean;
  ended: boolean;
  /** IPV6CP's result (per-session mode), and whether its addresses are on the interface. */
  ipv6: Ipv6cpNegotiated | undefined;
  ipv6Added: boolean;
  /** Outside authentication ({@link ServerEnv.callAuth}). */
  auth: CallAuth | undefined;
  /** The peer authenticated (the call no longer counts as starting). */
  authenticated: boolean;
  /** Ends the call unless its peer authenticates first (`limits.auth-timeout`). */
  authTimer: Timer | undefined;
  /** Ends the call at the Session-Timeout its authorization gave (RFC 2865 §5.27). */
  limitTimer: Timer | undefined;
  /** The session's rate-limited logger (flushed when the call ends). */
  log: RateLimitedLogger;
  /** Why it ends, once known (the first cause set wins: a kick's PPP close stays a kick). */
  endCause: SessionEndCause | undefined;
}
