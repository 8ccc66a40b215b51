/**
 * `pptp-ts connect --metrics ADDR`: the client's Prometheus registry, read at
 * scrape time from the {@link ClientTracker} (docs/operations.md). Its own
 * module, loaded only when metrics are asked for, so a client without them
 * never loads prom-client.
 */
import { Gauge, Registry } from 'prom-client';
import { readCounter, registerProcessMetrics, registerTrafficMetrics } from '../session/traffic-metrics.js';
import type { ClientTracker } from './operations.js';

/** The client's metrics registry: the traffic metrics, `pptp_client_up`, attempts, the process. */
export function clientMetrics(t: ClientTracker): { registry: Registry; refresh: () => void } {
  const registry = new Registry();
  registerProcessMetrics(registry);
  let sums = t.traffic();
  registerTrafficMetrics(registry, () => sums);
  new Gauge({
    name: 'pptp_client_up',
    help: '1 while the tunnel is up.',
    registers: [registry],
    collect: function (this: Gauge) {
      this.set(t.up ? 1 : 0);
    },
  });
  readCounter(registry, 'pptp_client_connect_attempts_total', 'Connection attempts.', () => t.attempts);
  return {
    registry,
    refresh: () => {
      sums = t.traffic();
    },
  };
}
