/**
 * A call's life on the server, from the Outgoing-Call-Request its control
 * connection accepted to its teardown (docs/client-server.md "Sessions"):
 *
 * ```
 *  callUp ─▶ PppSession (GRE channel + PPP unit, authenticator role)
 *     PPP: auth (chap-secrets or RADIUS) ─▶ address (pool / fixed) ─▶ IPCP (DNS pushed) [─▶ CCP/MPPE]
 *     up: route CLIENT/32 into the shared TUN (or its own TUN), ip-up, "session up" log
 *     end (any reason): CDN, route/address/pool entry/Call ID freed, ip-down, "session end" log
 * ```
 *
 * Memory: a server holds thousands of calls. A call is one record
 * ({@link ServerCall}) and one {@link CallHooks} (its session's ports and
 * events, methods on the prototype), not a dozen closures.
 */
import type { Clock } from '../io/clock.js';
import type { Logger } from '../log/logger.js';
import type { AuthFailure, AuthFailureReason, AuthMethod, CredentialLookup } from '../ppp/auth/index.js';
import { authMethodName } from '../ppp/lcp.js';
import type { PppFailure, PppUnitOptions, UnitAction } from '../ppp/unit.js';
import type { PptpCallParameters } from '../pptp/control-types.js';
import type { GreEndpoint } from '../session/gre-endpoint.js';
import {
  describeAuth,
  describeMppe,
  type GreTuning,
  PppSession,
  type SessionEvents,
  type SessionInfo,
  type SessionPorts,
} from '../session/session.js';
import { ipv4ToString, parseIpv4 } from '../wire/bytes.js';
import { PptpDisconnectResult } from '../wire/pptp/index.js';
import { AuthTarpit, CallAdmission, RateLimitedLogger, type WarnBuckets } from './admission.js';
import type { CallNetwork } from './call-network.js';
import { type AddressPolicy, lookupSecret } from './chap-secrets.js';
import type { ServerConfig } from './config.js';
import { causeOfPppFailure, type SessionEndCause } from './end-cause.js';
import { IdleWatch } from './idle-timeout.js';
import type { IpPool } from './ip-pool.js';
import { demoteInfo, lazyChild } from './lazy-log.js';
import type { ServerObserver, ServerSessionDetail } from './observer.js';
import { serverPppOptions } from './ppp-options.js';
import type { RadiusAuthenticator } from './radius-auth.js';
import type {
  Connection,
  ServerCall,
  ServerCounters,
  ServerEnv,
  ServerSessionStatus,
} from './server-types.js';
import { authLimitMet, startAuthLimit, startSessionLimit, stopCallLimits } from './session-limits.js';
import type { TunRouter } from './tun-router.js';

/** How long a new call waits for the client's first PPP frame before LCP starts on its own. */
export const SERVER_PPP_START_WAIT_MS = 1000;

/** What one call's session tells the server (its ports and events). */
class CallHooks implements SessionPorts, SessionEvents {
  /** Set once the call record exists (right after its session). */
  call: ServerCall | undefined;
  /** The unit's `assignRemoteAddress` (called detached, so bound once here). */
  readonly assign: (peerName: string | undefined) => number | undefined;
  /** The authenticator's `failureDelayMs` (called detached, so bound once here). */
  readonly failureDelay: (peerName: string, reason: AuthFailureReason, method: AuthMethod) => number;

  constructor(
    private readonly calls: CallLifecycle,
    private readonly log: Logger,
  ) {
    this.assign = this.assignAddress.bind(this);
    this.failureDelay = this.authFailed.bind(this);
  }

  private authFailed(peerName: string, reason: AuthFailureReason, method: AuthMethod): number {
    const call = this.call;
    return call ? this.calls.authFailed(call, peerName, reason, method) : 0;
  }

  private assignAddress(peerName: string | undefined): number | undefined {
    const call = this.call;
    return call ? this.calls.assignAddress(call, peerName, this.log) : undefined;
  }

  deliver(protocol: number, packet: Uint8Array): void {
    const call = this.call;
    if (call) this.calls.router.fromSession(call, protocol, packet);
  }

  flush(): void {
    (this.call?.tun ?? this.calls.router.sharedTun)?.flush();
  }

  /** The shared TUN is never paused (one slow call must not hold up the others). */
  wake(): void {
    this.call?.tun?.resume?.();
  }

  up(info: SessionInfo): void {
    const call = this.call;
    if (call) this.calls.callUp(call, info, this.log);
  }

  networkDown(): void {
    const call = this.call;
    if (call) this.calls.networkDown(call);
  }

  dead(failure: PppFailure): void {
    const call = this.call;
    if (!call) return;
    call.endCause ??= causeOfPppFailure(failure);
    this.calls.endCall(call, failure.message);
  }

  action(a: UnitAction): void {
    const call = this.call;
    if (call && a.kind === 'authenticated' && a.result.role === 'authenticator') {
      this.calls.authenticated(call, a.result.peerName);
    }
    if (call && a.kind === 'ipv6cp-up' && !call.ipv6) {
      call.ipv6 = a.ipv6cp;
      this.calls.ipv6Up(call, this.log);
    }
  }
}

/** Every call of one server: their start, authentication, address, host set-up and end. */
export class CallLifecycle {
  /** Told when a connection's first session comes up (its set-up slot frees: src/server/control-connections.ts). */
  connectionSetUp: ((conn: Connection) => void) | undefined = undefined;

  /** Live calls. */
  callCount = 0;
  private nextSessionId = 1;
  /** The shared GRE endpoint, once the server started. */
  endpoint: GreEndpoint | undefined;
  /** RADIUS authentication, once the server opened its transport. */
  radiusAuth: RadiusAuthenticator | undefined;
  readonly admission: CallAdmission;
  private readonly tarpit: AuthTarpit;
  /** Largest interface MTU a session may get: the shared TUN's MTU. */
  readonly interfaceMtu: number;
  /** GRE settings, the same for every call. */
  private readonly greTuning: GreTuning;
  private pppBase: PppUnitOptions | undefined;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly now = (): number => this.clock.now();
  /** Idle-Timeout and `ppp.idle` (src/server/idle-timeout.ts). */
  readonly idle: IdleWatch;

  constructor(
    private readonly config: ServerConfig,
    /** Read at each use: tests replace its methods. */
    private readonly env: ServerEnv,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly counters: ServerCounters,
    private readonly observers: readonly ServerObserver[],
    private readonly pool: IpPool,
    /** Server-wide warning buckets (each connection and session also has its own). */
    private readonly warnings: WarnBuckets,
    /** chap-secrets lookup, for the PPP units (RADIUS falls back to it too). */
    private readonly lookup: CredentialLookup,
    readonly router: TunRouter,
    private readonly network: CallNetwork,
  ) {
    this.idle = new IdleWatch(clock);
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
    this.greTuning = {
      ignorePeerWindow: config.pptp['ignore-peer-window'],
      ackTimeoutMs: config.pptp['ack-timeout-ms'],
      reorderTimeoutMs: config.pptp['reorder-timeout-ms'],
    };
    // Path MTU 1500 − 40 (IPv4 + GRE + PPP) − 4 (MPPE), unless the config says less.
    const mppeOverhead = config.ppp.nomppe ? 0 : 4;
    this.interfaceMtu = Math.min(config.ppp.mtu ?? 1500, 1500 - 40) - mppeOverhead;
  }

  /** Background work (host set-up and teardown, hooks) not finished yet. */
  get pendingTasks(): number {
    return this.pending.size;
  }

  /** Runs `p` in the background; shutdown waits for it (bounded). */
  track<T>(p: Promise<T>, log: Logger = this.log): void {
    const q = p.catch((err: unknown) => log.log('warn', 'background task failed', { error: String(err) }));
    this.pending.add(q);
    void q.finally(() => this.pending.delete(q));
  }

  /** The control connection `conn` accepted a call: its PPP session starts (the client speaks first). */
  startCall(conn: Connection, params: PptpCallParameters): void {
    const endpoint = this.endpoint!;
    const lazyLog = lazyChild(this.log, 'session', { peer: conn.remote, callId: params.callId });
    const log = new RateLimitedLogger(lazyLog, this.warnings, this.now);
    const hooks = new CallHooks(this, log);
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
    startAuthLimit(this, call, this.config.limits['auth-timeout'], this.clock, this.counters);
    this.counters.sessionsStarted++;
    log.log('debug', 'call connected, PPP starting');
    // The client speaks first (its Configure-Request follows our Outgoing-Call-Reply); ours
    // would race the reply and, lost, cost a 3 s LCP restart (PppSession.startWhenPeerSpeaks).
    session.startWhenPeerSpeaks(SERVER_PPP_START_WAIT_MS);
  }

  /** PPP settings for every call (made once; the secrets lookup reads the current secrets). */
  private basePppOptions(): PppUnitOptions {
    this.pppBase ??= serverPppOptions(
      this.config,
      this.lookup,
      parseIpv4(this.config['local-ip'])!,
      this.env.random,
    );
    return this.pppBase;
  }

  /**
   * A failed authentication attempt (the authenticator asks before it sends
   * the Failure): counted, logged with the client's address, the user name
   * and the method (one line a log watcher such as fail2ban can match), and
   * answered with the tarpit's delay.
   */
  authFailed(call: ServerCall, user: string, reason: AuthFailureReason, method: AuthMethod): number {
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
  authenticated(call: ServerCall, user: string): void {
    if (call.ended || call.authenticated) return;
    call.authenticated = true;
    authLimitMet(call);
    this.admission.authenticated(call.conn.remote);
    this.tarpit.succeeded(call.conn.remote, user);
  }

  /** The unit asks for the peer's address: the call's own, or one from the pool by the peer's policy. */
  assignAddress(call: ServerCall, peerName: string | undefined, log: Logger): number | undefined {
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

  /** IPv4 passes: the call is routed, its limits start and its host side is set up (in the background). */
  callUp(call: ServerCall, info: SessionInfo, log: Logger): void {
    if (call.ended) return;
    const router = this.router;
    const addr = parseIpv4(info.remoteAddress);
    if (addr === undefined || addr !== call.address) {
      log.log('warn', 'the peer ended up with an address we did not assign', { address: info.remoteAddress });
      call.session.close('address not assigned');
      return;
    }
    const other = router.routedAt(addr);
    if (other && other !== call) {
      call.session.close('address in use');
      return;
    }
    if (call.upAt !== undefined) {
      // Up again after LCP/IPCP renegotiated, with the same address: route it again; the
      // host route and hooks stayed in place.
      call.info = info;
      router.route(addr, call);
      log.log('info', 'session back up', { user: call.user, address: info.remoteAddress });
      return;
    }
    call.info = info;
    call.upAt = this.clock.now();
    call.user ??= info.peerName;
    router.route(addr, call);
    this.counters.sessionsUp++;
    if (this.observers.length) {
      const detail = this.detailOf(call);
      for (const o of this.observers) o.sessionUp?.((call.upAt - call.conn.acceptedAt) / 1000, detail);
    }
    call.conn.handshakeTimer?.cancel();
    call.conn.handshakeTimer = undefined;
    this.connectionSetUp?.(call.conn);
    const z = call.auth?.authorization;
    const mtu = Math.min(info.mtu, this.interfaceMtu, z?.framedMtu ?? Number.POSITIVE_INFINITY);
    startSessionLimit(this, call, z, this.clock);
    const idle = z?.idleTimeout ?? this.config.ppp.idle;
    if (idle) this.watchIdle(call, idle);
    this.track(this.bringUp(call, info, mtu, log), log);
  }

  /**
   * Ends the session after `seconds` without a data packet either way
   * (Idle-Timeout, RFC 2865 §5.28); 0 stops watching. A CoA-Request's
   * Idle-Timeout comes here (src/server/radius-das.ts).
   */
  setIdleTimeout(call: ServerCall, seconds: number): void {
    if (!this.idle.change(call.id, seconds)) this.watchIdle(call, seconds);
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

  /** The host side of a call that came up: route or interface, "session up", ip-up. */
  private async bringUp(call: ServerCall, info: SessionInfo, mtu: number, log: Logger): Promise<void> {
    let ifname: string | undefined;
    try {
      ifname = await this.network.setUp(call, info, mtu, log);
    } catch (err) {
      this.hostSetupFailed(call, err, log);
      return;
    }
    if (ifname === undefined || call.ended) return;
    log.log('info', 'session up', {
      event: 'session-up',
      id: call.id,
      user: call.user,
      address: info.remoteAddress,
      ifname,
      mtu: info.mtu,
      auth: describeAuth(info.auth),
      mppe: describeMppe(info.mppe),
      sessions: this.router.size,
    });
    if (!call.ended) this.env.sessionEvents?.up(this.statusOf(call), info);
    await this.network.ipUp(call, ifname);
  }

  /** IPV6CP came up (per-session mode adds the link-local pair once the interface exists). */
  ipv6Up(call: ServerCall, log: Logger): void {
    this.track(
      this.network.addIpv6(call, log).catch((err: unknown) => this.hostSetupFailed(call, err, log)),
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

  /** IPv4 stopped passing (IPCP renegotiation): no traffic is routed to the session meanwhile. */
  networkDown(call: ServerCall): void {
    this.router.unroute(call);
    call.info = undefined;
  }

  /** Ends `call` with an LCP Terminate-Request carrying `reason` (or at once if its PPP is gone). */
  kickCall(call: ServerCall, reason: string, cause: SessionEndCause): void {
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
   * The end of a call, whatever the reason: the session is freed, its
   * address goes back to the pool, its route and interface go away, the
   * peer gets a Call-Disconnect-Notify if the call is still up, and one
   * "session end" line is logged. Idempotent.
   */
  endCall(call: ServerCall, reason: string, resultCode: number = PptpDisconnectResult.AdminShutdown): void {
    if (call.ended) return;
    call.ended = true;
    stopCallLimits(call);
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
      this.router.unroute(call);
      this.pool.release(call.address);
    }
    if (!conn.closed) conn.driver.clearCall(call.callId, resultCode);
    this.track(this.network.tearDown(call));
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

  /** The interface a call's traffic uses: its own, or the shared one. */
  private ifnameOf(call: ServerCall): string | undefined {
    return (
      call.tun?.name ?? (this.config.interface.mode === 'shared' ? this.router.sharedTun?.name : undefined)
    );
  }

  /** Who a call is: the fields status lines and session details both start with. */
  private identityOf(call: ServerCall) {
    return {
      id: call.id,
      callId: call.callId,
      peer: call.conn.remote,
      user: call.user,
      address: call.address === undefined ? undefined : ipv4ToString(call.address),
      ifname: this.ifnameOf(call),
    };
  }

  /** A live call, for status output and tests. */
  statusOf(call: ServerCall): ServerSessionStatus {
    return {
      ...this.identityOf(call),
      up: call.info !== undefined,
      spoofedDropped: call.spoofed,
      greOutOfWindow: call.session.stats.gre.rxOutOfWindow,
      greResyncs: call.session.stats.gre.rxResyncs,
      ...(call.auth?.authorization ? { authorization: call.auth.authorization } : {}),
    };
  }

  /** One session as observers and the management socket see it. */
  detailOf(call: ServerCall): ServerSessionDetail {
    const info = call.info;
    const accounting = call.auth?.accounting?.();
    return {
      ...this.identityOf(call),
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
}
