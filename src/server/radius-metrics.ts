/**
 * Prometheus metrics of RADIUS authentication (docs/radius.md "Metrics"):
 * Access-Requests by how they ended, retransmissions, replies dropped by
 * why, and how long requests took. The counters are read from the
 * authenticator and its client engine at scrape time; the histogram hears
 * each request as it ends (once per authentication, never per packet).
 */
import { Histogram, type Registry } from 'prom-client';
import { readCounter } from '../session/traffic-metrics.js';
import type { RadiusAuthenticator, RadiusAuthResult } from './radius-auth.js';

/** Request duration buckets, seconds (a healthy server answers in milliseconds; time-outs are seconds). */
export const RADIUS_LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const RESULTS: readonly RadiusAuthResult[] = [
  'accept',
  'reject',
  'challenge',
  'timeout',
  'overloaded',
  'error',
];

/** Registers the metrics; `auth()` is the server's authenticator, undefined until it started. */
export function registerRadiusAuthMetrics(
  r: Registry,
  auth: () => RadiusAuthenticator | undefined,
): (result: RadiusAuthResult, seconds: number) => void {
  readCounter(
    r,
    'pptp_radius_auth_requests_total',
    'RADIUS Access-Requests by how they ended: accept, reject, challenge (refused), timeout (no server answered), overloaded (max-outstanding), error.',
    () => {
      const a = auth();
      return RESULTS.map((result) => [{ result }, a?.results[result] ?? 0] as const);
    },
    ['result'],
  );
  readCounter(
    r,
    'pptp_radius_auth_retransmits_total',
    'RADIUS Access-Request retransmissions (same server, then fail-over).',
    () => auth()?.engine.stats.retransmits ?? 0,
  );
  readCounter(
    r,
    'pptp_radius_auth_replies_dropped_total',
    'RADIUS replies dropped, by reason: malformed, unmatched (late, duplicate, spoofed), bad-authenticator (a wrong shared secret), missing-message-authenticator, bad-message-authenticator, unexpected-code.',
    () => {
      const s = auth()?.engine.stats;
      return [
        [{ reason: 'malformed' }, s?.malformed ?? 0],
        [{ reason: 'unmatched' }, s?.unmatched ?? 0],
        [{ reason: 'bad-authenticator' }, s?.badAuthenticator ?? 0],
        [{ reason: 'missing-message-authenticator' }, s?.missingMessageAuthenticator ?? 0],
        [{ reason: 'bad-message-authenticator' }, s?.badMessageAuthenticator ?? 0],
        [{ reason: 'unexpected-code' }, s?.unexpectedCode ?? 0],
      ] as const;
    },
    ['reason'],
  );
  const latency = new Histogram({
    name: 'pptp_radius_auth_request_duration_seconds',
    help: 'From an Access-Request to its reply or failure (retransmissions and fail-over included).',
    buckets: RADIUS_LATENCY_BUCKETS,
    registers: [r],
  });
  return (_result, seconds) => latency.observe(seconds);
}
