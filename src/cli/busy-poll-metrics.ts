/**
 * The busy-poll's counters (src/io/busy-poll.ts) on a Prometheus registry:
 * the server's metrics endpoint shows them when `busy-poll.spin-us` is set
 * (docs/operations.md "Metrics", docs/native-io.md "Busy-poll").
 */
import type { Registry } from 'prom-client';
import { type BusyPollStats, busyPollStats } from '../io/busy-poll.js';
import { readCounter } from '../session/traffic-metrics.js';

/** Registers the `pptp_busy_poll_*` counters, read from `stats` at every scrape. */
export function registerBusyPollMetrics(
  registry: Registry,
  stats: () => BusyPollStats = busyPollStats,
): void {
  readCounter(
    registry,
    'pptp_busy_poll_spins_total',
    'Busy-poll spins started: wake-ups that delivered packets while the busy-poll was on.',
    () => stats().spins,
  );
  readCounter(
    registry,
    'pptp_busy_poll_hits_total',
    'Busy-poll spins that found at least one more batch of packets.',
    () => stats().hits,
  );
  readCounter(
    registry,
    'pptp_busy_poll_batches_total',
    'Batches of packets delivered from inside busy-poll spins.',
    () => stats().batches,
  );
  readCounter(
    registry,
    'pptp_busy_poll_seconds_total',
    'Time spent in busy-poll spins, the batches they delivered included.',
    () => stats().spinMicros / 1e6,
  );
}
