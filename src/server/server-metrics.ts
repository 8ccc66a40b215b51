/**
 * The server's Prometheus metrics (docs/operations.md "Metrics"), opt-in
 * with `"metrics": {"listen": "127.0.0.1:9723"}`. Everything is read at
 * scrape time: the server's own counters, its live sessions (phase,
 * traffic) and the totals of ended sessions this observer accumulated.
 * The events it counts itself (set-up failures, authentication failures,
 * handshake durations) happen once per session, never per packet.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AuthFailure } from '../ppp/auth/index.js';
import type { PppPhase } from '../ppp/unit-types.js';
import { type TrafficSums, TrafficTotals } from '../session/traffic.js';
import {
  readCounter,
  readGauge,
  registerProcessMetrics,
  registerTrafficMetrics,
} from '../session/traffic-metrics.js';
import type { ServerObserver, ServerSessionDetail } from './observer.js';
import type { RadiusAuthResult } from './radius-auth.js';
import { registerRadiusAuthMetrics } from './radius-metrics.js';
import type { PptpServer } from './server.js';

const PHASES: readonly PppPhase[] = ['Dead', 'Establish', 'Authenticate', 'Network', 'Terminate'];

/** Handshake (TCP accept → network phase) buckets, seconds. */
export const HANDSHAKE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];

/** A Prometheus counter read from one of the server's own counters (`PptpServer.counters`). */
type ServerCounterMetric = readonly [name: string, help: string, key: keyof PptpServer['counters']];

/** The server's own counters, each read at scrape time. */
const SERVER_COUNTERS: readonly ServerCounterMetric[] = [
  ['pptp_sessions_started_total', 'Calls that started a PPP session.', 'sessionsStarted'],
  ['pptp_sessions_up_total', 'Sessions that reached the network phase.', 'sessionsUp'],
  ['pptp_sessions_ended_total', 'Sessions that ended, for any reason.', 'sessionsEnded'],
  ['pptp_calls_refused_total', 'Calls refused: max-sessions reached or shutting down.', 'callsRefused'],
  ['pptp_control_connections_accepted_total', 'Control connections accepted.', 'connectionsAccepted'],
  [
    'pptp_control_connections_refused_total',
    'Control connections refused at accept (per-address limit, shutting down).',
    'connectionsRefused',
  ],
  ['pptp_handshake_timeouts_total', 'Connections closed: no session came up in time.', 'handshakeTimeouts'],
  [
    'pptp_control_connections_queued_total',
    'Control connections that waited for a set-up slot (limits.setup-concurrency).',
    'connectionsQueued',
  ],
  [
    'pptp_spoofed_packets_dropped_total',
    "Packets whose inner source was not the session's address.",
    'spoofedDropped',
  ],
  [
    'pptp_client_to_client_dropped_total',
    'Session-to-session packets the policy refused.',
    'clientToClientDropped',
  ],
  [
    'pptp_no_session_dropped_total',
    'Packets from the interface for an address no session has.',
    'noSessionDropped',
  ],
];

export class ServerMetrics implements ServerObserver {
  readonly registry = new Registry();
  private readonly totals = new TrafficTotals();
  private sessions: ServerSessionDetail[] = [];
  private traffic: TrafficSums;
  private readonly failures: Counter;
  private readonly authFailures: Counter;
  private readonly handshake: Histogram;
  private readonly radiusResult: ((result: RadiusAuthResult, seconds: number) => void) | undefined;

  constructor(private readonly server: PptpServer) {
    const r = this.registry;
    // prom-client calls `collect` with the metric as `this`: the observer is `self`.
    const self = this;
    registerProcessMetrics(r);
    this.traffic = this.totals.sum([]);
    new Gauge({
      name: 'pptp_sessions',
      help: 'Live sessions by PPP phase (RFC 1661 §3.2).',
      labelNames: ['phase'],
      registers: [r],
      collect: function (this: Gauge) {
        self.countPhases(this);
      },
    });
    const s = server.counters;
    for (const [name, help, key] of SERVER_COUNTERS) readCounter(r, name, help, () => s[key]);
    this.failures = new Counter({
      name: 'pptp_session_setup_failures_total',
      help: 'Sessions that ended before the network phase, by reason.',
      labelNames: ['reason'],
      registers: [r],
    });
    this.authFailures = new Counter({
      name: 'pptp_auth_failures_total',
      help: 'Failed authentications of clients, by method and reason.',
      labelNames: ['method', 'reason'],
      registers: [r],
    });
    this.handshake = new Histogram({
      name: 'pptp_handshake_duration_seconds',
      help: 'From TCP accept to the network phase (PPTP control, LCP, authentication, IPCP, CCP).',
      buckets: HANDSHAKE_BUCKETS,
      registers: [r],
    });
    readGauge(r, 'pptp_control_connections', 'Open PPTP control connections.', () => server.connectionCount);
    readGauge(
      r,
      'pptp_control_connections_waiting',
      'Accepted control connections waiting for a set-up slot (limits.setup-concurrency).',
      () => server.waitingConnectionCount,
    );
    readGauge(r, 'pptp_pool_addresses_free', 'Addresses free in the pool.', () => server.poolAvailable);
    registerTrafficMetrics(r, () => this.traffic);
    if (server.usesRadius) this.radiusResult = registerRadiusAuthMetrics(r, () => server.radiusAuth);
    server.observers.push(this);
  }

  /** Reads the live sessions once for this scrape. */
  refresh(): void {
    this.sessions = this.server.sessionDetails();
    this.traffic = this.totals.sum(this.sessions.map((d) => d.stats));
  }

  private countPhases(g: Gauge): void {
    const n = new Map<PppPhase, number>(PHASES.map((p) => [p, 0]));
    for (const d of this.sessions) n.set(d.phase, (n.get(d.phase) ?? 0) + 1);
    for (const [phase, v] of n) g.set({ phase: phase.toLowerCase() }, v);
  }

  authFailure(f: AuthFailure): void {
    this.authFailures.inc({ method: f.method, reason: f.reason });
  }

  radiusAuthResult(result: string, seconds: number): void {
    this.radiusResult?.(result as RadiusAuthResult, seconds);
  }

  sessionUp(seconds: number): void {
    this.handshake.observe(seconds);
  }

  sessionEnded(e: Parameters<NonNullable<ServerObserver['sessionEnded']>>[0]): void {
    this.totals.add(e.stats);
    if (!e.wasUp) this.failures.inc({ reason: e.failure?.code ?? 'call-cleared' });
  }
}
