import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import type { SessionStats } from '../../src/session/session.js';
import { TrafficTotals } from '../../src/session/traffic.js';
import { registerTrafficMetrics } from '../../src/session/traffic-metrics.js';

/** Session stats whose every counter is 0 but the ones given. */
function stats(ppp: Record<string, number>, gre: Record<string, number> = {}): SessionStats {
  const counters = (own: Record<string, number>) =>
    new Proxy(own, { get: (o, k) => (typeof k === 'string' ? (o[k] ?? 0) : undefined) });
  return { ppp: counters(ppp), gre: counters(gre) } as unknown as SessionStats;
}

function sample(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line, `${name} is exported`);
  return Number(line.split(' ')[1]);
}

test('the stateful MPPE resends are summed over ended and live sessions and exported', async () => {
  const totals = new TrafficTotals();
  totals.add(stats({ resetResends: 2, resetRequestsReceived: 2 }));
  const live = [stats({ resetResends: 3 }), stats({ rxBytes: 10 })];
  const registry = new Registry();
  registerTrafficMetrics(registry, () => totals.sum(live));
  const text = await registry.metrics();
  assert.equal(sample(text, 'pptp_mppe_reset_resends_total'), 5);
  assert.equal(sample(text, 'pptp_receive_bytes_total'), 10);
  assert.match(text, /pptp_mppe_reset_requests_total\{direction="received"\} 2/);
});
