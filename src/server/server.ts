/**
 * The PPTP server (PAC, RFC 2637 §1.2): TCP 1723, many control connections,
 * many calls, one {@link PppSession} per call in the authenticator role,
 * credentials from a pppd chap-secrets file, addresses from a pool, and the
 * interface side (docs/architecture.md §4, docs/client-server.md).
 *
 * ```
 *  listener ─▶ connection (limits per source address, handshake time-out)
 *     └─ ControlDriver (PAC engine) ─ callUp ─▶ PppSession (GRE channel + PPP unit)
 *          PPP: auth (chap-secrets) ─▶ address (pool / fixed) ─▶ IPCP (DNS pushed) [─▶ CCP/MPPE]
 *          up: route CLIENT/32 into the shared TUN (or its own TUN), ip-up, "session up" log
 *          end (any reason): CDN, route/address/pool entry/Call ID freed, ip-down, "session end" log
 *
 *  shared TUN ─ read ─▶ by inner destination ─▶ that session ─▶ GRE
 *  session ─ deliver ─▶ inner source must be the session's address (anti-spoofing)
 *                    ─▶ destination another session? client-to-client policy : TUN
 * ```
 */
import { randomBytes } from 'node:crypto';
import type { Clock, Timer } from '../io/clock.js';
import type { HookContext, HookResult } from '../io/hooks.js';
import type { Undo } from '../io/ip.js';
import { plainIpv4, type TcpListener, type TcpSocket, type TcpTransport } from '../io/tcp.js';
import type { GreSocket, TunDevice } from '../io/types.js';
import type {
  AuthFailure,
  AuthFailureReason,
  AuthMethod,
  Credential,
  CredentialLookup,
  RandomBytes,
} from '../ppp/auth/index.js';
import type { Ipv6cpNegotiated } from '../ppp/ipv6cp.js';
import { authMethodName } from '../ppp/lcp.js';
import type { PppFailure, PppUnitOptions, UnitAction } from '../ppp/unit.js';
import type {
  PptpAdmission,
  PptpCallEndReason,
  PptpCallParameters,
  PptpCloseReason,
  PptpControlConfig,
  PptpControlLimits,
  PptpControlTimers,
} from '../pptp/control-types.js';
import {
  ControlDriver,
  type ControlEvents,
  type ControlWriteLimits,
  describeCallEndReason,
  describeCloseReason,
  randomIntFrom,
} from '../session/control.js';
import { GreEndpoint, type GreEndpointCounters } from '../session/gre-endpoint.js';
import {
  describeAuth,
  describeMppe,
  type GreTuning,
  PppSession,
  type SessionEvents,
  type SessionInfo,
  type SessionPorts,
  type SessionStats,
} from '../session/session.js';
import { ipv4ToString, parseIpv4 } from '../wire/bytes.js';
import type { Logger } from '../wire/log.js';
import { PppProtocol } from '../wire/ppp.js';
import {
  PptpDisconnectResult,
  PptpGeneralError,
  PptpOutgoingCallResult,
  PptpStopReason,
} from '../wire/pptp/index.js';
import { AuthTarpit, CallAdmission, type CallRefusal, RateLimitedLogger, WarnBuckets } from './admission.js';
import type { CallAuth, CallAuthFactory, SessionAuthorization } from './call-auth.js';
import { type AddressPolicy, lookupSecret, type SecretEntry } from './chap-secrets.js';
import { parseRadiusAddress, type ServerConfig } from './config.js';
import { causeOfCallEnd, causeOfClose, causeOfPppFailure, type SessionEndCause } from './end-cause.js';
import type { ServerHost } from './host.js';
import { IdleWatch } from './idle-timeout.js';
import { IpPool, parsePoolSpec } from './ip-pool.js';
import { demoteInfo, lazyChild } from './lazy-log.js';
import type { ServerObserver, ServerSessionDetail } from './observer.js';
import { RadiusAuthenticator, type RadiusAuthTransport } from './radius-auth.js';

/** Everything the server does to the outside world. */
export interface ServerEnv {
  readonly clock: Clock;
  readonly log: Logger;
  readonly tcp: TcpTransport;
  readonly host: ServerHost;
  /** Opens a TUN interface (name or `%d` pattern). */
  openTun(name: string): TunDevice;
  /** Opens the raw GRE socket (bound to `bindAddress` unless undefined). */
  openGre(bindAddress: string | undefined): GreSocket;
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

interface Connection {
  readonly id: number;
  readonly socket: TcpSocket;
  readonly remote: string;
  readonly local: string;
  /** Clock time of the TCP accept (handshake duration). */
  readonly acceptedAt: number;
  driver: ControlDriver;
  readonly calls: Map<number, ServerCall>;
  handshakeTimer: Timer | undefined;
  closed: boolean;
  /** The connection's rate-limited logger (flushed when it closes). */
  log: RateLimitedLogger;
}

interface ServerCall {
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

const MAX_SPOOF_LOGS_PER_SESSION = 3;

/** The longest Session-Timeout honoured, s (a timer cannot wait longer than 2^31 ms). */
const MAX_SESSION_TIMEOUT_S = 2_000_000;

/** How long a new call waits for the client's first PPP frame before LCP starts on its own. */
export const SERVER_PPP_START_WAIT_MS = 1000;

function u32(p: Uint8Array, off: number): number {
  return ((p[off]! << 24) | (p[off + 1]! << 16) | (p[off + 2]! << 8) | p[off + 3]!) >>> 0;
}

/**
 * The Outgoing-Call-Reply for a refused call (RFC 2637 §2.8 Result Codes).
 * Limits on the whole server, and on unauthenticated calls, which free up
 * as other calls authenticate or end, are "2 (General Error) - Outgoing
 * Call not established for the reason indicated in Error Code" with Error
 * Code "4 (No-Resource) - Insufficient resources to handle this command
 * now" (§2.2); fixed caps on one connection or one source address are
 * "7 (Do Not Accept) - Outgoing Call administratively prohibited".
 */
export function refusalAnswer(refusal: CallRefusal): PptpAdmission {
  switch (refusal) {
    case 'max-calls-per-connection':
    case 'max-calls-per-address':
      return { accept: false, resultCode: PptpOutgoingCallResult.DoNotAccept };
    default:
      return {
        accept: false,
        resultCode: PptpOutgoingCallResult.GeneralError,
        errorCode: PptpGeneralError.NoResource,
      };
  }
}

/** `pptps0` → `pptps%d`: the per-session interface pattern from the configured name. */
export function perSessionPattern(name: string): string {
  return name.includes('%d') ? name : `${name.replace(/\d+$/, '')}%d`;
}

export class PptpServer {
  readonly counters: ServerCounters = {
    connectionsAccepted: 0,
    connectionsRefused: 0,
    handshakeTimeouts: 0,
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
  private readonly config: ServerConfig;
  private readonly env: ServerEnv;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly pool: IpPool;
  private readonly localIp: number;
  private readonly shared: boolean;
  private endpoint: GreEndpoint | undefined;
  private sharedTun: TunDevice | undefined;
  private sharedUndo: Undo | undefined;
  private listener: TcpListener | undefined;
  private readonly connections = new Set<Connection>();
  private readonly perAddress = new Map<string, number>();
  private readonly byAddress = new Map<number, ServerCall>();
  private callCount = 0;
  private nextConnId = 1;
  private nextSessionId = 1;
  /**
   * Who hears of session starts, ends and authentication failures (metrics,
   * src/server/observer.ts). Never called per packet.
   */
  readonly observers: ServerObserver[] = [];
  private stopping = false;
  private readonly admission: CallAdmission;
  private readonly tarpit: AuthTarpit;
  /** Server-wide warning buckets (each connection and session also has its own). */
  private readonly warnings: WarnBuckets;
  /** Fixed addresses of the secrets now reserved in the pool. */
  private reservedFixed = new Set<number>();
  private readonly pending = new Set<Promise<unknown>>();
  /** Largest interface MTU a session may get: the shared TUN's MTU. */
  private readonly interfaceMtu: number;
  /** Idle-Timeout and `ppp.idle` (src/server/idle-timeout.ts). */
  readonly idle: IdleWatch;

  constructor(config: ServerConfig, env: ServerEnv) {
    this.config = config;
    this.env = env;
    this.log = env.log;
    this.clock = env.clock;
    this.idle = new IdleWatch(env.clock);
    this.localIp = parseIpv4(config['local-ip'])!;
    this.shared = config.interface.mode === 'shared';
    const reserved = [this.localIp];
    for (const e of env.secrets()) reserved.push(...e.addresses.fixed);
    this.pool = new IpPool(parsePoolSpec(config.pool), reserved);
    this.reservedFixed = new Set(reserved.slice(1));
    const limits = config.limits;
    this.admission = new CallAdmission({
      maxCallsPerAddress: limits['max-calls-per-address'],
      maxStarting: limits['max-starting'],
      maxStartingPerAddress: limits['max-starting-per-address'],
    });
    this.tarpit = new AuthTarpit({
      baseMs: limits['auth-failure-delay'] * 1000,
      maxMs: limits['auth-failure-delay-max'] * 1000,
      forgetMs: limits['auth-failure-forget'] * 1000,
    });
    // The server as a whole may log ten times what one connection or session may.
    this.warnings = new WarnBuckets(config.log['warn-burst'] * 10, (config.log['warn-interval'] * 1000) / 10);
    this.writeLimits = {
      highWaterBytes: limits['control-write-high-water'],
      limitBytes: limits['control-write-limit'],
      stallTimeoutMs: limits['control-write-stall-timeout'] * 1000,
    };
    // The engine's own per-connection cap stays one above ours as a backstop, so that our
    // refusal (counted and logged) is the one a peer meets.
    this.controlLimits = { maxCalls: Math.min(limits['max-calls-per-connection'] + 1, 0xffff) };
    // Path MTU 1500 − 40 (IPv4 + GRE + PPP) − 4 (MPPE), unless the config says less.
    this.greTuning = {
      ignorePeerWindow: config.pptp['ignore-peer-window'],
      ackTimeoutMs: config.pptp['ack-timeout-ms'],
      reorderTimeoutMs: config.pptp['reorder-timeout-ms'],
    };
    const handshakeMs = config.limits['handshake-timeout'] * 1000;
    const echoMs = config.pptp['echo-interval'] * 1000;
    this.controlTimers = {
      handshakeTimeoutMs: handshakeMs,
      echoIntervalMs: echoMs,
      echoReplyTimeoutMs: echoMs > 0 ? echoMs : 60_000,
      idleTimeoutMs: handshakeMs,
    };
    this.randomInt = env.random ? randomIntFrom(env.random) : undefined;
    const mppeOverhead = config.ppp.nomppe ? 0 : 4;
    this.interfaceMtu = Math.min(config.ppp.mtu ?? 1500, 1500 - 40) - mppeOverhead;
  }

  // Memory: a server holds thousands of connections and calls. Their configuration and event
  // handlers are two small objects with methods on the prototype, not a dozen closures each.

  /** GRE settings, the same for every call. */
  private readonly greTuning: GreTuning;
  /** PPTP control time-outs, the same for every connection. */
  private readonly controlTimers: Partial<PptpControlTimers>;
  private readonly randomInt: ((n: number) => number) | undefined;
  private pppBase: PppUnitOptions | undefined;
  /** RADIUS authentication (`radius.order` includes "radius"), once {@link start} opened its transport. */
  radiusAuth: RadiusAuthenticator | undefined;
  private radiusTransport: { close(): void } | undefined;
  private readonly writeLimits: ControlWriteLimits;
  private readonly controlLimits: Partial<PptpControlLimits>;
  private readonly now = (): number => this.clock.now();

  /** One control connection's engine configuration and event handlers. */
  private static readonly ConnectionHooks = class implements PptpControlConfig, ControlEvents {
    readonly role = 'pac' as const;
    readonly log: Logger;
    readonly hostName: string;
    readonly packetRecvWindowSize: number;
    readonly maximumChannels: number;
    readonly timers: Partial<PptpControlTimers>;
    readonly limits: Partial<PptpControlLimits>;
    readonly randomInt: ((n: number) => number) | undefined;

    constructor(
      private readonly server: PptpServer,
      private readonly conn: Connection,
      /** The peer's address (uint32): Call IDs are unique per peer address. */
      private readonly peer: number,
      private readonly connLog: Logger,
    ) {
      const cfg = server.config;
      this.log = conn.log.wrap(demoteInfo(conn.log.inner));
      this.hostName = cfg.name;
      this.packetRecvWindowSize = cfg.pptp['receive-window'];
      this.maximumChannels = Math.min(cfg.limits['max-sessions'], 0xffff);
      this.timers = server.controlTimers;
      this.limits = server.controlLimits;
      this.randomInt = server.randomInt;
    }

    isCallIdAvailable(callId: number): boolean {
      return !this.server.endpoint!.isCallIdTaken(callId, this.peer);
    }

    admitOutgoingCall(): PptpAdmission {
      const server = this.server;
      const limits = server.config.limits;
      const refusal: CallRefusal | undefined = server.stopping
        ? 'shutting down'
        : server.callCount >= limits['max-sessions']
          ? 'max-sessions'
          : this.conn.driver.engine.callCount >= limits['max-calls-per-connection']
            ? 'max-calls-per-connection'
            : server.admission.check(this.conn.remote);
      if (refusal === undefined) return { accept: true };
      server.countRefusal(refusal);
      this.conn.log.log('warn', 'call refused', { reason: refusal });
      return refusalAnswer(refusal);
    }

    overflow(detail: string): void {
      this.server.counters.controlWriteOverflows++;
      this.connLog.log('warn', 'control connection dropped: the peer does not read what we send', {
        detail,
      });
    }

    callUp(call: PptpCallParameters): void {
      this.server.startCall(this.conn, call);
    }

    callDown(callId: number, reason: PptpCallEndReason): void {
      // The end of the whole connection is reported by `closed`, with its reason.
      if (reason.kind === 'connection-closed') return;
      const call = this.conn.calls.get(callId);
      if (!call) return;
      call.endCause ??= causeOfCallEnd(reason);
      this.server.endCall(call, describeCallEndReason(reason));
    }

    closed(reason: PptpCloseReason): void {
      const server = this.server;
      const conn = this.conn;
      conn.closed = true;
      conn.handshakeTimer?.cancel();
      conn.handshakeTimer = undefined;
      for (const call of [...conn.calls.values()]) {
        call.endCause ??= causeOfClose(reason);
        server.endCall(call, describeCloseReason(reason));
      }
      server.connections.delete(conn);
      conn.log.flush();
      const left = (server.perAddress.get(conn.remote) ?? 1) - 1;
      if (left > 0) server.perAddress.set(conn.remote, left);
      else server.perAddress.delete(conn.remote);
      this.connLog.log('debug', 'control connection closed', { reason: describeCloseReason(reason) });
    }
  };

  /** One call's session ports and events (what the session tells the server). */
  private static readonly CallHooks = class implements SessionPorts, SessionEvents {
    /** Set once the call record exists (right after its session). */
    call: ServerCall | undefined;
    /** The unit's `assignRemoteAddress` (called detached, so bound once here). */
    readonly assign: (peerName: string | undefined) => number | undefined;
    /** The authenticator's `failureDelayMs` (called detached, so bound once here). */
    readonly failureDelay: (peerName: string, reason: AuthFailureReason, method: AuthMethod) => number;

    constructor(
      private readonly server: PptpServer,
      private readonly log: Logger,
    ) {
      this.assign = this.assignAddress.bind(this);
      this.failureDelay = this.authFailed.bind(this);
    }

    private authFailed(peerName: string, reason: AuthFailureReason, method: AuthMethod): number {
      const call = this.call;
      return call ? this.server.authFailed(call, peerName, reason, method) : 0;
    }

    private assignAddress(peerName: string | undefined): number | undefined {
      const call = this.call;
      return call ? this.server.assignAddress(call, peerName, this.log) : undefined;
    }

    deliver(protocol: number, packet: Uint8Array): void {
      const call = this.call;
      if (call) this.server.fromSession(call, protocol, packet);
    }

    flush(): void {
      (this.call?.tun ?? this.server.sharedTun)?.flush();
    }

    /** The shared TUN is never paused (one slow call must not hold up the others). */
    wake(): void {
      this.call?.tun?.resume?.();
    }

    up(info: SessionInfo): void {
      const call = this.call;
      if (call) this.server.callUp(call, info, this.log);
    }

    networkDown(): void {
      const call = this.call;
      if (call) this.server.unroute(call);
    }

    dead(failure: PppFailure): void {
      const call = this.call;
      if (!call) return;
      call.endCause ??= causeOfPppFailure(failure);
      this.server.endCall(call, failure.message);
    }

    action(a: UnitAction): void {
      const call = this.call;
      if (call && a.kind === 'authenticated' && a.result.role === 'authenticator') {
        this.server.authenticated(call, a.result.peerName);
      }
      if (call && a.kind === 'ipv6cp-up' && !call.ipv6) {
        call.ipv6 = a.ipv6cp;
        const server = this.server;
        server.track(
          server.addIpv6(call, this.log).catch((err: unknown) => server.hostSetupFailed(call, err, this.log)),
          this.log,
        );
      }
    }
  };

  /** Where the server listens (after start). */
  get address(): { address: string; port: number } | undefined {
    return this.listener && { address: this.listener.address, port: this.listener.port };
  }

  /** Addresses free in the pool. */
  get poolAvailable(): number {
    return this.pool.available;
  }

  /** The shared GRE endpoint's counters (undefined before `start`): demultiplexer drops and the socket's Call ID filter. */
  get greCounters(): GreEndpointCounters | undefined {
    return this.endpoint?.counters;
  }

  /** Live calls. */
  sessions(): ServerSessionStatus[] {
    const out: ServerSessionStatus[] = [];
    for (const c of this.connections) {
      for (const call of c.calls.values()) out.push(this.statusOf(call));
    }
    return out;
  }

  private statusOf(call: ServerCall): ServerSessionStatus {
    return {
      id: call.id,
      callId: call.callId,
      peer: call.conn.remote,
      user: call.user,
      address: call.address === undefined ? undefined : ipv4ToString(call.address),
      up: call.info !== undefined,
      ifname: call.tun?.name ?? (this.shared ? this.sharedTun?.name : undefined),
      spoofedDropped: call.spoofed,
      greOutOfWindow: call.session.stats.gre.rxOutOfWindow,
      greResyncs: call.session.stats.gre.rxResyncs,
      ...(call.auth?.authorization ? { authorization: call.auth.authorization } : {}),
    };
  }

  private findCall(id: number): ServerCall | undefined {
    for (const c of this.connections) {
      for (const call of c.calls.values()) if (call.id === id) return call;
    }
    return undefined;
  }

  /** The live counters of session `id` (see {@link ServerSessionStatus.id}). */
  sessionStats(id: number): SessionStats | undefined {
    return this.findCall(id)?.session.stats;
  }

  /**
   * Ends session `id` as {@link kick} does. False when no live session has
   * that id.
   */
  kickById(
    id: number,
    reason = 'disconnected by the administrator',
    cause: SessionEndCause = 'admin-reset',
  ): boolean {
    const call = this.findCall(id);
    if (!call || call.ended) return false;
    this.kickCall(call, reason, cause);
    return true;
  }

  /** Live control connections. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Live sessions with their counters (management socket, metrics); read on request, not kept. */
  sessionDetails(): ServerSessionDetail[] {
    const out: ServerSessionDetail[] = [];
    for (const c of this.connections) {
      for (const call of c.calls.values()) out.push(this.detailOf(call));
    }
    return out;
  }

  /**
   * Drops the Session-Timeout the session's Access-Accept set: a CoA-Request's
   * Session-Timeout takes its place (RFC 5176 §3.2, src/server/das.ts).
   */
  cancelSessionLimit(id: number): void {
    const call = this.findCall(id);
    if (!call) return;
    call.limitTimer?.cancel();
    call.limitTimer = undefined;
  }

  /**
   * Ends the session after `seconds` without a data packet either way
   * (Idle-Timeout, RFC 2865 §5.28); 0 stops watching. A CoA-Request's
   * Idle-Timeout comes here (src/server/das.ts). False: no such session.
   */
  setIdleTimeout(id: number, seconds: number): boolean {
    const call = this.findCall(id);
    if (!call || call.ended) return false;
    if (!this.idle.change(id, seconds)) this.watchIdle(call, seconds);
    return true;
  }

  private watchIdle(call: ServerCall, seconds: number): void {
    const c = call.session.unit.counters;
    this.idle.watch(
      call.id,
      seconds,
      () => c.rxPackets + c.txPackets,
      (s) => {
        this.log.log('info', 'idle timeout: call cleared', { id: call.id, user: call.user, seconds: s });
        call.endCause ??= 'idle-timeout';
        this.endCall(call, 'idle timeout');
      },
    );
  }

  /** One session as observers and the management socket see it. */
  private detailOf(call: ServerCall): ServerSessionDetail {
    const info = call.info;
    const accounting = call.auth?.accounting?.();
    return {
      id: call.id,
      callId: call.callId,
      peer: call.conn.remote,
      user: call.user,
      address: call.address === undefined ? undefined : ipv4ToString(call.address),
      ifname: call.tun?.name ?? (this.shared ? this.sharedTun?.name : undefined),
      phase: call.session.unit.phase,
      up: info !== undefined,
      startedAt: call.startedAt,
      upAt: call.upAt,
      auth: info ? describeAuth(info.auth) : undefined,
      mppe: info ? describeMppe(info.mppe) : undefined,
      stats: call.session.stats,
      ...(accounting ? { accounting } : {}),
    };
  }

  /**
   * Ends the sessions `select` picks: LCP Terminate-Request carrying
   * `reason` (RFC 1661 §5.5: the Data field is uninterpreted, pppd puts its
   * reason there), then the usual end (Call-Disconnect-Notify, "session end"
   * with this reason). `cause` is what observers hear in `sessionEnded`
   * (accounting's Acct-Terminate-Cause). Returns how many were told.
   */
  kick(
    select: (s: ServerSessionDetail) => boolean,
    reason: string,
    cause: SessionEndCause = 'admin-reset',
  ): number {
    const picked = new Set(
      this.sessionDetails()
        .filter(select)
        .map((s) => s.id),
    );
    let n = 0;
    for (const c of this.connections) {
      for (const call of c.calls.values()) {
        if (!picked.has(call.id) || call.ended) continue;
        n++;
        this.kickCall(call, reason, cause);
      }
    }
    return n;
  }

  private kickCall(call: ServerCall, reason: string, cause: SessionEndCause): void {
    this.log.log('info', 'session kicked', {
      event: 'session-kick',
      id: call.id,
      peer: call.conn.remote,
      user: call.user,
      reason,
      cause,
    });
    call.endCause ??= cause;
    if (call.session.isDead) this.endCall(call, reason);
    else call.session.close(reason);
  }

  /**
   * The reloadable parts of a new config: \`limits\` (max-sessions and
   * max-connections-per-address for the next connection; handshake-timeout
   * stays) and \`client-to-client\`. Returns the keys that changed.
   */
  applyReload(next: ServerConfig): string[] {
    const cfg = this.config as { -readonly [K in keyof ServerConfig]: ServerConfig[K] };
    const changed: string[] = [];
    for (const k of ['max-sessions', 'max-connections-per-address'] as const) {
      if (cfg.limits[k] !== next.limits[k]) changed.push(`limits.${k}`);
    }
    if (changed.length) cfg.limits = { ...next.limits, 'handshake-timeout': cfg.limits['handshake-timeout'] };
    if (cfg['client-to-client'] !== next['client-to-client']) {
      cfg['client-to-client'] = next['client-to-client'];
      changed.push('client-to-client');
    }
    return changed;
  }

  /** Opens the GRE socket and the shared TUN, then listens. */
  async start(): Promise<void> {
    const cfg = this.config;
    const bind = cfg.listen === '0.0.0.0' ? undefined : cfg.listen;
    const endpoint = new GreEndpoint(this.env.openGre(bind), this.clock, this.log.child('gre'));
    this.endpoint = endpoint;
    try {
      if (this.shared) {
        const tun = this.env.openTun(cfg.interface.name);
        this.sharedTun = tun;
        this.sharedUndo = await this.env.host.configureSharedInterface(
          tun.name,
          cfg['local-ip'],
          this.interfaceMtu,
        );
        tun.start({
          onPacket: (p) => this.fromSharedTun(p),
          onBatchEnd: () => endpoint.flush(),
          onError: (err) => this.log.log('error', 'shared interface failed', { error: err.message }),
        });
      }
      endpoint.start();
      await this.startRadius();
      this.listener = await this.env.tcp.listen(cfg.listen, cfg.port, (s) => this.accept(s));
    } catch (err) {
      await this.closeLocal();
      throw err;
    }
    if (cfg.ppp.ipv6 && this.shared) {
      this.log.log('warn', 'ppp.ipv6 needs interface.mode "per-session": IPv6CP is not offered');
    }
    this.log.log('info', 'listening', {
      address: this.listener.address,
      port: this.listener.port,
      mode: cfg.interface.mode,
      ifname: this.sharedTun?.name,
      pool: cfg.pool,
    });
  }

  /**
   * Graceful shutdown, bounded by `limits.shutdown-timeout` whatever the
   * peers do: the listener stops accepting at once; every live session gets
   * an LCP Terminate-Request (reason `reason`) and a third of the time to
   * acknowledge it; then every call gets a Call-Disconnect-Notify (Admin
   * Shutdown) and every control connection a Stop-Control-Connection-Request
   * (Stop-Local-Shutdown), and the rest of the time for the replies; what is
   * left is destroyed, and the host changes are undone (each undo waited for
   * at most the same bound).
   */
  async shutdown(reason = 'server shutting down'): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const boundMs = this.config.limits['shutdown-timeout'] * 1000;
    const start = this.clock.now();
    const left = () => Math.max(0, start + boundMs - this.clock.now());
    this.log.log('info', 'shutting down', { reason, sessions: this.callCount });
    // net.Server.close() resolves only when every connection has gone: not awaited here.
    const listenerClosed = this.listener?.close();
    this.listener = undefined;
    const calls = [...this.connections].flatMap((c) => [...c.calls.values()]);
    for (const c of calls) c.endCause ??= 'nas-reboot';
    const live = calls.filter((c) => !c.session.isDead);
    for (const c of live) c.session.close(reason);
    await this.waitUntil(() => live.every((c) => c.session.isDead), Math.floor(boundMs / 3));
    for (const c of calls) this.endCall(c, reason);
    const conns = [...this.connections].filter((c) => !c.closed);
    for (const c of conns) c.driver.stop(PptpStopReason.StopLocalShutdown);
    // Leave a little of the bound for the local clean-up.
    await this.waitUntil(
      () => conns.every((c) => c.closed),
      Math.max(0, left() - Math.min(500, boundMs / 6)),
    );
    for (const c of [...this.connections]) c.driver.destroy();
    await this.waitUntil(() => this.pending.size === 0, left());
    await this.closeLocal(listenerClosed);
    this.log.log('info', 'stopped', {
      sessionsEnded: this.counters.sessionsEnded,
      seconds: (this.clock.now() - start) / 1000,
    });
  }

  private async closeLocal(listenerClosed?: Promise<void>): Promise<void> {
    try {
      await this.sharedUndo?.undo();
    } catch (err) {
      this.log.log('warn', 'could not undo the interface set-up', { error: (err as Error).message });
    }
    this.sharedUndo = undefined;
    this.sharedTun?.close();
    this.endpoint?.close();
    this.radiusTransport?.close();
    this.radiusTransport = undefined;
    this.idle.close();
    await (listenerClosed ?? this.listener?.close());
    await this.env.host.close?.();
  }

  /** Whether users are authenticated through RADIUS (`radius.order` includes "radius"). */
  get usesRadius(): boolean {
    return !this.env.callAuth && (this.config.radius?.order.includes('radius') ?? false);
  }

  /** Opens the RADIUS authentication client when the config asks for it (docs/radius.md). */
  private async startRadius(): Promise<void> {
    const r = this.config.radius;
    if (!r || !this.usesRadius) return;
    const servers = r.auth.map((s) => ({ ...parseRadiusAddress(s.address, 1812)!, secret: s.secret }));
    const listen = this.config.listen;
    const nasIp = r['nas-ip-address'] ?? (listen === '0.0.0.0' ? undefined : listen);
    const auth = new RadiusAuthenticator({
      servers,
      order: r.order,
      nasIdentifier: r['nas-identifier'] ?? this.config.name,
      ...(nasIp !== undefined ? { nasIpAddress: parseIpv4(nasIp)! } : {}),
      timeoutMs: r.timeout * 1000,
      retries: r.retries,
      deadTimeMs: r['dead-time'] * 1000,
      maxOutstanding: r['max-outstanding'],
      secrets: this.lookup,
      secretsPolicy: (peerName) => lookupSecret(this.env.secrets(), peerName, this.config.name)?.addresses,
      log: this.log.child('radius'),
      random: this.env.random ?? ((n) => new Uint8Array(randomBytes(n))),
    });
    if (!this.env.openRadius) {
      this.log.log('warn', 'radius: no transport in this environment: RADIUS requests fail');
    } else {
      const t = await this.env.openRadius(auth, servers);
      auth.connect(t);
      this.radiusTransport = t;
    }
    auth.onResult = (result, seconds) => {
      for (const o of this.observers) o.radiusAuthResult?.(result, seconds);
    };
    this.radiusAuth = auth;
    this.log.log('info', 'radius authentication', {
      servers: servers.map((s) => `${s.host}:${s.port}`).join(' '),
      order: r.order.join(','),
    });
  }

  /** Polls `done` after every timer tick of `clock` until true or `ms` passed. */
  private waitUntil(done: () => boolean, ms: number): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const deadline = this.clock.now() + ms;
      let timer: Timer | undefined;
      const check = () => {
        timer = undefined;
        if (done() || this.clock.now() >= deadline) {
          resolve();
          return;
        }
        timer = this.clock.setTimer(Math.min(50, deadline - this.clock.now()), check);
      };
      timer = this.clock.setTimer(0, check);
      void timer;
    });
  }

  private track<T>(p: Promise<T>, log: Logger = this.log): void {
    const q = p.catch((err: unknown) => log.log('warn', 'background task failed', { error: String(err) }));
    this.pending.add(q);
    void q.finally(() => this.pending.delete(q));
  }

  // ─── Connections ─────────────────────────────────────────────────────────

  private accept(socket: TcpSocket): void {
    const remote = plainIpv4(socket.remoteAddress) ?? '';
    const local = plainIpv4(socket.localAddress) ?? '';
    const limit = this.config.limits['max-connections-per-address'];
    const n = this.perAddress.get(remote) ?? 0;
    if (this.stopping || n >= limit || parseIpv4(remote) === undefined || parseIpv4(local) === undefined) {
      this.counters.connectionsRefused++;
      this.log.log('warn', 'connection refused', {
        peer: remote,
        reason: this.stopping
          ? 'shutting down'
          : n >= limit
            ? `${n} connections from this address`
            : 'not IPv4',
      });
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    this.perAddress.set(remote, n + 1);
    this.counters.connectionsAccepted++;
    const cfg = this.config;
    const id = this.nextConnId++;
    const lazyLog = lazyChild(this.log, 'pptp', { conn: id, peer: remote });
    const log = new RateLimitedLogger(lazyLog, this.warnings, this.now);
    const conn: Connection = {
      id,
      socket,
      remote,
      local,
      acceptedAt: this.clock.now(),
      driver: undefined as unknown as ControlDriver,
      calls: new Map(),
      handshakeTimer: undefined,
      closed: false,
      log,
    };
    const handshakeMs = cfg.limits['handshake-timeout'] * 1000;
    const hooks = new PptpServer.ConnectionHooks(this, conn, parseIpv4(remote)!, log);
    conn.driver = new ControlDriver(socket, hooks, this.clock, hooks, this.writeLimits);
    this.connections.add(conn);
    conn.handshakeTimer = this.clock.setTimer(handshakeMs, () => {
      conn.handshakeTimer = undefined;
      if (conn.closed) return;
      this.counters.handshakeTimeouts++;
      log.log('warn', 'no session came up in time: closing', { seconds: cfg.limits['handshake-timeout'] });
      for (const call of [...conn.calls.values()]) {
        call.endCause ??= 'lost-carrier';
        this.endCall(call, 'handshake time-out');
      }
      conn.driver.stop(PptpStopReason.None);
    });
    log.log('debug', 'control connection accepted', { local });
    conn.driver.start();
  }

  // ─── Calls ───────────────────────────────────────────────────────────────

  private startCall(conn: Connection, params: PptpCallParameters): void {
    const endpoint = this.endpoint!;
    const lazyLog = lazyChild(this.log, 'session', { peer: conn.remote, callId: params.callId });
    const log = new RateLimitedLogger(lazyLog, this.warnings, this.now);
    const hooks = new PptpServer.CallHooks(this, log);
    const callKey = { peer: conn.remote, callId: params.callId };
    const auth = this.env.callAuth?.(callKey) ?? this.radiusAuth?.callAuth(callKey);
    let session: PppSession;
    try {
      session = new PppSession({
        call: params,
        localAddress: conn.local,
        peerAddress: conn.remote,
        gre: this.greTuning,
        // The server-wide PPP settings, inherited; only the address hook and the logger are the call's.
        ppp: Object.assign(Object.create(this.basePppOptions()) as PppUnitOptions, {
          assignRemoteAddress: hooks.assign,
          authFailureDelayMs: hooks.failureDelay,
          log: log.wrap(demoteInfo(lazyChild(lazyLog, 'ppp'))),
          ...(auth ? { lookup: auth.lookup } : {}),
          ...(auth && 'authorization' in auth ? { networkPolicy: () => auth.authorization } : {}),
        }),
        ...(auth ? { hold: auth.hold } : {}),
        endpoint,
        clock: this.clock,
        log,
        ports: hooks,
        events: hooks,
      });
    } catch (err) {
      auth?.close();
      log.log('error', 'cannot create the session', { error: (err as Error).message });
      conn.driver.clearCall(params.callId, PptpDisconnectResult.GeneralError);
      return;
    }
    auth?.attach(session);
    const call: ServerCall = {
      id: this.nextSessionId++,
      conn,
      callId: params.callId,
      session,
      startedAt: this.clock.now(),
      user: undefined,
      address: undefined,
      upAt: undefined,
      info: undefined,
      tun: undefined,
      undo: [],
      spoofed: 0,
      c2cDropped: 0,
      ipUpRan: false,
      ended: false,
      ipv6: undefined,
      ipv6Added: false,
      auth,
      authenticated: false,
      authTimer: undefined,
      limitTimer: undefined,
      log,
      endCause: undefined,
    };
    hooks.call = call;
    conn.calls.set(params.callId, call);
    this.callCount++;
    this.admission.started(conn.remote);
    const authSeconds = this.config.limits['auth-timeout'];
    call.authTimer = this.clock.setTimer(authSeconds * 1000, () => {
      call.authTimer = undefined;
      if (call.ended || call.authenticated) return;
      this.counters.authTimeouts++;
      log.log('warn', 'no authentication in time: call cleared', { seconds: authSeconds });
      this.endCall(call, 'authentication time-out', PptpDisconnectResult.AdminShutdown);
    });
    this.counters.sessionsStarted++;
    log.log('debug', 'call connected, PPP starting');
    // The client speaks first (its Configure-Request follows our Outgoing-Call-Reply); ours
    // would race the reply and, lost, cost a 3 s LCP restart (PppSession.startWhenPeerSpeaks).
    session.startWhenPeerSpeaks(SERVER_PPP_START_WAIT_MS);
  }

  /** PPP settings for every call (made once; the secrets lookup reads the current secrets). */
  private basePppOptions(): PppUnitOptions {
    this.pppBase ??= this.pppOptions();
    return this.pppBase;
  }

  private pppOptions(): PppUnitOptions {
    const cfg = this.config;
    const p = cfg.ppp;
    const mppe: PppUnitOptions = p.nomppe
      ? { nomppe: true }
      : p['require-mppe-128'] || p['require-mppe-40']
        ? {
            requireMppe128: p['require-mppe-128'],
            requireMppe40: p['require-mppe-40'],
            mppeStateful: p['mppe-stateful'],
          }
        : { requireMppe: false, mppeStateful: p['mppe-stateful'] };
    return {
      lookup: this.lookup,
      name: cfg.name,
      msIgnoreDomain: p['ms-ignore-domain'],
      requireMschapV2: p['require-mschap-v2'],
      requireMschap: p['require-mschap'],
      requireChap: p['require-chap'],
      requirePap: p['require-pap'],
      ...mppe,
      ...(p.mtu !== undefined ? { mtu: p.mtu } : {}),
      ...(p.mru !== undefined ? { mru: p.mru } : {}),
      lcpEchoInterval: p['lcp-echo-interval'],
      lcpEchoFailure: p['lcp-echo-failure'],
      // The shared interface routes IPv4 only: IPv6 is offered in per-session mode.
      ipv6: p.ipv6 && !this.shared,
      localAddress: this.localIp,
      msDns: cfg['ms-dns'].map((d) => parseIpv4(d)!),
      msWins: cfg['ms-wins'].map((d) => parseIpv4(d)!),
      ...(this.env.random ? { random: this.env.random } : {}),
    };
  }

  private countRefusal(refusal: CallRefusal): void {
    const c = this.counters;
    c.callsRefused++;
    if (refusal === 'max-calls-per-connection') c.callsRefusedPerConnection++;
    else if (refusal === 'max-calls-per-address') c.callsRefusedPerAddress++;
    else if (refusal === 'max-starting') c.callsRefusedStarting++;
    else if (refusal === 'max-starting-per-address') c.callsRefusedStartingPerAddress++;
  }

  /**
   * A failed authentication attempt (the authenticator asks before it sends
   * the Failure): counted, logged with the client's address, the user name
   * and the method (one line a log watcher such as fail2ban can match), and
   * answered with the tarpit's delay.
   */
  private authFailed(call: ServerCall, user: string, reason: AuthFailureReason, method: AuthMethod): number {
    if (call.ended) return 0;
    this.counters.authFailures++;
    const delayMs = this.tarpit.failed(call.conn.remote, user, this.clock.now());
    call.user ??= user;
    // Not rate-limited: the tarpit already bounds how often this can happen, and a watcher needs every one.
    // `peer` is the control connection's source address, never a name the client chose, and comes before
    // the user name (which the client chose; the logger quotes it): the line fail2ban reads (contrib/fail2ban).
    this.log.log('warn', 'auth failure', {
      event: 'auth-failure',
      peer: call.conn.remote,
      user,
      method: authMethodName(method),
      reason,
      callId: call.callId,
      delayMs,
    });
    this.notifyAuthFailure({ method, role: 'authenticator', reason, detail: '', peerName: user });
    return delayMs;
  }

  /** Tells the observers (metrics) of one failed authentication; never per packet. */
  private notifyAuthFailure(f: AuthFailure): void {
    for (const o of this.observers) o.authFailure?.(f);
  }

  /** The call's peer authenticated: it stops counting as starting, and its failure counts reset. */
  private authenticated(call: ServerCall, user: string): void {
    if (call.ended || call.authenticated) return;
    call.authenticated = true;
    call.authTimer?.cancel();
    call.authTimer = undefined;
    this.admission.authenticated(call.conn.remote);
    this.tarpit.succeeded(call.conn.remote, user);
  }

  /**
   * The secrets file was re-read (SIGHUP): fixed addresses it now names are
   * taken out of dynamic use (a session holding one keeps it until it ends),
   * and those it no longer names go back to the pool.
   */
  secretsReloaded(): void {
    const fixed = new Set<number>();
    for (const e of this.env.secrets()) for (const a of e.addresses.fixed) fixed.add(a);
    fixed.delete(this.localIp);
    let added = 0;
    let removed = 0;
    for (const a of fixed) if (!this.reservedFixed.has(a) && this.pool.reserve(a)) added++;
    for (const a of this.reservedFixed) if (!fixed.has(a) && this.pool.unreserve(a)) removed++;
    this.reservedFixed = fixed;
    this.log.log('info', 'fixed addresses updated', {
      reserved: added,
      released: removed,
      pool: this.pool.toString(),
    });
  }

  /** Calls that have not authenticated yet (server-wide). */
  get startingCalls(): number {
    return this.admission.starting;
  }

  /** chap-secrets lookup (pppd's): client = the peer's name, server = our `name`. */
  private readonly lookup: CredentialLookup = (req) => {
    const e = lookupSecret(this.env.secrets(), req.peerName, this.config.name);
    if (!e) return undefined;
    // `-` in the address column: "no address may be given" — the account may not dial in.
    if (e.addresses.none) return { refuse: 'no-dialin-permission' } satisfies Credential;
    return { password: e.secret };
  };

  private assignAddress(call: ServerCall, peerName: string | undefined, log: Logger): number | undefined {
    if (call.address !== undefined) return call.address;
    call.user = peerName;
    const policy: AddressPolicy | undefined = call.auth
      ? call.auth.addressPolicy(peerName)
      : peerName === undefined
        ? undefined
        : lookupSecret(this.env.secrets(), peerName, this.config.name)?.addresses;
    const a = this.pool.allocate(policy);
    if (a === undefined) {
      log.log('warn', 'no address for this session', { user: peerName, pool: this.pool.toString() });
      return undefined;
    }
    call.address = a;
    return a;
  }

  private callUp(call: ServerCall, info: SessionInfo, log: Logger): void {
    if (call.ended) return;
    const addr = parseIpv4(info.remoteAddress);
    if (addr === undefined || addr !== call.address) {
      log.log('warn', 'the peer ended up with an address we did not assign', { address: info.remoteAddress });
      call.session.close('address not assigned');
      return;
    }
    const other = this.byAddress.get(addr);
    if (other && other !== call) {
      call.session.close('address in use');
      return;
    }
    if (call.upAt !== undefined) {
      // Up again after LCP/IPCP renegotiated, with the same address: route it again; the
      // host route and hooks stayed in place.
      call.info = info;
      this.byAddress.set(addr, call);
      log.log('info', 'session back up', { user: call.user, address: info.remoteAddress });
      return;
    }
    call.info = info;
    call.upAt = this.clock.now();
    call.user ??= info.peerName;
    this.byAddress.set(addr, call);
    this.counters.sessionsUp++;
    if (this.observers.length) {
      const detail = this.detailOf(call);
      for (const o of this.observers) o.sessionUp?.((call.upAt - call.conn.acceptedAt) / 1000, detail);
    }
    call.conn.handshakeTimer?.cancel();
    call.conn.handshakeTimer = undefined;
    const cfg = this.config;
    const z = call.auth?.authorization;
    const mtu = Math.min(info.mtu, this.interfaceMtu, z?.framedMtu ?? Number.POSITIVE_INFINITY);
    if (z?.sessionTimeout !== undefined && !call.limitTimer) {
      // RFC 2865 §5.27: "the maximum number of seconds of service to be provided to the user".
      const seconds = Math.min(z.sessionTimeout, MAX_SESSION_TIMEOUT_S);
      call.limitTimer = this.clock.setTimer(seconds * 1000, () => {
        call.limitTimer = undefined;
        log.log('info', 'session timeout: call cleared', { seconds });
        call.endCause ??= 'session-timeout';
        this.endCall(call, 'session timeout');
      });
    }
    const idle = z?.idleTimeout ?? cfg.ppp.idle;
    if (idle) this.watchIdle(call, idle);
    this.track(
      (async () => {
        let ifname: string;
        try {
          if (this.shared) {
            ifname = this.sharedTun!.name;
            const u = await this.env.host.addClientRoute(ifname, info.remoteAddress, cfg['local-ip'], mtu);
            if (call.ended) {
              await u.undo();
              return;
            }
            call.undo.push(u);
          } else {
            const tun = this.env.openTun(perSessionPattern(cfg.interface.name));
            if (call.ended) {
              tun.close();
              return;
            }
            call.tun = tun;
            ifname = tun.name;
            tun.start({
              onPacket: (p) => {
                if (call.ended) return;
                call.session.sendPacket(p);
                // Backpressure: this interface feeds one call, so it waits while the peer's window is closed.
                if (call.session.transmitBlocked) tun.pause?.();
              },
              onBatchEnd: () => this.endpoint?.flush(),
            });
            const u = await this.env.host.configurePointToPoint(
              ifname,
              cfg['local-ip'],
              info.remoteAddress,
              info.mtu,
            );
            if (call.ended) {
              await u.undo();
              return;
            }
            call.undo.push(u);
            await this.addIpv6(call, log);
          }
        } catch (err) {
          this.hostSetupFailed(call, err, log);
          return;
        }
        if (call.ended) return;
        log.log('info', 'session up', {
          event: 'session-up',
          id: call.id,
          user: call.user,
          address: info.remoteAddress,
          ifname,
          mtu: info.mtu,
          auth: describeAuth(info.auth),
          mppe: describeMppe(info.mppe),
          sessions: this.byAddress.size,
        });
        if (!call.ended) this.env.sessionEvents?.up(this.statusOf(call), info);
        if (cfg.hooks['ip-up'] && this.env.runHook) {
          call.ipUpRan = true;
          await this.env.runHook(cfg.hooks['ip-up'], 'ip-up', this.hookContext(call, ifname));
        }
      })(),
      log,
    );
  }

  /**
   * The route, interface or address of a session could not be set up: its
   * traffic would vanish, so the session ends, with a reason the peer sees
   * (LCP Terminate-Request text, then Call-Disconnect-Notify General Error)
   * and the log says.
   */
  private hostSetupFailed(call: ServerCall, err: unknown, log: Logger): void {
    const detail = err instanceof Error ? err.message : String(err);
    if (call.ended) {
      log.log('warn', 'session set-up failed after the session ended', { error: detail });
      return;
    }
    this.counters.hostSetupFailures++;
    log.log('error', 'session set-up failed: ending the session', { user: call.user, error: detail });
    const reason = `host set-up failed: ${detail}`;
    call.endCause ??= 'nas-error';
    call.session.close('host set-up failed');
    this.endCall(call, reason, PptpDisconnectResult.GeneralError);
  }

  /**
   * Per-session mode with IPV6CP: the link-local pair on the session's
   * interface, once both exist (IPV6CP and IPCP come up in either order).
   */
  private async addIpv6(call: ServerCall, log: Logger): Promise<void> {
    const n = call.ipv6;
    const tun = call.tun;
    if (!n || !tun || call.ipv6Added || call.ended) return;
    call.ipv6Added = true;
    const u = await this.env.host.addLinkLocal(tun.name, n.localIdentifier, n.remoteIdentifier);
    if (call.ended) {
      await u.undo();
      return;
    }
    call.undo.push(u);
    log.log('info', 'session IPv6 up', {
      ifname: tun.name,
      local: n.localLinkLocal,
      remote: n.remoteLinkLocal,
    });
  }

  private hookContext(call: ServerCall, ifname: string, down = false): HookContext {
    const c = call.session.stats.ppp;
    return {
      ifname,
      device: call.conn.remote,
      localIp: this.config['local-ip'],
      remoteIp: call.info?.remoteAddress ?? (call.address === undefined ? '' : ipv4ToString(call.address)),
      peerName: call.user ?? '',
      ...(down
        ? {
            connectTimeSeconds: (this.clock.now() - (call.upAt ?? call.startedAt)) / 1000,
            bytesSent: c.txBytes,
            bytesReceived: c.rxBytes,
          }
        : {}),
    };
  }

  /** IPv4 stopped passing (IPCP renegotiation): no traffic is routed to the session meanwhile. */
  private unroute(call: ServerCall): void {
    if (call.address !== undefined && this.byAddress.get(call.address) === call)
      this.byAddress.delete(call.address);
    call.info = undefined;
  }

  /**
   * The end of a call, whatever the reason: the session is freed, its
   * address goes back to the pool, its route and interface go away, the
   * peer gets a Call-Disconnect-Notify if the call is still up, and one
   * "session end" line is logged. Idempotent.
   */
  private endCall(
    call: ServerCall,
    reason: string,
    resultCode: number = PptpDisconnectResult.AdminShutdown,
  ): void {
    if (call.ended) return;
    call.ended = true;
    call.authTimer?.cancel();
    call.authTimer = undefined;
    call.limitTimer?.cancel();
    call.limitTimer = undefined;
    this.idle.unwatch(call.id);
    const conn = call.conn;
    this.admission.ended(conn.remote, !call.authenticated);
    const session = call.session;
    if (!session.isDead) session.lowerDown();
    const stats = session.stats;
    const failure = session.unit.failureReason;
    call.user ??= failure?.auth?.peerName;
    session.destroy();
    call.auth?.close();
    conn.calls.delete(call.callId);
    this.callCount--;
    this.counters.sessionsEnded++;
    if (call.address !== undefined) {
      if (this.byAddress.get(call.address) === call) this.byAddress.delete(call.address);
      this.pool.release(call.address);
    }
    if (!conn.closed) conn.driver.clearCall(call.callId, resultCode);
    const ifname = call.tun?.name ?? this.sharedTun?.name ?? '';
    const undo = call.undo.splice(0);
    const tun = call.tun;
    const hook = call.ipUpRan ? this.config.hooks['ip-down'] : undefined;
    const ctx = hook ? this.hookContext(call, ifname, true) : undefined;
    this.track(
      (async () => {
        for (const u of undo.reverse()) await u.undo();
        tun?.close();
        if (hook && ctx && this.env.runHook) await this.env.runHook(hook, 'ip-down', ctx);
      })(),
    );
    // Failed attempts were reported as they happened (authFailed); a peer that never answered was not.
    if (failure?.auth?.role === 'authenticator' && failure.auth.reason === 'timed-out') {
      this.notifyAuthFailure(failure.auth);
    }
    const cause = call.endCause ?? causeOfPppFailure(failure);
    if (this.observers.length) {
      const e = {
        stats,
        failure,
        wasUp: call.upAt !== undefined,
        session: this.detailOf(call),
        cause,
        reason,
      };
      for (const o of this.observers) o.sessionEnded?.(e);
    }
    const now = this.clock.now();
    this.log.log('info', 'session end', {
      event: 'session-down',
      id: call.id,
      peer: conn.remote,
      callId: call.callId,
      user: call.user,
      address: call.address === undefined ? undefined : ipv4ToString(call.address),
      seconds: Math.round((now - (call.upAt ?? call.startedAt)) / 100) / 10,
      rxBytes: stats.ppp.rxBytes,
      txBytes: stats.ppp.txBytes,
      rxPackets: stats.ppp.rxPackets,
      txPackets: stats.ppp.txPackets,
      spoofed: call.spoofed,
      greQueueDrops: stats.gre.txDroppedQueueFull,
      greLost: stats.gre.rxLost,
      greOutOfWindow: stats.gre.rxOutOfWindow,
      reason,
      cause,
      sessions: this.callCount,
    });
    this.env.sessionEvents?.down(this.statusOf(call), reason, stats, call.upAt !== undefined);
    call.log.flush();
  }

  // ─── Data path ───────────────────────────────────────────────────────────

  /** A packet the host routed into the shared TUN: to the session owning its destination. */
  private fromSharedTun(p: Uint8Array): void {
    if (p.length < 20 || p[0]! >>> 4 !== 4) {
      this.counters.notIpv4Dropped++;
      return;
    }
    const call = this.byAddress.get(u32(p, 16));
    if (!call) {
      this.counters.noSessionDropped++;
      return;
    }
    call.session.sendPacket(p);
  }

  /** Drops and counts a packet whose source is not the session's; logs the first few per session. */
  private spoofed(call: ServerCall, source: string): void {
    call.spoofed++;
    this.counters.spoofedDropped++;
    if (call.spoofed <= MAX_SPOOF_LOGS_PER_SESSION) {
      this.log.log('warn', 'spoofed source address dropped', {
        peer: call.conn.remote,
        callId: call.callId,
        user: call.user,
        source,
      });
    }
  }

  /** A packet from a session's peer: anti-spoofing, client-to-client policy, then the interface. */
  private fromSession(call: ServerCall, protocol: number, p: Uint8Array): void {
    const tun = call.tun ?? this.sharedTun;
    if (protocol !== PppProtocol.Ipv4) {
      // Shared mode routes IPv4 only; a per-session TUN takes IPv6 too, from the peer's own addresses.
      if (!call.tun) this.counters.notIpv4Dropped++;
      else if (ipv6SourceAllowed(p, call.ipv6)) call.tun.write(p);
      else this.spoofed(call, p.length >= 40 ? ipv6SourceText(p) : 'short packet');
      return;
    }
    if (p.length < 20 || call.address === undefined || u32(p, 12) !== call.address) {
      this.spoofed(call, p.length >= 20 ? ipv4ToString(u32(p, 12)) : 'short packet');
      return;
    }
    const other = this.byAddress.get(u32(p, 16));
    if (other !== undefined && other !== call) {
      if (!this.config['client-to-client']) {
        call.c2cDropped++;
        this.counters.clientToClientDropped++;
        return;
      }
      this.counters.clientToClientForwarded++;
      other.session.sendPacket(p);
      return;
    }
    tun?.write(p);
  }
}

/**
 * IPv6 anti-spoofing for a per-session interface: the source must carry the
 * interface identifier the peer negotiated with IPV6CP (RFC 5072 §4.1), under
 * any prefix — fe80::/64 (its link-local address, RFC 5072 §5) or a prefix
 * the operator advertises on the interface, from which the peer forms its
 * address with that same identifier (RFC 5072 §5: the identifier is used
 * for stateless address autoconfiguration). The unspecified address is
 * allowed for ICMPv6 only (Duplicate Address Detection, RFC 4862 §5.4).
 * Nothing passes before IPV6CP is up. (Temporary addresses, RFC 4941, with
 * random identifiers, are therefore refused: they cannot be told from a
 * forged source.)
 */
export function ipv6SourceAllowed(p: Uint8Array, n: Ipv6cpNegotiated | undefined): boolean {
  if (n === undefined || p.length < 40 || p[0]! >>> 4 !== 6) return false;
  const id = n.remoteIdentifier;
  let unspecified = true;
  for (let i = 8; i < 24; i++) {
    if (p[i] !== 0) {
      unspecified = false;
      break;
    }
  }
  if (unspecified) return p[6] === 58;
  if (p[8] === 0xff) return false; // a multicast source is never valid (RFC 4291 §2.7)
  for (let i = 0; i < 8; i++) if (p[16 + i] !== id[i]) return false;
  return true;
}

/** The IPv6 source address of `p` (at least 40 bytes), uncompressed hex groups. */
function ipv6SourceText(p: Uint8Array): string {
  const g: string[] = [];
  for (let i = 8; i < 24; i += 2) g.push(((p[i]! << 8) | p[i + 1]!).toString(16));
  return g.join(':');
}

export { demoteInfo } from './lazy-log.js';
