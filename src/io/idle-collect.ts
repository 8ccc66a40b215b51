/**
 * A compacting garbage collection once a burst of activity has died down.
 *
 * Why: while a server sets up sessions by the thousand, objects that live
 * for a handshake (a second or so) survive the young generation's
 * collections and are promoted to V8's old space, between the sessions'
 * long-lived objects. When they die, the full collections V8 runs free them
 * into the pages' free lists but keep the pages: at 2,000 idle sessions a
 * third of the old space (18 of 61 MiB) was such free room, all of it RSS.
 * A plain `gc()` there gave back nothing (RSS 150.3 -> 150.4 MiB); a
 * compacting one, which moves the survivors together and unmaps the
 * emptied pages, 14.5 MiB (docs/sessions.md, "Compacting after a burst",
 * which also gives its pause: seconds at 10,000 sessions on a loaded
 * machine, which is why `pptp-ts serve` runs it only when configured to).
 *
 * {@link IdleCollector} counts events (`note()`, e.g. a session up or ended)
 * and, once at least `minEvents` have happened and then none for `quietMs`,
 * runs `collect` once. The events cost one increment each: the timer looks
 * at the count, the event does not touch the timer.
 *
 * {@link fullCollection} is V8's own `gc()` (a stop-the-world mark-compact
 * of the whole heap), which Node hands to JavaScript only under
 * `--expose-gc`. The flag is set at run time and a fresh `vm` context made
 * for the call, since V8 installs `gc` only in contexts made after the flag
 * is set; the context (about 0.3 MiB) is dropped afterwards and goes with
 * the next collection. The cost is the pause of one full, compacting
 * collection, which grows with the live heap (docs/sessions.md gives the
 * figures); it comes once per burst, when the burst has been over for
 * `quietMs`.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Clock, Timer } from './clock.js';

export interface IdleCollectorOptions {
  readonly clock: Clock;
  /** No event for this long ends a burst (ms). */
  readonly quietMs: number;
  /** A burst smaller than this is left to V8. */
  readonly minEvents: number;
  /** What to run when a burst is over (default {@link fullCollection}). */
  readonly collect?: () => void;
}

export class IdleCollector {
  private readonly clock: Clock;
  private readonly quietMs: number;
  private readonly minEvents: number;
  private readonly collect: () => void;
  /** Events since the last collection. */
  private events = 0;
  /** `events` when the timer last looked. */
  private seen = 0;
  private timer: Timer | undefined;
  private closed = false;
  /** Collections run so far. */
  collections = 0;

  constructor(opts: IdleCollectorOptions) {
    if (!(opts.quietMs > 0) || !Number.isInteger(opts.minEvents) || opts.minEvents < 1)
      throw new RangeError('IdleCollector: quietMs > 0 and an integer minEvents >= 1');
    this.clock = opts.clock;
    this.quietMs = opts.quietMs;
    this.minEvents = opts.minEvents;
    this.collect = opts.collect ?? fullCollection;
  }

  /** One event of a burst (a session up, a session ended). */
  note(): void {
    this.events++;
    if (this.timer === undefined && !this.closed && this.events >= this.minEvents) this.arm();
  }

  /** Stops the timer; no collection after this. */
  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private arm(): void {
    this.seen = this.events;
    this.timer = this.clock.setTimer(this.quietMs, () => this.check());
  }

  private check(): void {
    this.timer = undefined;
    if (this.closed) return;
    if (this.events !== this.seen) {
      // Still busy: look again one quiet period later.
      this.arm();
      return;
    }
    this.events = 0;
    this.seen = 0;
    this.collections++;
    this.collect();
  }
}

/**
 * A full, stop-the-world garbage collection of the whole V8 heap, without
 * `--expose-gc` on the command line (see the module comment). With
 * `compact`, V8 also moves the live objects out of every partly used page
 * (`--compact-on-every-full-gc` for this one collection), so that the pages
 * the dead ones leave behind go back to the system; without it V8 compacts
 * only the pages it judges fragmented enough. Returns the time it took, ms.
 */
export function fullCollection(compact = false): number {
  const t0 = performance.now();
  if (compact) setFlagsFromString('--compact-on-every-full-gc');
  try {
    const own = (globalThis as { gc?: unknown }).gc;
    if (typeof own === 'function') {
      // Started with --expose-gc: use it, and leave that flag as it is.
      (own as () => void)();
    } else {
      setFlagsFromString('--expose-gc');
      let gc: (() => void) | undefined;
      try {
        gc = runInNewContext('gc') as (() => void) | undefined;
      } finally {
        // Only contexts made while the flag was set get `gc`; later ones do not.
        setFlagsFromString('--no-expose-gc');
      }
      if (typeof gc !== 'function') throw new Error('V8 did not expose gc()');
      gc();
    }
  } finally {
    if (compact) setFlagsFromString('--no-compact-on-every-full-gc');
  }
  return performance.now() - t0;
}
