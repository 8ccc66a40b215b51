/**
 * What `pptp-ts connect` offers its operator beside the tunnel
 * (docs/operations.md): `--metrics ADDR` (Prometheus, read at scrape time
 * from the current attempt's session plus the attempts that ended) and
 * `--control PATH` (the management socket; `pptp-ts status --socket PATH`).
 */
import { type TrafficSums, TrafficTotals } from '../session/traffic.js';
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
