/**
 * Metrics on vs off on the data path (docs/operations.md "Metrics"): the
 * in-process session pair of bench/micro/session.ts (1400-byte packets,
 * MPPE-128, both directions' real engines), once bare and once with the
 * metrics registry of src/session/traffic-metrics.ts attached and scraped every
 * {@link SCRAPE_EVERY} packets (a real scraper asks every 15 s or so:
 * this is thousands of times more often). The counters are the engines'
 * own, so "on" should cost what the scrapes cost and nothing per packet.
 */
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { TrafficTotals } from '../../src/session/traffic.js';
import { registerTrafficMetrics } from '../../src/session/traffic-metrics.js';
import { type Benchmark, blackhole } from '../harness.js';
import { pair } from './session.js';

const PACKET = 1400;
const SCRAPE_EVERY = 10_000;
const OFF = 'metrics: session data path, metrics off (MPPE-128, 1400 B)';

function bench(on: boolean): Benchmark {
  return {
    name: on ? `metrics: session data path, metrics on, a scrape per ${SCRAPE_EVERY} pkt` : OFF,
    unit: 'pkt',
    bytesPerOp: PACKET,
    ...(on ? { baseline: OFF } : {}),
    async setup() {
      const p = await pair(true);
      const totals = new TrafficTotals();
      const registry = new Registry();
      let sums = totals.sum([]);
      registerTrafficMetrics(registry, () => sums);
      let sinceScrape = 0;
      let scrapes = 0;
      const scrape = () => {
        sums = totals.sum([p.a.stats, p.b.stats]);
        // The collect callbacks run now (synchronously); the text is put together after.
        void registry.metrics().then((t) => {
          blackhole.value += t.length;
        });
        scrapes++;
      };
      p.step(5000);
      assert.equal(p.stats().delivered, 5000);
      scrape();
      const text = await registry.metrics();
      assert.match(text, /^pptp_receive_bytes_total 7000000$/m, 'the scrape sees what the session counted');
      return (n) => {
        if (!on) {
          p.step(n);
        } else {
          let left = n;
          while (left > 0) {
            const k = Math.min(left, SCRAPE_EVERY - sinceScrape);
            p.step(k);
            left -= k;
            sinceScrape += k;
            if (sinceScrape === SCRAPE_EVERY) {
              sinceScrape = 0;
              scrape();
            }
          }
        }
        blackhole.value += p.stats().delivered + scrapes;
      };
    },
  };
}

export const benchmarks: Benchmark[] = [bench(false), bench(true)];
