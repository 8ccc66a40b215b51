/**
 * The JSON log path (docs/operations.md "Logs"): today's line logger
 * (src/io/log.ts) against pino, each formatting the server's busiest
 * event line (`session end`, 17 fields, with a child logger's fields) into
 * a sink that only counts characters, so the figure is the formatting, not
 * the write(2) both would do. Text format for reference.
 */
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { createLogger } from '../../src/io/log.js';
import { type Benchmark, blackhole } from '../harness.js';

const FIELDS = {
  event: 'session-down',
  id: 4711,
  peer: '198.51.100.2',
  callId: 51234,
  user: 'alice',
  address: '10.88.0.10',
  seconds: 3600.2,
  rxBytes: 123456789,
  txBytes: 987654321,
  rxPackets: 123456,
  txPackets: 654321,
  spoofed: 0,
  greQueueDrops: 0,
  greLost: 3,
  reason: 'the peer sent Call-Clear-Request',
  sessions: 120,
};

const OURS_JSON = 'log: session end line, src/io/log.ts JSON';

function ours(format: 'json' | 'text'): Benchmark {
  return {
    name: format === 'json' ? OURS_JSON : 'log: session end line, src/io/log.ts text',
    unit: 'lines',
    ...(format === 'text' ? { baseline: OURS_JSON } : {}),
    setup() {
      let last = '';
      const root = createLogger('', {
        format,
        write: (l) => {
          last = l;
          blackhole.value += l.length;
        },
      });
      root.log('info', 'session end', FIELDS);
      if (format === 'json') assert.equal(JSON.parse(last).event, 'session-down');
      return (n) => {
        for (let i = 0; i < n; i++) root.log('info', 'session end', FIELDS);
      };
    },
  };
}

function pinoBench(): Benchmark {
  return {
    name: 'log: session end line, pino JSON',
    unit: 'lines',
    baseline: OURS_JSON,
    setup() {
      let last = '';
      const sink = {
        write(s: string) {
          last = s;
          blackhole.value += s.length;
        },
      };
      const root = pino({ base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, sink);
      root.info(FIELDS, 'session end');
      assert.equal(JSON.parse(last).event, 'session-down');
      return (n) => {
        for (let i = 0; i < n; i++) root.info(FIELDS, 'session end');
      };
    },
  };
}

export const benchmarks: Benchmark[] = [ours('json'), pinoBench(), ours('text')];
