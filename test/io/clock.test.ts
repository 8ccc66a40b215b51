import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock, RealClock } from '../../src/io/clock.js';

describe('ManualClock', () => {
  it('fires timers in deadline order, ties in the order they were set, with now() at each deadline', () => {
    const c = new ManualClock(1000);
    const log: string[] = [];
    c.setTimer(30, () => log.push(`c@${c.now()}`));
    c.setTimer(10, () => log.push(`a@${c.now()}`));
    c.setTimer(30, () => log.push(`d@${c.now()}`));
    c.setTimer(20, () => log.push(`b@${c.now()}`));
    assert.equal(c.pendingTimers, 4);
    assert.equal(c.nextDeadline(), 1010);
    assert.equal(c.advance(25), 2);
    assert.deepEqual(log, ['a@1010', 'b@1020']);
    assert.equal(c.now(), 1025);
    assert.equal(c.advance(5), 2);
    assert.deepEqual(log, ['a@1010', 'b@1020', 'c@1030', 'd@1030']);
    assert.equal(c.pendingTimers, 0);
    assert.equal(c.nextDeadline(), undefined);
  });

  it('does not fire a timer before its deadline, nor a cancelled one', () => {
    const c = new ManualClock();
    let fired = 0;
    const t = c.setTimer(100, () => fired++);
    const u = c.setTimer(100, () => fired++);
    assert.equal(c.advance(99), 0);
    u.cancel();
    u.cancel();
    assert.equal(c.pendingTimers, 1);
    assert.equal(c.advance(1), 1);
    assert.equal(fired, 1);
    t.cancel(); // after firing: harmless
    assert.equal(c.pendingTimers, 0);
  });

  it('runs timers set while firing when they fall inside the window', () => {
    const c = new ManualClock();
    const at: number[] = [];
    const tick = () => {
      at.push(c.now());
      c.setTimer(10, tick);
    };
    c.setTimer(10, tick);
    assert.equal(c.advance(35), 3);
    assert.deepEqual(at, [10, 20, 30]);
    assert.equal(c.nextDeadline(), 40);
  });

  it('treats negative delays as zero and refuses to go back in time', () => {
    const c = new ManualClock(50);
    let fired = false;
    c.setTimer(-5, () => {
      fired = true;
    });
    assert.equal(c.advance(0), 1);
    assert.ok(fired);
    assert.throws(() => c.advanceTo(10), RangeError);
    assert.throws(() => c.advance(-1), RangeError);
  });

  it('runNext jumps to the next deadline; runAll stops a self-rearming timer at the cap', () => {
    const c = new ManualClock();
    assert.equal(c.runNext(), false);
    c.setTimer(500, () => {});
    assert.equal(c.runNext(), true);
    assert.equal(c.now(), 500);
    const rearm = () => c.setTimer(1, rearm);
    c.setTimer(1, rearm);
    assert.throws(() => c.runAll(50), /more than 50/);
  });

  it('keeps order over many timers (heap against a sorted reference)', () => {
    const c = new ManualClock();
    const fired: number[] = [];
    const expect: { d: number; i: number }[] = [];
    let x = 12345;
    for (let i = 0; i < 2000; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      const d = x % 1000;
      expect.push({ d, i });
      const t = c.setTimer(d, () => fired.push(i));
      if (i % 7 === 0) {
        t.cancel();
        expect.pop();
      }
    }
    expect.sort((a, b) => a.d - b.d || a.i - b.i);
    c.runAll();
    assert.deepEqual(
      fired,
      expect.map((e) => e.i),
    );
  });
});

describe('RealClock', () => {
  it('is monotonic and fires a timer after at least its delay; cancel stops it', async () => {
    const c = new RealClock();
    const t0 = c.now();
    const elapsed = await new Promise<number>((resolve) => c.setTimer(20, () => resolve(c.now() - t0)));
    assert.ok(elapsed >= 19, `fired after ${elapsed} ms`);
    let fired = false;
    c.setTimer(5, () => {
      fired = true;
    }).cancel();
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(fired, false);
  });
});
