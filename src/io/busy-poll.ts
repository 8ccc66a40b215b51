/**
 * The busy-poll of the data path (docs/native-io.md "Busy-poll",
 * docs/performance.md "Latency"): an opt-in trade of CPU for latency.
 *
 * After a wake-up that delivered packets, the addon keeps polling every TUN
 * and GRE Port of the thread with `poll(2)` and a zero time-out (yielding
 * the CPU between polls) instead of going back to sleep in libuv, until
 * `spinMicros` pass with nothing new; every batch it finds restarts that
 * window, and the whole spin is bounded by `maxMicros` per wake-up, which is
 * also the longest the event loop's timers and sockets can be held up. A
 * reply that comes back within the window (the other end of a ping, a TCP
 * ACK) is then handled without a sleep and a wake-up in between.
 *
 * It costs CPU only around traffic, never at rest: no packet, no spin. Per
 * wake-up it costs at most `maxMicros` of one core; with a request/reply
 * pattern, about the reply's delay plus `spinMicros`.
 */
import { loadAddon, type NativeBusyPollStats } from './native.js';

/** What the addon accepts (native/pptp_io.cc `setBusyPoll`). */
export const BUSY_POLL_MAX_SPIN_MICROS = 10_000;
export const BUSY_POLL_MAX_TOTAL_MICROS = 100_000;
/** The bound per wake-up when only the spin window is given: this many windows. */
export const BUSY_POLL_DEFAULT_WINDOWS = 4;

export interface BusyPollSettings {
  /** Keep polling until this long passes with nothing new; 0 = off. */
  readonly spinMicros: number;
  /** At most this long per wake-up, whatever arrives (≥ spinMicros). */
  readonly maxMicros: number;
}

export const BUSY_POLL_OFF: BusyPollSettings = { spinMicros: 0, maxMicros: 0 };

export type BusyPollStats = NativeBusyPollStats;

/**
 * Checks and completes busy-poll settings: `spinMicros` an integer
 * 0..10000, `maxMicros` an integer spinMicros..100000, by default
 * 4 × spinMicros (capped at 100000). Throws a RangeError naming the bad value.
 */
export function busyPollSettings(spinMicros: number, maxMicros?: number): BusyPollSettings {
  if (!Number.isInteger(spinMicros) || spinMicros < 0 || spinMicros > BUSY_POLL_MAX_SPIN_MICROS) {
    throw new RangeError(
      `busy-poll: the spin must be an integer number of microseconds, 0..${BUSY_POLL_MAX_SPIN_MICROS}: ${spinMicros}`,
    );
  }
  const max = maxMicros ?? Math.min(spinMicros * BUSY_POLL_DEFAULT_WINDOWS, BUSY_POLL_MAX_TOTAL_MICROS);
  if (!Number.isInteger(max) || max < spinMicros || max > BUSY_POLL_MAX_TOTAL_MICROS) {
    throw new RangeError(
      `busy-poll: the bound per wake-up must be an integer number of microseconds, ${spinMicros}..${BUSY_POLL_MAX_TOTAL_MICROS}: ${max}`,
    );
  }
  return { spinMicros, maxMicros: spinMicros === 0 ? 0 : max };
}

/**
 * Parses the command line's `SPIN[/MAX]` (microseconds), e.g. `200` or
 * `200/1000`. Throws a RangeError on anything else.
 */
export function parseBusyPoll(text: string): BusyPollSettings {
  const m = /^(\d{1,6})(?:\/(\d{1,6}))?$/.exec(text.trim());
  if (!m)
    throw new RangeError(
      `busy-poll: expected SPIN or SPIN/MAX in microseconds, e.g. 200 or 200/1000: ${text}`,
    );
  return busyPollSettings(Number(m[1]), m[2] === undefined ? undefined : Number(m[2]));
}

/** Turns the busy-poll of this thread's Ports on (or off with {@link BUSY_POLL_OFF}). */
export function setBusyPoll(settings: BusyPollSettings): void {
  const s = busyPollSettings(settings.spinMicros, settings.maxMicros);
  loadAddon().setBusyPoll(s.spinMicros, s.maxMicros);
}

/** This thread's busy-poll counters (all zero while it was never on). */
export function busyPollStats(): BusyPollStats {
  return loadAddon().busyPollStats();
}
