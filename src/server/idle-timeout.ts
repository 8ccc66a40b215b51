/**
 * Idle-Timeout (RFC 2865 §5.28: "the maximum number of consecutive seconds
 * of idle connection allowed to the user before termination of the session
 * or prompt"), and the server-wide default `ppp.idle` (pppd's `idle`).
 *
 * Idle means no PPP data packet in either direction: the unit's `rxPackets`
 * and `txPackets` count network-layer packets only (IPv4, IPv6 after
 * decryption), so LCP Echo keep-alives, PPTP Echo and the other control
 * frames never keep a session alive, as with pppd's `idle`.
 *
 * Cheap with many sessions: no timer per packet and none per session. One
 * sweep, running only while some session is watched, reads each watched
 * session's packet count; a count that moved marks the session active at
 * that sweep, one that stayed put for the session's limit ends it. The
 * sweep period is a quarter of the smallest limit watched, between 1 s and
 * 5 s, so a session ends between its limit and its limit plus two periods
 * after its last packet.
 */

import type { Clock, Timer } from '../io/clock.js';

/** Shortest and longest sweep period, ms. */
export const IDLE_SWEEP_MIN_MS = 1000;
export const IDLE_SWEEP_MAX_MS = 5000;
/** The longest Idle-Timeout honoured, s (as with Session-Timeout, far beyond any real use). */
export const MAX_IDLE_TIMEOUT_S = 2_000_000;

interface Watched {
  limitMs: number;
  readonly packets: () => number;
  readonly onIdle: (seconds: number) => void;
  seconds: number;
  /** Packet count at the last sweep that saw it move. */
  last: number;
  /** Clock time of that sweep (or of the watch). */
  since: number;
}

/** Watches sessions for idleness; ids are the server's session ids. */
export class IdleWatch {
  private readonly watched = new Map<number, Watched>();
  private timer: Timer | undefined;
  /** Sessions ended for idleness since start. */
  ended = 0;

  constructor(private readonly clock: Clock) {}

  /**
   * Starts (or replaces) the watch of session `id`: `seconds` without a data
   * packet and `onIdle` runs once (the watch is gone by then). 0 stops it.
   * `packets` reads the session's data packets, both directions together.
   */
  watch(id: number, seconds: number, packets: () => number, onIdle: (seconds: number) => void): void {
    if (!(seconds > 0)) {
      this.unwatch(id);
      return;
    }
    const s = Math.min(seconds, MAX_IDLE_TIMEOUT_S);
    this.watched.set(id, {
      limitMs: s * 1000,
      seconds: s,
      packets,
      onIdle,
      last: packets(),
      since: this.clock.now(),
    });
    this.schedule();
  }

  /**
   * Changes the limit of a watched session (a CoA-Request's Idle-Timeout):
   * the idle time counted so far stays. 0 stops the watch. Returns false when
   * the session is not watched (the caller then needs {@link watch}).
   */
  change(id: number, seconds: number): boolean {
    const w = this.watched.get(id);
    if (!w) return false;
    if (!(seconds > 0)) {
      this.unwatch(id);
      return true;
    }
    w.seconds = Math.min(seconds, MAX_IDLE_TIMEOUT_S);
    w.limitMs = w.seconds * 1000;
    this.schedule(true);
    return true;
  }

  /** Stops watching `id` (the session ended). */
  unwatch(id: number): void {
    this.watched.delete(id);
    if (this.watched.size === 0) this.stop();
  }

  /** Sessions watched. */
  get size(): number {
    return this.watched.size;
  }

  /** The limit of a watched session, s. */
  limitOf(id: number): number | undefined {
    return this.watched.get(id)?.seconds;
  }

  /** Stops the sweep and forgets every session. */
  close(): void {
    this.watched.clear();
    this.stop();
  }

  private stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** The sweep period for the limits watched now. */
  private period(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const w of this.watched.values()) if (w.limitMs < min) min = w.limitMs;
    return Math.min(IDLE_SWEEP_MAX_MS, Math.max(IDLE_SWEEP_MIN_MS, Math.floor(min / 4)));
  }

  private schedule(again = false): void {
    if (this.timer && !again) return;
    this.timer?.cancel();
    if (this.watched.size === 0) {
      this.timer = undefined;
      return;
    }
    this.timer = this.clock.setTimer(this.period(), () => {
      this.timer = undefined;
      this.sweep();
      this.schedule();
    });
  }

  /** One pass over the watched sessions (the timer runs it; tests may too). */
  sweep(): void {
    const now = this.clock.now();
    const idle: Watched[] = [];
    for (const [id, w] of this.watched) {
      const p = w.packets();
      if (p !== w.last) {
        w.last = p;
        w.since = now;
      } else if (now - w.since >= w.limitMs) {
        this.watched.delete(id);
        idle.push(w);
      }
    }
    // Ended after the pass: ending a session may unwatch others (its connection) while we iterate.
    for (const w of idle) {
      this.ended++;
      w.onIdle(w.seconds);
    }
    if (this.watched.size === 0) this.stop();
  }
}
