/**
 * Prometheus metrics of sessions' traffic, shared by the server and the
 * client (docs/operations.md "Metrics"). The counters stay where the data
 * path keeps them ({@link SessionStats}: the PPP unit's and the GRE
 * channel's); a scrape sums them over the live sessions plus the totals
 * of the sessions that ended ({@link TrafficTotals.add} at a session's
 * end). Nothing here runs per packet.
 */
import { Counter, collectDefaultMetrics, Gauge, type Registry } from 'prom-client';
import type { TrafficSums } from './traffic.js';

/**
 * prom-client's process and Node.js metrics (CPU, memory, file
 * descriptors, GC, event-loop lag as `nodejs_eventloop_lag_seconds`...),
 * less three gauges whose `_total` names break the Prometheus naming rules
 * (`promtool check metrics` rejects them); their numbers are in
 * `nodejs_active_handles`, `nodejs_active_requests` and
 * `nodejs_active_resources` by type.
 */
export function registerProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of [
    'nodejs_active_handles_total',
    'nodejs_active_requests_total',
    'nodejs_active_resources_total',
  ]) {
    registry.removeSingleMetric(name);
  }
}

/** A counter whose value is set at scrape time from `read` (label sets optional). */
export function readCounter(
  registry: Registry,
  name: string,
  help: string,
  read: () => number | readonly (readonly [Record<string, string>, number])[],
  labelNames: readonly string[] = [],
): Counter {
  return new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect(this: Counter) {
      this.reset();
      const v = read();
      if (typeof v === 'number') this.inc(v);
      else for (const [labels, n] of v) this.inc(labels, n);
    },
  });
}

/** A gauge whose value is set at scrape time from `read`. */
export function readGauge(registry: Registry, name: string, help: string, read: () => number): Gauge {
  return new Gauge({
    name,
    help,
    registers: [registry],
    collect(this: Gauge) {
      this.set(read());
    },
  });
}

/**
 * Registers the traffic metrics; `current()` returns the sums of this
 * scrape (the caller computes them once per scrape).
 */
export function registerTrafficMetrics(registry: Registry, current: () => TrafficSums): void {
  const c = (name: string, help: string, read: (t: TrafficSums) => number) =>
    readCounter(registry, name, help, () => read(current()));
  c('pptp_receive_bytes_total', 'IP bytes received through tunnels (after MPPE).', (t) => t.rxBytes);
  c('pptp_transmit_bytes_total', 'IP bytes sent through tunnels (before MPPE).', (t) => t.txBytes);
  c('pptp_receive_packets_total', 'IP packets received through tunnels.', (t) => t.rxPackets);
  c('pptp_transmit_packets_total', 'IP packets sent through tunnels.', (t) => t.txPackets);
  c('pptp_receive_errors_total', 'Received PPP frames that could not be used.', (t) => t.rxErrors);
  c('pptp_receive_dropped_total', 'Received packets discarded on purpose.', (t) => t.rxDropped);
  c('pptp_transmit_dropped_total', 'Packets discarded on transmit.', (t) => t.txDropped);
  readCounter(
    registry,
    'pptp_mppe_reset_requests_total',
    'CCP Reset-Requests (MPPE resynchronisation), by direction.',
    () => {
      const t = current();
      return [
        [{ direction: 'sent' }, t.resetSent],
        [{ direction: 'received' }, t.resetReceived],
      ];
    },
    ['direction'],
  );
  c(
    'pptp_mppe_reset_resends_total',
    "Stateful MPPE: our last packet sent again, flushed, on the peer's Reset-Request.",
    (t) => t.resetResends,
  );
  c('pptp_gre_lost_total', 'GRE sequence numbers given up as lost.', (t) => t.greLost);
  c('pptp_gre_reordered_total', 'GRE packets held in the reorder buffer.', (t) => t.greReordered);
  c(
    'pptp_gre_duplicate_total',
    'GRE packets whose sequence number was already received.',
    (t) => t.greDuplicate,
  );
  c('pptp_gre_stale_total', 'GRE packets that arrived after their gap was given up.', (t) => t.greStale);
  c(
    'pptp_gre_window_stalls_total',
    "Frames that waited because the peer's receive window was closed.",
    (t) => t.greWindowStalls,
  );
  c(
    'pptp_gre_transmit_queue_drops_total',
    'Frames dropped: window closed and transmit queue full.',
    (t) => t.greQueueDrops,
  );
  c(
    'pptp_gre_ack_timeouts_total',
    'GRE acknowledgment time-outs (each halves the window).',
    (t) => t.greAckTimeouts,
  );
}
