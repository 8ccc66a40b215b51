/**
 * Time for the drivers. The protocol engines never read the clock or start
 * timers (docs/style.md §4); they return `{kind:'startTimer', id, ms}` actions and
 * take `now` as an argument. The drivers in client/ and server/ execute those
 * actions against a {@link Clock}: {@link RealClock} in production,
 * {@link ManualClock} in tests, where time moves only when the test says so.
 */

/** A pending one-shot timer. */
export interface Timer {
  /** Stops the timer if it has not fired yet. Idempotent. */
  cancel(): void;
  /**
   * Optional: arms this timer again, pending, fired or cancelled, to run
   * the same function `ms` from now, with no new allocation (a periodic
   * timer re-armed from its own callback then makes no garbage). Clocks
   * without it are used through {@link Clock.setTimer} again.
   */
  restart?(ms: number): void;
}

/**
 * Arms `timer` again for `ms` from now with its own function, in place when
 * the clock supports it ({@link Timer.restart}); otherwise cancels it and
 * sets a new one on `clock` for `fn` (the timer's function). Returns the
 * timer that is now armed.
 */
export function rearmTimer(clock: Clock, timer: Timer | undefined, ms: number, fn: () => void): Timer {
  if (timer?.restart) {
    timer.restart(ms);
    return timer;
  }
  timer?.cancel();
  return clock.setTimer(ms, fn);
}

export interface Clock {
  /** Monotonic time in milliseconds (arbitrary origin; only differences mean anything). */
  now(): number;
  /** Calls `fn` once, `ms` milliseconds from now (negative counts as 0). */
  setTimer(ms: number, fn: () => void): Timer;
}

export interface RealClockOptions {
  /** Timers do not keep the process alive (like `timeout.unref()`). Default false. */
  unref?: boolean;
}

/** Wall-clock time: `performance.now()` and `setTimeout`. */
export class RealClock implements Clock {
  private readonly unref: boolean;

  constructor(opts: RealClockOptions = {}) {
    this.unref = opts.unref ?? false;
  }

  now(): number {
    return performance.now();
  }

  setTimer(ms: number, fn: () => void): Timer {
    const t = setTimeout(fn, Math.max(0, ms));
    if (this.unref) t.unref();
    return { cancel: () => clearTimeout(t) };
  }
}

/** The shared real clock. */
export const realClock: Clock = new RealClock();

interface ManualTimer {
  readonly deadline: number;
  /** Creation order: ties on the deadline fire in the order they were set. */
  readonly order: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/**
 * A clock that moves only when told to (smoltcp passes `now` in; this is the
 * driver-side equivalent). Timers fire in deadline order, ties in the order
 * they were set, and `now()` reads each timer's own deadline while it runs.
 * A timer set while others fire runs in the same `advance()` if its deadline
 * falls inside the window. Nothing here touches the real clock.
 */
export class ManualClock implements Clock {
  private current = 0;
  private nextOrder = 0;
  private live = 0;
  /** Binary min-heap on (deadline, order); cancelled timers are removed lazily. */
  private readonly heap: ManualTimer[] = [];

  constructor(startMs = 0) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimer(ms: number, fn: () => void): Timer {
    const t: ManualTimer = {
      deadline: this.current + Math.max(0, ms),
      order: this.nextOrder++,
      fn,
      cancelled: false,
    };
    this.push(t);
    this.live++;
    return {
      cancel: () => {
        if (t.cancelled) return;
        t.cancelled = true;
        this.live--;
      },
    };
  }

  /** Timers that have neither fired nor been cancelled. */
  get pendingTimers(): number {
    return this.live;
  }

  /** Deadline of the next live timer, or undefined when none is pending. */
  nextDeadline(): number | undefined {
    return this.peek()?.deadline;
  }

  /** Moves time forward by `ms`, firing every timer due on the way. Returns how many fired. */
  advance(ms: number): number {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance: ms must be >= 0, got ${ms}`);
    return this.advanceTo(this.current + ms);
  }

  /** Moves time to `t` (never backwards), firing every timer due by then. Returns how many fired. */
  advanceTo(t: number): number {
    if (t < this.current)
      throw new RangeError(`ManualClock.advanceTo: time may not go back (${t} < ${this.current})`);
    let fired = 0;
    for (let next = this.peek(); next && next.deadline <= t; next = this.peek()) {
      this.fire(next);
      fired++;
    }
    this.current = t;
    return fired;
  }

  /** Jumps to the next timer and fires it (and any others due at the same instant). Returns false when none is pending. */
  runNext(): boolean {
    const next = this.peek();
    if (!next) return false;
    this.advanceTo(next.deadline);
    return true;
  }

  /**
   * Fires timers until none is pending, jumping time forward. Throws after
   * `maxTimers` so a self-rearming timer (a keep-alive) cannot loop forever.
   */
  runAll(maxTimers = 10_000): number {
    let fired = 0;
    for (let next = this.peek(); next; next = this.peek()) {
      if (fired >= maxTimers) throw new Error(`ManualClock.runAll: more than ${maxTimers} timers fired`);
      this.fire(next);
      fired++;
    }
    return fired;
  }

  private fire(t: ManualTimer): void {
    this.pop();
    t.cancelled = true;
    this.live--;
    this.current = Math.max(this.current, t.deadline);
    t.fn();
  }

  /** The earliest live timer (drops cancelled ones from the top). */
  private peek(): ManualTimer | undefined {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
    return this.heap[0];
  }

  private static before(a: ManualTimer, b: ManualTimer): boolean {
    return a.deadline < b.deadline || (a.deadline === b.deadline && a.order < b.order);
  }

  private push(t: ManualTimer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!ManualClock.before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && ManualClock.before(h[l]!, h[m]!)) m = l;
      if (r < h.length && ManualClock.before(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
