/**
 * The PPTP server (PAC, RFC 2637 §1.2): TCP 1723, many control connections,
 * many calls, one PppSession per call in the authenticator role,
 * credentials from a pppd chap-secrets file or RADIUS, addresses from a
 * pool, and the interface side (docs/architecture.md §4,
 * docs/client-server.md).
 *
 * ```
 *  listener ─▶ control-connections.ts (limits per source address, handshake time-out)
 *     └─ ControlDriver (PAC engine) ─ callUp ─▶ call-lifecycle.ts (PppSession per call)
 *          auth ─▶ address ─▶ up: call-network.ts (route / own TUN, hooks) ─▶ end
 *          session-limits.ts: auth-timeout, Session-Timeout
 *  shared TUN ◀─▶ tun-router.ts ◀─▶ sessions (anti-spoofing, client-to-client)
 * ```
 *
 * This file is the facade: configuration, start, status and management,
 * reload and the bounded shutdown.
 */
import { randomBytesPooled } from '../crypto/random.js';
import type { Clock, Timer } from '../io/clock.js';
import type { Undo } from '../io/ip.js';
import type { TcpListener } from '../io/tcp.js';
import type { Logger } from '../log/logger.js';
import type { Credential, CredentialLookup } from '../ppp/auth/index.js';
import { GreEndpoint, type GreEndpointCounters } from '../session/gre-endpoint.js';
import type { SessionStats } from '../session/session.js';
import { parseIpv4 } from '../wire/bytes.js';
import { PptpStopReason } from '../wire/pptp/index.js';
import { WarnBuckets } from './admission.js';
import { CallLifecycle } from './call-lifecycle.js';
import { CallNetwork } from './call-network.js';
import { lookupSecret } from './chap-secrets.js';
import { nasOf, parseRadiusAddress, radiusRetransmission, type ServerConfig } from './config.js';
import { ControlConnections } from './control-connections.js';
import type { SessionEndCause } from './end-cause.js';
import type { IdleWatch } from './idle-timeout.js';
import { IpPool, parsePoolSpec } from './ip-pool.js';
import type { ServerObserver, ServerSessionDetail } from './observer.js';
import { RadiusAuthenticator } from './radius-auth.js';
import {
  type ServerCall,
  type ServerCounters,
  type ServerEnv,
  type ServerSessionStatus,
  zeroServerCounters,
} from './server-types.js';
import { cancelSessionLimit } from './session-limits.js';
import { TunRouter } from './tun-router.js';

export { refusalAnswer } from './admission.js';
export { SERVER_PPP_START_WAIT_MS } from './call-lifecycle.js';
export { perSessionPattern } from './call-network.js';
export { demoteInfo } from './lazy-log.js';
export {
  SERVER_SHUTDOWN,
  type ServerCounters,
  type ServerEnv,
  type ServerSessionEvents,
  type ServerSessionStatus,
} from './server-types.js';
export { ipv6SourceAllowed } from './tun-router.js';

export class PptpServer {
  readonly counters: ServerCounters = zeroServerCounters();
  /**
   * Who hears of session starts, ends and authentication failures (metrics,
   * src/server/observer.ts). Never called per packet.
   */
  readonly observers: ServerObserver[] = [];
  /** RADIUS authentication (`radius.order` includes "radius"), once {@link start} opened its transport. */
  radiusAuth: RadiusAuthenticator | undefined;
  private readonly config: ServerConfig;
  private readonly env: ServerEnv;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly pool: IpPool;
  private readonly localIp: number;
  private readonly shared: boolean;
  private readonly router: TunRouter;
  private readonly calls: CallLifecycle;
  private readonly network: CallNetwork;
  private readonly conns: ControlConnections;
  private endpoint: GreEndpoint | undefined;
  private sharedUndo: Undo | undefined;
  private listener: TcpListener | undefined;
  /** Fixed addresses of the secrets now reserved in the pool. */
  private reservedFixed = new Set<number>();
  private radiusTransport: { close(): void } | undefined;

  constructor(config: ServerConfig, env: ServerEnv) {
    this.config = config;
    this.env = env;
    this.log = env.log;
    this.clock = env.clock;
    this.localIp = parseIpv4(config['local-ip'])!;
    this.shared = config.interface.mode === 'shared';
    const reserved = [this.localIp];
    for (const e of env.secrets()) reserved.push(...e.addresses.fixed);
    this.pool = new IpPool(parsePoolSpec(config.pool), reserved);
    this.reservedFixed = new Set(reserved.slice(1));
    // The server as a whole may log ten times what one connection or session may.
    const warnings = new WarnBuckets(
      config.log['warn-burst'] * 10,
      (config.log['warn-interval'] * 1000) / 10,
    );
    this.router = new TunRouter(config, this.counters, this.log);
    this.network = new CallNetwork(config, env, this.clock, this.router);
    this.calls = new CallLifecycle(
      config,
      env,
      this.clock,
      this.log,
      this.counters,
      this.observers,
      this.pool,
      warnings,
      this.lookup,
      this.router,
      this.network,
    );
    this.conns = new ControlConnections(
      config,
      this.clock,
      this.log,
      this.counters,
      warnings,
      this.calls,
      env.random,
    );
  }

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
    for (const c of this.conns.connections) {
      for (const call of c.calls.values()) out.push(this.calls.statusOf(call));
    }
    return out;
  }

  private findCall(id: number): ServerCall | undefined {
    for (const c of this.conns.connections) {
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
    this.calls.kickCall(call, reason, cause);
    return true;
  }

  /** Live control connections. */
  get connectionCount(): number {
    return this.conns.connections.size;
  }

  /** Accepted control connections waiting for a set-up slot (`limits.setup-concurrency`). */
  get waitingConnectionCount(): number {
    return this.conns.waitingCount;
  }

  /** Live sessions with their counters (management socket, metrics); read on request, not kept. */
  sessionDetails(): ServerSessionDetail[] {
    const out: ServerSessionDetail[] = [];
    for (const c of this.conns.connections) {
      for (const call of c.calls.values()) out.push(this.calls.detailOf(call));
    }
    return out;
  }

  /**
   * Drops the Session-Timeout the session's Access-Accept set: a CoA-Request's
   * Session-Timeout takes its place (RFC 5176 §3.2, src/server/radius-das.ts).
   */
  cancelSessionLimit(id: number): void {
    const call = this.findCall(id);
    if (call) cancelSessionLimit(call);
  }

  /** Idle-Timeout and `ppp.idle`: the sessions watched for idleness. */
  get idle(): IdleWatch {
    return this.calls.idle;
  }

  /**
   * Ends the session after `seconds` without a data packet either way
   * (Idle-Timeout, RFC 2865 §5.28); 0 stops watching. False: no such session.
   */
  setIdleTimeout(id: number, seconds: number): boolean {
    const call = this.findCall(id);
    if (!call || call.ended) return false;
    this.calls.setIdleTimeout(call, seconds);
    return true;
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
    for (const c of this.conns.connections) {
      for (const call of c.calls.values()) {
        if (!picked.has(call.id) || call.ended) continue;
        n++;
        this.calls.kickCall(call, reason, cause);
      }
    }
    return n;
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
    const endpoint = new GreEndpoint(
      this.env.openGre(bind, cfg.limits['gre-socket-buffer']),
      this.clock,
      this.log.child('gre'),
    );
    this.endpoint = endpoint;
    this.calls.endpoint = endpoint;
    this.network.endpoint = endpoint;
    try {
      if (this.shared) {
        const tun = this.env.openTun(cfg.interface.name);
        const router = this.router;
        router.sharedTun = tun;
        this.sharedUndo = await this.env.host.configureSharedInterface(
          tun.name,
          cfg['local-ip'],
          this.calls.interfaceMtu,
        );
        tun.start({
          onPacket: (p) => router.fromSharedTun(p),
          onBatchEnd: () => endpoint.flush(),
          onError: (err) => this.log.log('error', 'shared interface failed', { error: err.message }),
        });
      }
      endpoint.start();
      await this.startRadius();
      this.listener = await this.env.tcp.listen(cfg.listen, cfg.port, (s) => this.conns.accept(s), {
        backlog: cfg.limits['listen-backlog'],
      });
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
      ifname: this.router.sharedTun?.name,
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
    if (this.conns.stopping) return;
    this.conns.stopping = true;
    this.conns.dropAllWaiting();
    const boundMs = this.config.limits['shutdown-timeout'] * 1000;
    const start = this.clock.now();
    const left = () => Math.max(0, start + boundMs - this.clock.now());
    this.log.log('info', 'shutting down', { reason, sessions: this.calls.callCount });
    // net.Server.close() resolves only when every connection has gone: not awaited here.
    const listenerClosed = this.listener?.close();
    this.listener = undefined;
    const calls = [...this.conns.connections].flatMap((c) => [...c.calls.values()]);
    for (const c of calls) c.endCause ??= 'nas-reboot';
    const live = calls.filter((c) => !c.session.isDead);
    for (const c of live) c.session.close(reason);
    await this.waitUntil(() => live.every((c) => c.session.isDead), Math.floor(boundMs / 3));
    for (const c of calls) this.calls.endCall(c, reason);
    const conns = [...this.conns.connections].filter((c) => !c.closed);
    for (const c of conns) c.driver.stop(PptpStopReason.StopLocalShutdown);
    // Leave a little of the bound for the local clean-up.
    await this.waitUntil(
      () => conns.every((c) => c.closed),
      Math.max(0, left() - Math.min(500, boundMs / 6)),
    );
    for (const c of [...this.conns.connections]) c.driver.destroy();
    await this.waitUntil(() => this.calls.pendingTasks === 0, left());
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
    this.router.sharedTun?.close();
    this.endpoint?.close();
    this.radiusTransport?.close();
    this.radiusTransport = undefined;
    this.calls.idle.close();
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
    const nas = nasOf(this.config);
    const auth = new RadiusAuthenticator({
      servers,
      order: r.order,
      nasIdentifier: nas.identifier,
      ...(nas.ip !== undefined ? { nasIpAddress: parseIpv4(nas.ip)! } : {}),
      ...radiusRetransmission(r),
      secrets: this.lookup,
      secretsPolicy: (peerName) => lookupSecret(this.env.secrets(), peerName, this.config.name)?.addresses,
      log: this.log.child('radius'),
      random: this.env.random ?? randomBytesPooled,
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
    this.calls.radiusAuth = auth;
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
    return this.calls.admission.starting;
  }

  /** chap-secrets lookup (pppd's): client = the peer's name, server = our `name`. */
  private readonly lookup: CredentialLookup = (req) => {
    const e = lookupSecret(this.env.secrets(), req.peerName, this.config.name);
    if (!e) return undefined;
    // `-` in the address column: "no address may be given" — the account may not dial in.
    if (e.addresses.none) return { refuse: 'no-dialin-permission' } satisfies Credential;
    return { password: e.secret };
  };
}
