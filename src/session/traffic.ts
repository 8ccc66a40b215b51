/**
 * Sums of sessions' traffic counters for the metrics (docs/operations.md
 * "Metrics"): the counters stay where the data path keeps them
 * ({@link SessionStats}); a scrape adds them up over the live sessions plus
 * the sessions that ended. No metrics library here, so a client without
 * `--metrics` can follow its attempts without loading one.
 */
import type { SessionStats } from './session.js';

/** The per-session counters the metrics carry (sums over sessions). */
const FIELDS = {
  rxBytes: (s: SessionStats) => s.ppp.rxBytes,
  txBytes: (s: SessionStats) => s.ppp.txBytes,
  rxPackets: (s: SessionStats) => s.ppp.rxPackets,
  txPackets: (s: SessionStats) => s.ppp.txPackets,
  rxErrors: (s: SessionStats) => s.ppp.rxErrors,
  rxDropped: (s: SessionStats) => s.ppp.rxDropped,
  txDropped: (s: SessionStats) => s.ppp.txDropped,
  resetSent: (s: SessionStats) => s.ppp.resetRequestsSent,
  resetReceived: (s: SessionStats) => s.ppp.resetRequestsReceived,
  resetResends: (s: SessionStats) => s.ppp.resetResends,
  greLost: (s: SessionStats) => s.gre.rxLost,
  greReordered: (s: SessionStats) => s.gre.rxReordered,
  greDuplicate: (s: SessionStats) => s.gre.rxDuplicate,
  greStale: (s: SessionStats) => s.gre.rxStale,
  greWindowStalls: (s: SessionStats) => s.gre.txQueued,
  greQueueDrops: (s: SessionStats) => s.gre.txDroppedQueueFull,
  greAckTimeouts: (s: SessionStats) => s.gre.txAckTimeouts,
} as const;

export type TrafficField = keyof typeof FIELDS;
export type TrafficSums = Record<TrafficField, number>;

function zero(): TrafficSums {
  const z = {} as TrafficSums;
  for (const k of Object.keys(FIELDS) as TrafficField[]) z[k] = 0;
  return z;
}

/** The counters of sessions that ended, kept so that totals never go down. */
export class TrafficTotals {
  private readonly ended = zero();

  add(s: SessionStats): void {
    for (const k of Object.keys(FIELDS) as TrafficField[]) this.ended[k] += FIELDS[k](s);
  }

  /** Ended sessions plus the live ones. */
  sum(live: Iterable<SessionStats>): TrafficSums {
    const out = { ...this.ended };
    for (const s of live) for (const k of Object.keys(FIELDS) as TrafficField[]) out[k] += FIELDS[k](s);
    return out;
  }
}
