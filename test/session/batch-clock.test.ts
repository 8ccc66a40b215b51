/**
 * BatchClock (src/session/timers.ts), the process-wide timer scheduler:
 * the deadline grid on its own, then random scripts of set/cancel/advance
 * (with callbacks that set and cancel timers themselves) run against a
 * naive sorted reference scheduler, the batching it exists for, exception
 * safety, and the real clock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Clock, ManualClock, RealClock, type Timer } from '../../src/io/clock.js';
import { BatchClock, batchDeadline, TimerSet, timerSlackMs, waitAtMost } from '../../src/session/timers.js';
import { prng } from '../fuzz/mutate.js';

/**
 * The reference: every timer in one array, due at batchDeadline(now, ms);
 * advancing picks the earliest (deadline, order) again and again, so a
 * timer set by a callback runs in the same advance when it is due by then.
 */
class ReferenceClock implements Clock {
  private current: number;
  private order = 0;
  private readonly timers: { deadline: number; order: number; fn: () => void; live: boolean }[] = [];

  constructor(start: number) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimer(ms: number, fn: () => void): Timer {
    const t = { deadline: batchDeadline(this.current, ms), order: this.order++, fn, live: true };
    this.timers.push(t);
    return {
      cancel: () => {
        t.live = false;
      },
    };
  }

  get pending(): number {
    return this.timers.filter((t) => t.live).length;
  }

  advanceTo(to: number): void {
    for (;;) {
      let best: (typeof this.timers)[number] | undefined;
      for (const t of this.timers) {
        if (!t.live || t.deadline > to) continue;
        if (!best || t.deadline < best.deadline || (t.deadline === best.deadline && t.order < best.order))
          best = t;
      }
      if (!best) break;
      best.live = false;
      this.current = Math.max(this.current, best.deadline);
      best.fn();
    }
    this.current = to;
  }
}

/**
 * A random script against `clock`: timers with delays from 0 to 70 s;
 * callbacks that set new timers and cancel live ones; cancellations and
 * time steps between. Returns the log of what fired when.
 */
function runScript(
  seed: number,
  clock: Clock,
  advanceTo: (t: number) => void,
  check: (live: number) => void,
): string[] {
  const rand = prng(seed);
  const log: string[] = [];
  const live = new Map<number, Timer>();
  let nextId = 0;
  const delay = () => {
    const r = rand();
    if (r < 0.15) return 0;
    if (r < 0.5) return Math.floor(rand() * 300);
    if (r < 0.8) return Math.floor(rand() * 5000);
    return Math.floor(rand() * 70_000);
  };
  const set = (depth: number) => {
    const id = nextId++;
    const t = clock.setTimer(delay(), () => {
      live.delete(id);
      log.push(`${id}@${clock.now()}`);
      if (depth < 3) {
        const k = Math.floor(rand() * 3);
        for (let i = 0; i < k; i++) set(depth + 1);
      }
      if (rand() < 0.3) cancelOne();
    });
    live.set(id, t);
  };
  const cancelOne = () => {
    if (live.size === 0) return;
    const ids = [...live.keys()];
    const id = ids[Math.floor(rand() * ids.length)]!;
    live.get(id)!.cancel();
    live.get(id)!.cancel(); // idempotent
    live.delete(id);
    log.push(`cancel ${id}`);
  };
  let now = clock.now();
  for (let step = 0; step < 400; step++) {
    const r = rand();
    if (r < 0.45) set(0);
    else if (r < 0.6) cancelOne();
    else {
      now += Math.floor(rand() * (rand() < 0.8 ? 400 : 20_000));
      advanceTo(now);
    }
    check(live.size);
  }
  advanceTo(now + 500_000);
  check(live.size);
  return log;
}

describe('batchDeadline', () => {
  it('is never early, at most 1 % late (or 1 ms), and on a shared grid', () => {
    const rand = prng(1);
    for (let i = 0; i < 20_000; i++) {
      const now = rand() * 1e7;
      const ms = Math.floor(rand() * (rand() < 0.5 ? 1000 : 120_000));
      const d = batchDeadline(now, ms);
      const g = timerSlackMs(ms);
      assert.ok(d >= now + ms, `early: ${d} < ${now} + ${ms}`);
      assert.ok(d - (now + ms) < Math.max(1, ms / 100), `too late: ${d - now - ms} for ${ms}`);
      assert.equal(d % g, 0);
    }
    assert.equal(timerSlackMs(30_000), 256);
    assert.equal(timerSlackMs(3000), 16);
    assert.equal(timerSlackMs(100), 1);
    assert.equal(timerSlackMs(99), 1);
    assert.equal(batchDeadline(10.5, -5), 11, 'negative delays count as 0');
    assert.equal(batchDeadline(10, Number.NaN), 10);
  });
});

describe('BatchClock', () => {
  it('fires exactly as a sorted reference scheduler, over random scripts with re-entrant callbacks', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const ref = new ReferenceClock(1_000_000);
      const expected = runScript(
        seed,
        ref,
        (t) => ref.advanceTo(t),
        (n) => assert.equal(ref.pending, n),
      );
      const manual = new ManualClock(1_000_000);
      const batch = new BatchClock(manual);
      const actual = runScript(
        seed,
        batch,
        (t) => manual.advanceTo(t),
        (n) => {
          assert.equal(batch.pendingTimers, n, `seed ${seed}: pending`);
          assert.ok(manual.pendingTimers <= 1, `seed ${seed}: ${manual.pendingTimers} base timers`);
          assert.equal(manual.pendingTimers, n > 0 ? 1 : 0, `seed ${seed}: base armed iff timers pending`);
        },
      );
      assert.ok(expected.length > 100, `seed ${seed}: a script that does something`);
      assert.deepEqual(actual, expected, `seed ${seed}`);
      assert.equal(batch.pendingTimers, 0);
      assert.equal(manual.pendingTimers, 0);
    }
  });

  it('batches: 10,000 echo timers of 30 s set over 30 s fire in about 120 wake-ups, none early', () => {
    const manual = new ManualClock(0);
    const batch = new BatchClock(manual);
    let early = 0;
    let late = 0;
    for (let i = 0; i < 10_000; i++) {
      manual.advanceTo(i * 3);
      const want = manual.now() + 30_000;
      batch.setTimer(30_000, () => {
        if (manual.now() < want) early++;
        late = Math.max(late, manual.now() - want);
      });
    }
    const baseFired = manual.advance(60_000);
    assert.equal(batch.stats.fired, 10_000);
    assert.equal(early, 0);
    assert.ok(late < 300, `late by ${late} ms`);
    assert.ok(baseFired <= 130, `${baseFired} wake-ups`);
    assert.equal(batch.stats.batches, baseFired);
  });

  it('a timer set while a batch runs waits for the next batch, even when due at once', () => {
    const manual = new ManualClock(0);
    const batch = new BatchClock(manual);
    const log: string[] = [];
    batch.setTimer(10, () => {
      log.push('a');
      batch.setTimer(0, () => log.push('c'));
    });
    batch.setTimer(10, () => log.push('b'));
    assert.equal(manual.advance(10), 2, 'two base wake-ups');
    assert.deepEqual(log, ['a', 'b', 'c']);
    assert.equal(batch.stats.batches, 2);
  });

  it('cancelling every timer of the armed deadline moves the base timer on (no empty wake-up)', () => {
    const manual = new ManualClock(0);
    const batch = new BatchClock(manual);
    const a = batch.setTimer(50, () => assert.fail('cancelled'));
    let fired = 0;
    batch.setTimer(80, () => fired++);
    a.cancel();
    assert.equal(manual.pendingTimers, 1);
    assert.equal(manual.nextDeadline(), 80);
    manual.advance(100);
    assert.equal(fired, 1);
    assert.equal(batch.stats.batches, 1);
  });

  it('a callback that throws: the error propagates, the rest of the batch still runs at the next wake-up', () => {
    const manual = new ManualClock(0);
    const batch = new BatchClock(manual);
    const log: string[] = [];
    batch.setTimer(5, () => log.push('a'));
    batch.setTimer(5, () => {
      throw new Error('boom');
    });
    batch.setTimer(5, () => log.push('c'));
    batch.setTimer(7, () => log.push('d'));
    assert.throws(() => manual.advance(5), /boom/);
    assert.deepEqual(log, ['a']);
    assert.equal(batch.pendingTimers, 2);
    manual.advance(5);
    assert.deepEqual(log, ['a', 'c', 'd']);
    assert.equal(batch.pendingTimers, 0);
    assert.equal(manual.pendingTimers, 0);
  });

  it('drives a TimerSet like any Clock (restart and stop)', () => {
    const manual = new ManualClock(0);
    const batch = new BatchClock(manual);
    const fired: string[] = [];
    const t = new TimerSet(batch, (id) => fired.push(`${id}@${batch.now()}`));
    t.start('a', 100);
    t.start('b', 50);
    manual.advance(40);
    t.start('a', 100);
    t.stop('b');
    manual.advance(200);
    assert.deepEqual(fired, ['a@140']);
    assert.equal(batch.pendingTimers, 0);
  });

  it('restart() re-arms a timer in place: pending (moved), fired (again) or cancelled (revived)', () => {
    const manual = new ManualClock(0);
    const batch = new BatchClock(manual);
    const fired: number[] = [];
    const t = batch.setTimer(100, () => fired.push(batch.now()));
    t.restart?.(50); // pending: moved earlier
    manual.advance(60);
    assert.deepEqual(fired, [50]);
    t.restart?.(30); // fired: armed again
    manual.advance(40);
    assert.deepEqual(fired, [50, 90]);
    t.restart?.(10);
    t.cancel();
    manual.advance(20);
    assert.deepEqual(fired, [50, 90], 'cancelled');
    t.restart?.(10); // cancelled: revived
    manual.advance(20);
    assert.deepEqual(fired, [50, 90, 130]);
    assert.equal(batch.pendingTimers, 0);
  });

  it('a TimerSet timer restarted from its own callback (a keep-alive) reuses its clock timer', () => {
    const manual = new ManualClock(0);
    const batch = new BatchClock(manual);
    let made = 0;
    const counting: Clock = {
      now: () => batch.now(),
      setTimer: (ms, fn) => {
        made++;
        return batch.setTimer(ms, fn);
      },
    };
    const fired: string[] = [];
    const t = new TimerSet(counting, (id) => {
      fired.push(`${id}@${batch.now()}`);
      if (id === 'echo') t.start('echo', 1000);
    });
    t.start('echo', 1000);
    t.start('once', 500);
    manual.advance(5000);
    assert.deepEqual(fired, ['once@500', 'echo@1000', 'echo@2000', 'echo@3000', 'echo@4000', 'echo@5000']);
    assert.equal(made, 2, 'one clock timer per id, however often the keep-alive ran');
    assert.deepEqual(t.ids(), ['echo']);
    assert.equal(t.has('once'), false);
    t.stop('echo');
    assert.equal(t.size, 0);
    assert.equal(batch.pendingTimers, 0);
  });

  it('on the real clock: fires in order, cancels, and leaves no Node timer behind', async () => {
    const batch = new BatchClock(new RealClock());
    const log: string[] = [];
    const t0 = performance.now();
    const done = new Promise<void>((resolve) => {
      batch.setTimer(30, () => {
        log.push('b');
        resolve();
      });
    });
    batch.setTimer(10, () => log.push('a'));
    const x = batch.setTimer(20, () => log.push('x'));
    x.cancel();
    await done;
    assert.deepEqual(log, ['a', 'b']);
    assert.ok(performance.now() - t0 >= 29);
    assert.equal(batch.baseTimers, 0);
    assert.ok(!process.getActiveResourcesInfo().includes('Timeout'));
  });
});

describe('waitAtMost: one bounded teardown step', () => {
  it('resolves when woken, and cancels its timer', async () => {
    const clock = new ManualClock();
    let wake: (() => void) | undefined;
    const done = waitAtMost(clock, 1000, (w) => {
      wake = w;
    });
    assert.equal(clock.pendingTimers, 1);
    clock.advance(10);
    wake!();
    await done;
    assert.equal(clock.pendingTimers, 0);
    assert.equal(clock.now(), 10);
  });
  it('resolves after ms when nothing wakes it', async () => {
    const clock = new ManualClock();
    let resolved = false;
    const done = waitAtMost(clock, 1000, () => {}).then(() => {
      resolved = true;
    });
    clock.advance(999);
    await Promise.resolve();
    assert.equal(resolved, false);
    clock.advance(1);
    await done;
    assert.equal(resolved, true);
  });
});
