/**
 * The busy-poll's counters on the server's metrics endpoint
 * (src/cli/busy-poll-metrics.ts): read at each scrape, in seconds where
 * Prometheus wants seconds, valid exposition text (`promtool check metrics`).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { registerBusyPollMetrics } from '../../src/cli/busy-poll-metrics.js';
import { clientRegistry } from '../../src/cli/connect-metrics.js';
import { ClientTracker } from '../../src/client/operations.js';
import type { BusyPollStats } from '../../src/io/busy-poll.js';
import { checkMetricsWithPromtool } from '../helpers/tools.js';

describe('busy-poll metrics', () => {
  it('show the counters as they are at each scrape', async () => {
    const stats: BusyPollStats = { spins: 7, hits: 5, batches: 9, polls: 1234, spinMicros: 2_500_000 };
    const r = new Registry();
    registerBusyPollMetrics(r, () => stats);
    let text = await r.metrics();
    assert.match(text, /^pptp_busy_poll_spins_total 7$/m);
    assert.match(text, /^pptp_busy_poll_hits_total 5$/m);
    assert.match(text, /^pptp_busy_poll_batches_total 9$/m);
    assert.match(text, /^pptp_busy_poll_seconds_total 2\.5$/m);
    stats.spins = 8;
    stats.spinMicros = 3_000_000;
    text = await r.metrics();
    assert.match(text, /^pptp_busy_poll_spins_total 8$/m);
    assert.match(text, /^pptp_busy_poll_seconds_total 3$/m);
    checkMetricsWithPromtool(text);
  });

  it("are on a client's registry with --busy-poll, and only then", async () => {
    for (const busyPoll of [true, false]) {
      const m = clientRegistry(new ClientTracker(), { busyPoll });
      m.refresh();
      const text = await m.registry.metrics();
      assert.match(text, /^pptp_receive_bytes_total /m, 'the traffic metrics are there either way');
      assert.equal(/^pptp_busy_poll_spins_total \d+$/m.test(text), busyPoll, `busyPoll ${busyPoll}`);
    }
  });
});
