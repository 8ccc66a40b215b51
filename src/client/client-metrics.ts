/**
 * `pptp-ts connect --metrics ADDR`: the client's Prometheus registry, read at
 * scrape time from the {@link ClientTracker} (docs/operations.md). Its own
 * module, loaded only when metrics are asked for, so a client without them
 * never loads prom-client.
 */
import { Registry } from 'prom-client';
import {
  readCounter,
  readGauge,
  registerProcessMetrics,
  registerTrafficMetrics,
} from '../session/traffic-metrics.js';
import type { ClientTracker } from './operations.js';

/** The client's metrics registry: the traffic metrics, `pptp_client_up`, attempts, the process. */
export function clientMetrics(t: ClientTracker): { registry: Registry; refresh: () => void } {
  const registry = new Registry();
  registerProcessMetrics(registry);
  let sums = t.traffic();
  registerTrafficMetrics(registry, () => sums);
  readGauge(registry, 'pptp_client_up', '1 while the tunnel is up.', () => (t.up ? 1 : 0));
  readCounter(registry, 'pptp_client_connect_attempts_total', 'Connection attempts.', () => t.attempts);
  return {
    registry,
    refresh: () => {
      sums = t.traffic();
    },
  };
}
