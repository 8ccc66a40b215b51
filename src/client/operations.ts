/**
 * What `pptp-ts connect` offers its operator beside the tunnel
 * (docs/operations.md): `--metrics ADDR` (Prometheus, read at scrape time
 * from the current attempt's session plus the attempts that ended) and
 * `--control PATH` (the management socket; `pptp-ts status --socket PATH`).
 */
import { Gauge, Registry } from 'prom-client';
import {
  readCounter,
  registerProcessMetrics,
  registerTrafficMetrics,
  type TrafficSums,
  TrafficTotals,
} from '../session/metrics.js';
import type { PptpClient } from './client.js';

/** Follows the supervisor's attempts (its `onClient` callback). */
export class ClientTracker {
  private current: PptpClient | undefined;
  private upAt: number | undefined;
  private readonly totals = new TrafficTotals();
  attempts = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** The supervisor's `onClient`: a new attempt starts (the previous one has ended). */
  readonly onClient = (c: PptpClient): void => {
    const prev = this.current?.stats;
    if (prev) this.totals.add(prev);
    this.current = c;
    this.upAt = undefined;
    this.attempts++;
    c.onUp = () => {
      this.upAt = this.now();
    };
  };

  traffic(): TrafficSums {
    const s = this.current?.stats;
    return this.totals.sum(s ? [s] : []);
  }

  get up(): boolean {
    return this.current?.info !== undefined;
  }

  /** What `pptp-ts status` prints for a client. */
  status(): Record<string, unknown> {
    const info = this.current?.info;
    const s = this.current?.stats;
    return {
      role: 'client',
      state: info ? 'up' : 'connecting',
      attempts: this.attempts,
      ...(info
        ? {
            server: info.server,
            ifname: info.ifname,
            local: info.localAddress,
            remote: info.remoteAddress,
            dns: info.dns,
            mtu: info.mtu,
            uptimeSeconds: this.upAt === undefined ? 0 : Math.round((this.now() - this.upAt) / 1000),
          }
        : {}),
      bytesIn: s?.ppp.rxBytes ?? 0,
      bytesOut: s?.ppp.txBytes ?? 0,
    };
  }
}

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
