/**
 * RADIUS accounting for `pptp-ts serve` (docs/radius.md "Accounting"): the
 * glue between the server's session events (it is a {@link ServerObserver}),
 * the accounting engine (`radius/accounting.ts`), its UDP driver and the
 * spool file. Start when a session reaches the network phase with its
 * address, Interim-Updates while it lasts, Stop with the cause it ended
 * for; Accounting-On at start, Accounting-Off after the last Stop at a
 * clean shutdown.
 */
import { randomBytes } from 'node:crypto';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { AccountingSpool } from '../io/accounting-spool.js';
import { type Clock, realClock } from '../io/clock.js';
import { RadiusUdpDriver } from '../io/radius-udp.js';
import type { Logger } from '../log/logger.js';
import {
  type AccountingAction,
  AccountingEngine,
  type AcctCounters,
  type AcctKind,
  type AcctRecord,
} from '../radius/accounting.js';
import type { SessionStats } from '../session/session.js';
import { AcctTerminateCause } from '../wire/radius/index.js';
import { nasOf, parseRadiusAddress, radiusRetransmission, type ServerConfig } from './config.js';
import type { SessionEndCause } from './end-cause.js';
import type { ServerObserver, ServerSessionDetail } from './observer.js';

/** RFC 2866 §5.10 Acct-Terminate-Cause for each way a session ends. */
export const TERMINATE_CAUSE: Readonly<Record<SessionEndCause, number>> = {
  'user-request': AcctTerminateCause.UserRequest,
  'lost-carrier': AcctTerminateCause.LostCarrier,
  'admin-reset': AcctTerminateCause.AdminReset,
  'session-timeout': AcctTerminateCause.SessionTimeout,
  'idle-timeout': AcctTerminateCause.IdleTimeout,
  'nas-reboot': AcctTerminateCause.NasReboot,
  'nas-error': AcctTerminateCause.NasError,
  'port-error': AcctTerminateCause.PortError,
  'user-error': AcctTerminateCause.UserError,
  'nas-request': AcctTerminateCause.NasRequest,
};

const KINDS: readonly AcctKind[] = ['start', 'interim', 'stop', 'on', 'off'];

/** Request latency buckets, seconds. */
export const ACCOUNTING_LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 3, 10];

/** What a session's counters mean to accounting: IP packets as the user sees them (after MPPE). */
export function acctCounters(s: SessionStats): AcctCounters {
  return {
    inOctets: s.ppp.rxBytes,
    outOctets: s.ppp.txBytes,
    inPackets: s.ppp.rxPackets,
    outPackets: s.ppp.txPackets,
  };
}

/** Wall-clock milliseconds (records' age and Event-Timestamp survive restarts) with real timers. */
export const wallClock: Clock = {
  now: () => Date.now(),
  setTimer: (ms, fn) => realClock.setTimer(ms, fn),
};

export interface RadiusAccountingOptions {
  readonly config: ServerConfig;
  readonly log: Logger;
  readonly clock?: Clock;
  readonly random?: (n: number) => Uint8Array;
}

export class RadiusAccounting implements ServerObserver {
  readonly engine: AccountingEngine;
  private driver: RadiusUdpDriver<AccountingAction> | undefined;
  private spool: AccountingSpool | undefined;
  private readonly clock: Clock;
  private readonly log: Logger;
  /** Server session id → Acct-Session-Id, and back (a DAS names sessions by Acct-Session-Id). */
  private readonly byServerId = new Map<number, string>();
  private readonly byAcctId = new Map<string, number>();
  private latency: Histogram | undefined;
  private closed = false;
  /** This run's Accounting-On has been answered. */
  private onAnswered = false;

  private constructor(opts: RadiusAccountingOptions, engine: AccountingEngine) {
    this.clock = opts.clock ?? wallClock;
    this.log = opts.log;
    this.engine = engine;
  }

  /**
   * Loads the spool, opens the sockets, queues Accounting-On (after
   * whatever the spool held). Throws on a spool it cannot read or write.
   */
  static async start(opts: RadiusAccountingOptions): Promise<RadiusAccounting> {
    const r = opts.config.radius;
    if (!r || r.accounting.length === 0) throw new RangeError('radius.accounting: no server configured');
    const log = opts.log;
    const cfg = opts.config;
    const servers = r.accounting.map((s) => ({ ...parseRadiusAddress(s.address, 1813)!, secret: s.secret }));
    const nas = nasOf(cfg);
    const q = r['accounting-queue'];
    const engine = new AccountingEngine({
      client: {
        servers: servers.map((s) => ({ name: `${s.host}:${s.port}`, secret: s.secret })),
        random: opts.random ?? ((n) => new Uint8Array(randomBytes(n))),
        ...radiusRetransmission(r),
        logger: log,
      },
      nasIdentifier: nas.identifier,
      ...(nas.ip !== undefined ? { nasIpAddress: nas.ip } : {}),
      interimInterval: r['interim-interval'],
      maxRecords: q['max-records'],
      maxAgeMs: q['max-age'] * 1000,
      maxInFlight: Math.min(64, r['max-outstanding']),
      logger: log,
    });
    const self = new RadiusAccounting(opts, engine);
    let restored: AcctRecord[] = [];
    if (q.path !== undefined) {
      const loaded = AccountingSpool.open(q.path);
      self.spool = loaded.spool;
      if (loaded.corrupt > 0) {
        log.log('warn', 'accounting spool: unreadable lines skipped', {
          path: q.path,
          lines: loaded.corrupt,
        });
      }
      restored = loaded.records.filter((x): x is AcctRecord => KINDS.includes(x.kind as AcctKind));
      if (restored.length) {
        log.log('info', 'accounting spool: records from an earlier run will be sent again', {
          records: restored.length,
        });
      }
    }
    try {
      self.driver = await RadiusUdpDriver.open(engine, servers, (a) => self.apply([a]), {
        clock: self.clock,
        onError: (message, fields) => log.log('debug', message, fields),
      });
    } catch (e) {
      self.spool?.close();
      throw e;
    }
    const now = self.clock.now();
    if (restored.length) self.perform(engine.restore(now, restored));
    self.perform(engine.accountingOn(now));
    log.log('info', 'radius accounting started', {
      servers: servers.map((s) => `${s.host}:${s.port}`).join(','),
      nasId: engine.bootId,
    });
    return self;
  }

  /**
   * Resolves true once a server has answered this run's Accounting-On, or
   * false when the clock reaches `deadline` first. RFC 2866 §5.1 ("Acct-
   * Status-Type ... Accounting-On") tells the server that none of this NAS's
   * earlier sessions exist any more; a server that keeps an address pool for
   * several NAS frees this NAS's leases and closes its sessions when it gets
   * it. A login that reaches that server before the Accounting-On could be
   * given an address the Accounting-On then frees under it (and be refused by
   * a Simultaneous-Use check that still counts the crashed run's sessions),
   * so `serve` waits for this before it accepts calls.
   */
  async accountingOnAnswered(deadline: number): Promise<boolean> {
    while (!this.onAnswered && !this.closed && this.clock.now() < deadline) {
      await new Promise<void>((resolve) => {
        this.clock.setTimer(Math.max(1, Math.min(20, deadline - this.clock.now())), resolve);
      });
    }
    return this.onAnswered;
  }

  /** The Acct-Session-Id of server session `id` (live, or ended and not yet forgotten). */
  acctSessionIdOf(id: number): string | undefined {
    return this.byServerId.get(id);
  }

  /** The server session an Acct-Session-Id names (what a Disconnect-Request carries). */
  serverIdOf(acctSessionId: string): number | undefined {
    return this.byAcctId.get(acctSessionId);
  }

  sessionUp(_seconds: number, s: ServerSessionDetail): void {
    if (this.closed || !s) return;
    const id = this.engine.newSessionId();
    this.byServerId.set(s.id, id);
    this.byAcctId.set(id, s.id);
    const stats = s.stats;
    const a = s.accounting;
    this.perform(
      this.engine.start(this.clock.now(), id, {
        user: s.user,
        callId: s.callId,
        callingStationId: s.peer,
        framedIpAddress: s.address,
        ...(a?.classes ? { classes: a.classes } : {}),
        ...(a?.interimInterval !== undefined ? { interimInterval: a.interimInterval } : {}),
        authentic: a?.authentic === 'radius' || a?.authentic === 'remote' ? 'radius' : 'local',
        counters: () => acctCounters(stats),
      }),
    );
  }

  sessionEnded(e: Parameters<NonNullable<ServerObserver['sessionEnded']>>[0]): void {
    const id = this.byServerId.get(e.session.id);
    if (id === undefined) return;
    this.byServerId.delete(e.session.id);
    this.byAcctId.delete(id);
    if (this.closed) return;
    this.perform(this.engine.stop(this.clock.now(), id, TERMINATE_CAUSE[e.cause], acctCounters(e.stats)));
  }

  /** Accounting metrics into the server's registry (read at scrape time, plus a latency histogram). */
  registerMetrics(registry: Registry): void {
    const engine = this.engine;
    new Counter({
      name: 'pptp_radius_accounting_requests_total',
      help: 'Accounting-Request records by Acct-Status-Type and result (sent: handed to the servers; delivered: answered; failed: no server answered, the record stays queued).',
      labelNames: ['type', 'result'],
      registers: [registry],
      collect(this: Counter) {
        this.reset();
        const st = engine.stats;
        for (const k of KINDS) {
          this.inc({ type: k, result: 'sent' }, st.sent[k]);
          this.inc({ type: k, result: 'delivered' }, st.delivered[k]);
          this.inc({ type: k, result: 'failed' }, st.failed[k]);
        }
      },
    });
    new Counter({
      name: 'pptp_radius_accounting_dropped_total',
      help: 'Accounting records given up: queue full (oldest Interim-Updates first), older than max-age, too large to send.',
      labelNames: ['reason'],
      registers: [registry],
      collect(this: Counter) {
        this.reset();
        for (const [reason, n] of Object.entries(engine.stats.dropped)) this.inc({ reason }, n);
      },
    });
    new Gauge({
      name: 'pptp_radius_accounting_queue_length',
      help: 'Accounting records waiting for an Accounting-Response (in flight included).',
      registers: [registry],
      collect(this: Gauge) {
        this.set(engine.queued);
      },
    });
    this.latency = new Histogram({
      name: 'pptp_radius_accounting_request_duration_seconds',
      help: 'From sending an Accounting-Request to its Accounting-Response (retransmissions included).',
      buckets: ACCOUNTING_LATENCY_BUCKETS,
      registers: [registry],
    });
  }

  /**
   * Clean shutdown, after the server ended its sessions (their Stops are
   * queued): Accounting-Off, then wait until the queue is empty or the
   * clock reaches `deadline`. What is left stays in the spool (when there is
   * one) for the next start.
   */
  async close(deadline: number): Promise<void> {
    if (this.closed) return;
    for (const id of this.engine.liveSessionIds()) {
      this.perform(this.engine.stop(this.clock.now(), id, AcctTerminateCause.NasReboot));
    }
    this.perform(this.engine.accountingOff(this.clock.now()));
    this.closed = true;
    while (this.engine.queued > 0 && this.clock.now() < deadline) {
      await new Promise<void>((resolve) => {
        this.clock.setTimer(Math.min(20, deadline - this.clock.now()), resolve);
      });
    }
    if (this.engine.queued > 0) {
      this.log.log('warn', 'accounting records not answered before shutdown', {
        records: this.engine.queued,
        kept: this.spool ? 'in the spool' : 'lost (no accounting-queue.path)',
      });
    }
    this.driver?.close();
    this.spool?.close();
  }

  private perform(actions: readonly AccountingAction[]): void {
    if (this.driver) this.driver.perform(actions);
    else this.apply(actions.filter((a) => a.type !== 'send'));
  }

  /** Everything but `send`: spool and metrics. */
  private apply(actions: readonly AccountingAction[]): void {
    for (const a of actions) {
      switch (a.type) {
        case 'stored':
          this.spool?.add(a.record);
          break;
        case 'removed':
          this.spool?.remove(a.record.id);
          if (a.outcome === 'delivered' && a.latencyMs !== undefined)
            this.latency?.observe(a.latencyMs / 1000);
          // A restored Accounting-On of an earlier run carries that run's boot id.
          if (
            a.outcome === 'delivered' &&
            a.record.kind === 'on' &&
            a.record.sessionId === `${this.engine.bootId}-00000000`
          )
            this.onAnswered = true;
          break;
        case 'failed':
          this.log.log('debug', 'accounting request got no answer', {
            kind: a.record.kind,
            session: a.record.sessionId,
            detail: a.detail,
          });
          break;
        default:
          break;
      }
    }
  }
}
