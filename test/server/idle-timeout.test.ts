/**
 * Idle-Timeout (RFC 2865 §5.28) bookkeeping on a virtual clock: the sweep
 * ends a session whose packet count stayed put for its limit, keeps one
 * whose count moves, runs only while something is watched, and takes a
 * changed limit (CoA) without forgetting the idle time so far.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/io/clock.js';
import { validateServerConfig } from '../../src/server/config.js';
import { IDLE_SWEEP_MAX_MS, IDLE_SWEEP_MIN_MS, IdleWatch } from '../../src/server/idle-timeout.js';
import { configErrorOf } from '../helpers/config-error.js';

function setup() {
  const clock = new ManualClock(10_000);
  const watch = new IdleWatch(clock);
  const ended: { id: number; seconds: number; at: number }[] = [];
  const packets = new Map<number, number>();
  const add = (id: number, seconds: number) => {
    packets.set(id, 0);
    watch.watch(
      id,
      seconds,
      () => packets.get(id)!,
      (s) => ended.push({ id, seconds: s, at: clock.now() }),
    );
  };
  return { clock, watch, ended, packets, add };
}

describe('idle timeout', () => {
  it('ends a silent session between its limit and limit + two sweeps, once', () => {
    const { clock, watch, ended, add } = setup();
    add(1, 3);
    clock.advance(2500);
    assert.equal(ended.length, 0, 'not before the limit');
    clock.advance(3500);
    assert.equal(ended.length, 1);
    assert.equal(ended[0]!.id, 1);
    assert.equal(ended[0]!.seconds, 3);
    const after = ended[0]!.at - 10_000;
    assert.ok(after >= 3000 && after <= 3000 + 2 * IDLE_SWEEP_MIN_MS, `ended ${after} ms in`);
    assert.equal(watch.size, 0);
    assert.equal(clock.pendingTimers, 0, 'no sweep while nothing is watched');
    clock.advance(60_000);
    assert.equal(ended.length, 1, 'ends once');
    assert.equal(watch.ended, 1);
  });

  it('keeps a session whose packets move, and ends it once they stop', () => {
    const { clock, ended, packets, add } = setup();
    add(1, 3);
    for (let i = 0; i < 30; i++) {
      packets.set(1, packets.get(1)! + 1);
      clock.advance(1000);
    }
    assert.equal(ended.length, 0, '30 s of traffic, one packet a second');
    const stoppedAt = clock.now();
    clock.advance(10_000);
    assert.equal(ended.length, 1);
    const after = ended[0]!.at - stoppedAt;
    assert.ok(
      after >= 3000 && after <= 3000 + 2 * IDLE_SWEEP_MIN_MS,
      `ended ${after} ms after the last packet`,
    );
  });

  it('one sweep for many sessions, no longer than 5 s apart, each ended on its own limit', () => {
    const { clock, ended, packets, add } = setup();
    for (let id = 1; id <= 1000; id++) add(id, id % 2 ? 60 : 120);
    assert.equal(clock.pendingTimers, 1, 'one timer for all');
    // Even ids talk all along.
    for (let t = 0; t < 130; t++) {
      for (let id = 2; id <= 1000; id += 2) packets.set(id, packets.get(id)! + 1);
      clock.advance(1000);
    }
    assert.equal(ended.length, 500);
    assert.ok(ended.every((e) => e.id % 2 === 1 && e.at - 10_000 <= 60_000 + 2 * IDLE_SWEEP_MAX_MS));
    assert.ok(ended.every((e) => e.at - 10_000 >= 60_000));
  });

  it('a changed limit keeps the idle time so far; 0 stops watching; unwatch forgets', () => {
    const { clock, watch, ended, add } = setup();
    add(1, 100);
    add(2, 100);
    clock.advance(20_000);
    assert.ok(watch.change(1, 10), 'changed');
    assert.equal(watch.limitOf(1), 10);
    clock.advance(2500);
    assert.deepEqual(
      ended.map((e) => e.id),
      [1],
      'already idle 20 s, beyond the new 10 s',
    );
    assert.ok(watch.change(2, 0));
    assert.equal(watch.size, 0);
    assert.equal(watch.change(3, 5), false, 'not watched');
    add(4, 5);
    watch.unwatch(4);
    clock.advance(60_000);
    assert.equal(ended.length, 1);
    assert.equal(clock.pendingTimers, 0);
  });

  it('watch(…, 0) is no watch; close() stops everything', () => {
    const { clock, watch, ended, add } = setup();
    add(1, 0);
    assert.equal(watch.size, 0);
    add(2, 5);
    watch.close();
    clock.advance(60_000);
    assert.equal(ended.length, 0);
    assert.equal(clock.pendingTimers, 0);
  });

  it('ppp.idle: absent by default, whole seconds up to a day, named when wrong', () => {
    const base = { 'local-ip': '10.99.0.1', pool: '10.99.0.10-20', secrets: '/x' };
    assert.equal(validateServerConfig(base).ppp.idle, undefined);
    assert.equal(validateServerConfig({ ...base, ppp: { idle: 600 } }).ppp.idle, 600);
    for (const bad of [-1, 1.5, 86401, '60']) {
      assert.match(configErrorOf({ ...base, ppp: { idle: bad } }), /ppp\.idle: /, String(bad));
    }
  });
});
