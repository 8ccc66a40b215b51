/**
 * Named one-shot timers on a {@link Clock}: how the drivers execute the
 * engines' `startTimer {id, ms}` / `stopTimer {id}` actions (docs/style.md §4).
 * One timer per id; starting a running id restarts it, as the engines
 * expect. A timer that was stopped or restarted never fires its old self.
 */
import { type Clock, rearmTimer, type Timer } from '../io/clock.js';

/** One named timer of a {@link TimerSet}, with its callback made once for all its restarts. */
interface TimerEntry<Id> {
  readonly id: Id;
  timer: Timer | undefined;
  fn: () => void;
  next: TimerEntry<Id> | undefined;
  /** Pending (not fired, not stopped). */
  active: boolean;
}

export class TimerSet<Id extends string = string> {
  // A handful of ids at most (the unit's restart, echo, auth and reset timers; the control
  // connection's), usually one or two running: a short linked list costs less than a Map,
  // and a server holds two sets per session (docs/sessions.md).
  private head: TimerEntry<Id> | undefined;
  private count = 0;

  constructor(
    private readonly clock: Clock,
    private readonly fire: (id: Id) => void,
  ) {}

  /**
   * (Re)starts timer `id`, due in `ms`. A timer restarted from its own
   * callback (a keep-alive's period) keeps its entry, callback and clock
   * timer: with a clock whose timers restart in place, a periodic timer
   * makes no garbage (on a server, no old-space garbage from every idle
   * session's keep-alives for the collector to mark).
   */
  start(id: Id, ms: number): void {
    let e = this.find(id);
    if (e === undefined) {
      const entry: TimerEntry<Id> = {
        id,
        timer: undefined,
        fn: () => {
          // A cancelled timer never fires (Clock): this is the entry's current one.
          entry.active = false;
          this.count--;
          this.fire(id);
          // Not restarted by its own callback: forget it (a one-shot timer holds nothing after).
          if (!entry.active) this.unlink(entry);
        },
        next: this.head,
        active: false,
      };
      this.head = entry;
      e = entry;
    }
    e.timer = rearmTimer(this.clock, e.timer, ms, e.fn);
    if (!e.active) {
      e.active = true;
      this.count++;
    }
  }

  stop(id: Id): void {
    const e = this.find(id);
    if (!e?.active) return;
    e.timer!.cancel();
    e.active = false;
    this.count--;
    this.unlink(e);
  }

  stopAll(): void {
    for (let e = this.head; e; e = e.next) {
      e.timer?.cancel();
      e.active = false;
    }
    this.head = undefined;
    this.count = 0;
  }

  has(id: Id): boolean {
    return this.find(id)?.active === true;
  }

  /** Ids of the running timers (hygiene checks). */
  ids(): Id[] {
    const out: Id[] = [];
    for (let e = this.head; e; e = e.next) if (e.active) out.push(e.id);
    return out;
  }

  get size(): number {
    return this.count;
  }

  private find(id: Id): TimerEntry<Id> | undefined {
    for (let e = this.head; e; e = e.next) if (e.id === id) return e;
    return undefined;
  }

  /** Removes an entry that is not active (its count was taken already). */
  private unlink(entry: TimerEntry<Id>): void {
    if (this.head === entry) this.head = entry.next;
    else {
      let e = this.head;
      while (e && e.next !== entry) e = e.next;
      if (!e) return;
      e.next = entry.next;
    }
    entry.timer = undefined;
  }
}

/**
 * How late a timer of `ms` may fire so that timers of many sessions share a
 * deadline: the largest power of two ≤ ms / 100 (at most 256 ms, at least
 * 1 ms). So a timer is at most 1 % late (a 30 s LCP echo timer lands on a
 * 256 ms grid, a 3 s restart timer on a 16 ms grid, a 100 ms GRE
 * acknowledgment timer on the millisecond), and never early.
 */
export function timerSlackMs(ms: number): number {
  let g = 1;
  while (g < 256 && g * 2 * 100 <= ms) g *= 2;
  return g;
}

/**
 * The deadline {@link BatchClock} gives a timer of `ms` set at `now`: the
 * requested time rounded up to the timer's slack grid
 * ({@link timerSlackMs}). Exported for the tests' reference model.
 */
export function batchDeadline(now: number, ms: number): number {
  const d = Number.isNaN(ms) ? 0 : Math.max(ms, 0); // negative (and NaN) count as 0, as Clock.setTimer says
  const want = now + d;
  const g = timerSlackMs(d);
  return Math.ceil(want / g) * g;
}

/** A timer of a {@link BatchClock}: an entry in its deadline's bucket (a doubly linked list). */
class BatchTimer implements Timer {
  prev: BatchTimer | undefined;
  next: BatchTimer | undefined;
  /** The bucket it is in; undefined once fired or cancelled. */
  bucket: Bucket | undefined;
  /** Set by {@link BatchClock.schedule}. */
  deadline = 0;

  constructor(
    readonly clock: BatchClock,
    readonly fn: () => void,
  ) {}

  cancel(): void {
    this.clock.remove(this);
  }

  restart(ms: number): void {
    this.clock.remove(this);
    this.clock.schedule(this, ms);
  }
}

/** Emptied buckets a {@link BatchClock} keeps for reuse. */
const SPARE_BUCKETS = 256;

/** The timers due at one deadline, in the order they were set. */
interface Bucket {
  deadline: number;
  head: BatchTimer | undefined;
  tail: BatchTimer | undefined;
  size: number;
}

/**
 * One scheduler for every timer of a process (a server's 10,000 sessions ×
 * LCP echo, PPTP echo, restart and GRE acknowledgment timers), on top of a
 * base {@link Clock}, so that the process holds one base timer instead of
 * tens of thousands, and timers due together fire together:
 *
 * - deadlines are rounded up to a grid that grows with the delay
 *   ({@link batchDeadline}: at most 1 % late, never early), so the echo
 *   timers of thousands of idle sessions fall into a few buckets per
 *   second instead of one wake-up each;
 * - a bucket per distinct deadline (a `Map` from deadline to a linked list,
 *   so setting and cancelling are O(1)), and a binary heap of the distinct
 *   deadlines;
 * - exactly one base timer, armed at the earliest deadline; when it fires,
 *   every bucket due by then runs, in deadline order and, within a
 *   deadline, in the order the timers were set. A timer set while a batch
 *   runs never joins that batch (no loop can starve the event loop); a
 *   timer cancelled while a batch runs does not fire.
 *
 * With a {@link ManualClock} as the base it is as deterministic as the
 * base (the tests run it against a sorted reference).
 */
export class BatchClock implements Clock {
  private readonly buckets = new Map<number, Bucket>();
  /**
   * Distinct deadlines (min-heap). A deadline whose bucket emptied (every
   * timer cancelled) stays until it reaches the top, where it is dropped.
   */
  private readonly heap: number[] = [];
  /**
   * Emptied buckets kept for the next deadlines (at most
   * {@link SPARE_BUCKETS}): a bucket lives until its deadline, up to a
   * keep-alive period, so a new one for every deadline would be old-space
   * garbage on a server at rest.
   */
  private readonly spare: Bucket[] = [];
  private baseTimer: Timer | undefined;
  /** The deadline the base timer is armed for (Infinity: not armed). */
  private baseAt = Number.POSITIVE_INFINITY;
  /** A batch is running: arming waits for its end. */
  private running = false;
  private live = 0;
  private batches = 0;
  private fired = 0;

  constructor(private readonly base: Clock) {}

  now(): number {
    return this.base.now();
  }

  setTimer(ms: number, fn: () => void): Timer {
    const t = new BatchTimer(this, fn);
    this.schedule(t, ms);
    return t;
  }

  /** Links an unlinked timer into the bucket of its new deadline, `ms` from now (set and restart). */
  schedule(t: BatchTimer, ms: number): void {
    const deadline = batchDeadline(this.base.now(), ms);
    t.deadline = deadline;
    let b = this.buckets.get(deadline);
    if (b === undefined) {
      b = this.spare.pop();
      if (b === undefined) b = { deadline, head: undefined, tail: undefined, size: 0 };
      else b.deadline = deadline;
      this.buckets.set(deadline, b);
      this.heapPush(deadline);
    }
    this.relink(t, b);
    if (!this.running && deadline < this.baseAt) this.arm(deadline);
  }

  /** Timers set and neither fired nor cancelled. */
  get pendingTimers(): number {
    return this.live;
  }

  /** Base timers armed now (0 or 1), for the tests. */
  get baseTimers(): number {
    return this.baseTimer ? 1 : 0;
  }

  /** Wake-ups of the base timer that ran at least one timer, and the timers run (for the bench's figures). */
  get stats(): { readonly batches: number; readonly fired: number } {
    return { batches: this.batches, fired: this.fired };
  }

  /** Unlinks `t` from its bucket (cancel). Idempotent. */
  remove(t: BatchTimer): void {
    const b = t.bucket;
    if (b === undefined) return;
    if (t.prev) t.prev.next = t.next;
    else b.head = t.next;
    if (t.next) t.next.prev = t.prev;
    else b.tail = t.prev;
    t.prev = undefined;
    t.next = undefined;
    t.bucket = undefined;
    b.size--;
    this.live--;
    if (b.size > 0) return;
    if (this.buckets.get(b.deadline) === b) {
      this.buckets.delete(b.deadline);
      this.recycle(b);
    }
    // The base timer was armed for this bucket: move it to the next one (no empty wake-up).
    if (!this.running && b.deadline === this.baseAt) this.rearm();
  }

  private arm(deadline: number): void {
    this.baseTimer?.cancel();
    this.baseAt = deadline;
    this.baseTimer = this.base.setTimer(deadline - this.base.now(), () => this.onBase(deadline));
  }

  /** Arms the base timer for the earliest bucket that still has timers (or disarms it). */
  private rearm(): void {
    while (this.heap.length > 0 && !this.buckets.has(this.heap[0]!)) this.heapPop();
    const next = this.heap[0];
    if (next === undefined) {
      this.baseTimer?.cancel();
      this.baseTimer = undefined;
      this.baseAt = Number.POSITIVE_INFINITY;
    } else if (next !== this.baseAt || this.baseTimer === undefined) {
      this.arm(next);
    }
  }

  /** The base timer fired: the time is `armedAt` at least (the base's own contract), whatever its `now()` reads. */
  private onBase(armedAt: number): void {
    this.baseTimer = undefined;
    this.baseAt = Number.POSITIVE_INFINITY;
    const limit = Math.max(this.base.now(), armedAt);
    // Take every due bucket out first: timers set from now on go to new buckets (a later batch).
    const due: Bucket[] = [];
    while (this.heap.length > 0 && this.heap[0]! <= limit) {
      const d = this.heapPop();
      const b = this.buckets.get(d);
      if (b === undefined) continue;
      this.buckets.delete(d);
      due.push(b);
    }
    this.running = true;
    let n = 0;
    let i = 0;
    try {
      for (; i < due.length; i++) {
        const b = due[i]!;
        for (let t = b.head; t !== undefined; t = b.head) {
          // Unlinked before it runs: `fn` may cancel others of this bucket (they then never run).
          this.remove(t);
          n++;
          t.fn();
        }
      }
    } finally {
      // A callback threw: what was due and did not run yet goes back, due at once.
      for (; i < due.length; i++) {
        const b = due[i]!;
        if (b.size === 0) continue;
        const merged = this.buckets.get(b.deadline);
        if (merged === undefined) {
          this.buckets.set(b.deadline, b);
          this.heapPush(b.deadline);
        } else {
          for (let t = b.head; t !== undefined; t = b.head) {
            this.remove(t);
            this.relink(t, merged);
          }
        }
      }
      for (const b of due) if (b.size === 0) this.recycle(b);
      this.running = false;
      if (n > 0) {
        this.batches++;
        this.fired += n;
      }
      this.rearm();
    }
  }

  /** Keeps an empty bucket, no longer in {@link buckets}, for a later deadline. */
  private recycle(b: Bucket): void {
    if (this.spare.length < SPARE_BUCKETS) this.spare.push(b);
  }

  /** Puts an unlinked timer at the end of bucket `b` (a new timer, or one put back after an exception). */
  private relink(t: BatchTimer, b: Bucket): void {
    t.bucket = b;
    t.prev = b.tail;
    if (b.tail) b.tail.next = t;
    else b.head = t;
    b.tail = t;
    b.size++;
    this.live++;
  }

  private heapPush(v: number): void {
    const h = this.heap;
    let i = h.length;
    h.push(v);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]! <= v) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = v;
  }

  private heapPop(): number {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && h[r]! < h[l]! ? r : l;
        if (h[c]! >= last) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

/**
 * Waits until `arm`'s wake function is called, or `ms` have passed on
 * `clock`, whichever comes first (waking cancels the timer): one bounded
 * step of a teardown (LCP Terminate, Call-Clear, Stop-Control-Connection).
 */
export function waitAtMost(clock: Clock, ms: number, arm: (wake: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    let timer: Timer | undefined;
    const wake = () => {
      timer?.cancel();
      timer = undefined;
      resolve();
    };
    timer = clock.setTimer(ms, wake);
    arm(wake);
  });
}
