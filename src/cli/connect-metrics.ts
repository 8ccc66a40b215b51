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
import { registerBusyPollMetrics } from './busy-poll-metrics.js';

export interface ClientMetricsOptions {
  /** `--busy-poll` is on: the `pptp_busy_poll_*` counters are shown too. */
  readonly busyPoll?: boolean;
}

/** The client's registry: its tracker's metrics, and the busy-poll's when it is on. */
export function clientRegistry(
  tracker: ClientTracker,
  opts: ClientMetricsOptions = {},
): ReturnType<typeof clientMetrics> {
  const m = clientMetrics(tracker);
  if (opts.busyPoll) registerBusyPollMetrics(m.registry);
  return m;
}

export function startClientMetrics(
  listen: string,
  tracker: ClientTracker,
  log: Logger,
  opts: ClientMetricsOptions = {},
): Promise<MetricsEndpoint> {
  const m = clientRegistry(tracker, opts);
  return startMetricsEndpoint(listen, m.registry, m.refresh, log);
}
