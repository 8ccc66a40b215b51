/**
 * Starts `connect --metrics ADDR`'s endpoint. Imported by src/cli/connect.ts
 * only when the option is given, and kept out of the connect bundle
 * (scripts/bundle.js), so that a client without metrics does not load
 * prom-client (docs/packaging.md, "Start-up and memory").
 */
import { clientMetrics } from '../client/client-metrics.js';
import type { ClientTracker } from '../client/operations.js';
import { type MetricsEndpoint, startMetricsEndpoint } from '../io/metrics-http.js';
import type { Logger } from '../log/logger.js';

export function startClientMetrics(
  listen: string,
  tracker: ClientTracker,
  log: Logger,
): Promise<MetricsEndpoint> {
  const m = clientMetrics(tracker);
  return startMetricsEndpoint(listen, m.registry, m.refresh, log);
}
