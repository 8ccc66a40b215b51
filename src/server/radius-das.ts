/**
 * Dynamic authorization for `pptp-ts serve` (RFC 5176, docs/radius.md
 * "Dynamic authorization"): the engine (`radius/das.ts`) on the UDP
 * listener (`io/das-udp.ts`), applied to the server's live sessions.
 *
 * - A Disconnect-Request ends the matching sessions through the server's
 *   kick path with cause `admin-reset` (RFC 2866 §5.10 Acct-Terminate-Cause
 *   Admin-Reset) before the Disconnect-ACK goes out.
 * - A CoA-Request's Session-Timeout counts from the moment it is applied
 *   (RFC 2865 §5.27: "the maximum number of seconds of service to be
 *   provided to the user before termination"; here: from now on); 0 removes
 *   the limit. When it runs out the session ends with cause
 *   `session-timeout`.
 * - A CoA-Request's Idle-Timeout (RFC 2865 §5.28) replaces the session's
 *   idle limit, the idle time so far counting, or gives a session without
 *   one a limit counted from now (src/server/idle-timeout.ts); 0 removes it. When it runs out the session ends with cause
 *   `idle-timeout`.
 */

import { Counter, type Registry } from 'prom-client';
import type { Clock, Timer } from '../io/clock.js';
import { DasUdpListener } from '../io/das-udp.js';
import type { Logger } from '../log/logger.js';
import {
  type DasChange,
  type DasClientConfig,
  DasEngine,
  type DasOutcome,
  type DasSession,
} from '../radius/das.js';
import { nasOf, parseRadiusAddress, type ServerConfig } from './config.js';
import { cleanReason } from './management.js';
import type { ServerSessionDetail, SessionEndCause } from './observer.js';

/** What the glue needs of the server (PptpServer has it). */
export interface DasServerPort {
  sessionDetails(): ServerSessionDetail[];
  kick(select: (s: ServerSessionDetail) => boolean, reason: string, cause?: SessionEndCause): number;
  kickById(id: number, reason?: string, cause?: SessionEndCause): boolean;
  /** Drops the Session-Timeout the Access-Accept set (a CoA's replaces it, RFC 5176 §3.2). */
  cancelSessionLimit?(id: number): void;
  /** Sets the session's Idle-Timeout, s (0: none); false when there is no such session. */
  setIdleTimeout?(id: number, seconds: number): boolean;
}

/** What {@link DasService.start} and {@link DasService.create} take. */
export interface DasServiceOptions {
  readonly config: ServerConfig;
  readonly server: DasServerPort;
  readonly clock: Clock;
  readonly log: Logger;
  readonly epochSeconds?: () => number;
  /** Accounting's Acct-Session-Id of a session (server id), when accounting runs. */
  readonly acctSessionIdOf?: (id: number) => string | undefined;
}

export const DAS_DISCONNECT_REASON = 'disconnected by RADIUS (Disconnect-Request)';
export const DAS_SESSION_TIMEOUT_REASON = 'session timeout';

/** The NAS identity a request's NAS-IP-Address and NAS-Identifier are checked against. */
export function nasIdentity(config: ServerConfig): { nasIpAddresses: string[]; nasIdentifier: string } {
  const nas = nasOf(config);
  return { nasIpAddresses: nas.ip ? [nas.ip] : [], nasIdentifier: nas.identifier };
}

export class DasService {
  private readonly timers = new Map<number, Timer>();
  private listener: DasUdpListener | undefined;
  private readonly watchers: ((o: DasOutcome) => void)[] = [];

  private constructor(
    readonly engine: DasEngine,
    private readonly server: DasServerPort,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly epochSeconds: () => number,
    private readonly acctSessionIdOf: ((id: number) => string | undefined) | undefined,
  ) {}

  /** Opens the listener of `config.radius.das`; undefined when the config has none. */
  static async start(o: DasServiceOptions): Promise<DasService | undefined> {
    const das = o.config.radius?.das;
    if (!das) return undefined;
    const at = parseRadiusAddress(das.listen, 3799);
    if (!at) throw new Error(`radius.das.listen: ${das.listen}`);
    const s = DasService.create(o);
    s.listener = await DasUdpListener.open(at.host, at.port, (data, from) => s.handle(data, from), {
      onError: (message, fields) => o.log.log('warn', message, fields),
    });
    o.log.log('info', 'dynamic authorization listening', {
      address: `${s.listener.address.address}:${s.listener.address.port}`,
      clients: das.clients.length,
    });
    return s;
  }

  /** The service without a listener: datagrams go to {@link handle} (tests drive it so). */
  static create(o: DasServiceOptions): DasService {
    const clients = o.config.radius?.das?.clients ?? [];
    const engine = new DasEngine({ clients, ...nasIdentity(o.config) });
    return new DasService(
      engine,
      o.server,
      o.clock,
      o.log,
      o.epochSeconds ?? (() => Date.now() / 1000),
      o.acctSessionIdOf,
    );
  }

  /** A reload's new client list (throws, keeping the old list, when one is unusable). */
  setClients(clients: readonly DasClientConfig[]): void {
    this.engine.setClients(clients);
  }

  /** Where the listener is bound. */
  get address(): { readonly address: string; readonly port: number } | undefined {
    return this.listener?.address;
  }

  /** Hears every outcome (metrics). */
  watch(fn: (o: DasOutcome) => void): void {
    this.watchers.push(fn);
  }

  /** One datagram: decide, apply, answer (the listener sends what this returns). */
  handle(data: Uint8Array, from: { address: string; port: number }): Uint8Array | undefined {
    const sessions = (): DasSession[] =>
      this.server.sessionDetails().map((d) => ({
        id: d.id,
        user: d.user,
        address: d.address,
        acctSessionId: d.acctSessionId ?? this.acctSessionIdOf?.(d.id),
      }));
    const o = this.engine.receive({
      now: this.clock.now(),
      epochSeconds: this.epochSeconds(),
      from,
      data,
      sessions,
    });
    for (const w of this.watchers) w(o);
    const source = `${from.address}:${from.port}`;
    if (o.result === 'dropped') {
      // RFC 5176 §2 "silently discard": no answer; counted, and logged at debug level.
      this.log.log('debug', 'das request dropped', { from: source, reason: o.reason, detail: o.detail });
      return undefined;
    }
    if (o.result === 'duplicate') {
      this.log.log('debug', 'das duplicate: the cached reply again', { from: source, kind: o.kind });
      return o.reply;
    }
    if (o.change) this.apply(o.change, source);
    this.log.log('info', `das ${o.result}`, {
      event: 'das',
      from: source,
      kind: o.kind,
      detail: o.detail,
      errorCause: o.errorCause,
      sessions: o.sessions,
    });
    return o.reply;
  }

  private apply(change: DasChange, source: string): void {
    const ids = new Set(change.ids);
    if (change.type === 'disconnect') {
      const reason = change.reason === undefined ? DAS_DISCONNECT_REASON : cleanReason(change.reason);
      this.server.kick((d) => ids.has(d.id), reason, 'admin-reset');
      for (const id of ids) this.clearTimer(id);
      return;
    }
    if (change.type === 'idle-timeout') {
      for (const id of ids) this.server.setIdleTimeout?.(id, change.seconds);
      if (change.sessionTimeout !== undefined) this.sessionTimeout(ids, change.sessionTimeout, source);
      return;
    }
    this.sessionTimeout(ids, change.seconds, source);
  }

  /** A CoA's Session-Timeout: `seconds` from now (0: none), replacing the Access-Accept's. */
  private sessionTimeout(ids: ReadonlySet<number>, seconds: number, source: string): void {
    // Forget timers of sessions that are gone, so the map stays as small as the session table.
    const live = new Set(this.server.sessionDetails().map((d) => d.id));
    for (const id of [...this.timers.keys()]) if (!live.has(id)) this.clearTimer(id);
    for (const id of ids) {
      this.clearTimer(id);
      this.server.cancelSessionLimit?.(id);
      if (seconds === 0) continue;
      this.timers.set(
        id,
        this.clock.setTimer(seconds * 1000, () => {
          this.timers.delete(id);
          if (this.server.kickById(id, DAS_SESSION_TIMEOUT_REASON, 'session-timeout')) {
            this.log.log('info', 'session timeout', { id, seconds, setBy: source });
          }
        }),
      );
    }
  }

  private clearTimer(id: number): void {
    this.timers.get(id)?.cancel();
    this.timers.delete(id);
  }

  /** Session timers pending (bounded by the live sessions). */
  get timerCount(): number {
    return this.timers.size;
  }

  /** Closes the listener and cancels the session timers. Idempotent. */
  close(): void {
    this.listener?.close();
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
  }
}

/**
 * `pptp_das_requests_total{kind, result}` (result: ack, nak, duplicate, or
 * the drop reason) and `pptp_das_naks_total{kind, error_cause}`, counted
 * as the requests come.
 */
export function registerDasMetrics(registry: Registry, das: DasService): void {
  const requests = new Counter({
    name: 'pptp_das_requests_total',
    help: 'RADIUS Disconnect/CoA-Requests (RFC 5176) by kind and result: ack, nak, duplicate, or why it was dropped.',
    labelNames: ['kind', 'result'],
    registers: [registry],
  });
  const naks = new Counter({
    name: 'pptp_das_naks_total',
    help: 'Disconnect-NAK and CoA-NAK sent, by kind and Error-Cause (RFC 5176 §3.5).',
    labelNames: ['kind', 'error_cause'],
    registers: [registry],
  });
  das.watch((o) => {
    requests.inc({ kind: o.kind, result: o.result === 'dropped' ? o.reason : o.result });
    if (o.result === 'nak') naks.inc({ kind: o.kind, error_cause: String(o.errorCause) });
  });
}
