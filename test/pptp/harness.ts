/**
 * Scripted exchanges with the PPTP control engine (docs/style.md §5.5, smoltcp's
 * `send!`/`recv!`): `deliver` a message at a time, `expectActions` the exact
 * actions that came out (matching only the keys given), `expectNothing`.
 * A fake clock runs the timers the engine starts, as a driver would:
 * `advance(ms)` fires every timer that falls due, in deadline order.
 */
import assert from 'node:assert/strict';
import { PptpControlConnection } from '../../src/pptp/control.js';
import type { PptpControlAction, PptpControlConfig, PptpTimerId } from '../../src/pptp/control-types.js';
import { decodePptpMessage, encodePptpMessage, type PptpMessage } from '../../src/wire/pptp/index.js';

/** A deep partial of an action: the keys to compare. */
// biome-ignore lint/suspicious/noExplicitAny: test matcher over heterogeneous action shapes
export type Expected = Record<string, any>;

/** `randomInt` that returns `values` in order, then `fallback(n)` (default: always 0). */
export function scriptedRandom(values: readonly number[], fallback: (n: number) => number = () => 0) {
  let i = 0;
  return (n: number): number => {
    const v = i < values.length ? values[i++]! : fallback(n);
    if (!Number.isInteger(v) || v < 0 || v >= n) throw new Error(`scripted random ${v} outside [0, ${n})`);
    return v;
  };
}

/** mulberry32 as a `randomInt`. */
export function seededRandom(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

/** Picks from `actual` the keys `expected` names, recursively, so deepStrictEqual compares only those. */
function project(actual: unknown, expected: unknown): unknown {
  if (Array.isArray(expected) && Array.isArray(actual)) {
    return actual.map((a, i) => (i < expected.length ? project(a, expected[i]) : a));
  }
  if (
    expected &&
    typeof expected === 'object' &&
    actual &&
    typeof actual === 'object' &&
    !Array.isArray(actual)
  ) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(expected))
      out[k] = project((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k]);
    return out;
  }
  return actual;
}

export class Script {
  readonly engine: PptpControlConnection;
  now = 0;
  /** Running timers and their deadlines, as a driver keeps them. */
  readonly timers = new Map<PptpTimerId, number>();
  private pending: PptpControlAction[] = [];
  closed = false;

  constructor(config: PptpControlConfig) {
    this.engine = new PptpControlConnection(config);
  }

  /** Records actions as a driver would perform them (timers, close), and queues them for `expect*`. */
  take(actions: readonly PptpControlAction[]): readonly PptpControlAction[] {
    for (const a of actions) {
      if (a.kind === 'startTimer') this.timers.set(a.id, this.now + a.ms);
      else if (a.kind === 'stopTimer') {
        assert.ok(this.timers.has(a.id), `stopTimer ${a.id} that is not running`);
        this.timers.delete(a.id);
      } else if (a.kind === 'send') {
        assert.ok(!this.closed, 'send after close');
        // Every message the engine sends must encode, and decode back to itself.
        assert.deepStrictEqual(decodePptpMessage(encodePptpMessage(a.message)), a.message);
      } else if (a.kind === 'close') {
        assert.ok(!this.closed, 'closed twice');
        this.closed = true;
      }
      this.pending.push(a);
    }
    return actions;
  }

  open(): this {
    this.take(this.engine.open(this.now));
    return this;
  }

  deliver(m: PptpMessage): this {
    this.take(this.engine.receive(m, this.now));
    return this;
  }

  deliverBytes(b: Uint8Array): this {
    this.take(this.engine.receiveData(b, this.now));
    return this;
  }

  /** Moves the clock forward, firing due timers in deadline order at their deadlines. */
  advance(ms: number): this {
    const target = this.now + ms;
    for (;;) {
      let next: [PptpTimerId, number] | undefined;
      for (const t of this.timers) if (t[1] <= target && (!next || t[1] < next[1])) next = t;
      if (!next) break;
      this.now = next[1];
      this.timers.delete(next[0]);
      this.take(this.engine.timeout(next[0], this.now));
    }
    this.now = target;
    return this;
  }

  /** Asserts the actions since the last expect are exactly `expected` (compared on the keys given). */
  expectActions(expected: readonly Expected[], message?: string): readonly PptpControlAction[] {
    const got = this.pending;
    this.pending = [];
    assert.deepStrictEqual(project(got, expected), expected, message);
    return got;
  }

  /** Asserts nothing happened since the last expect. */
  expectNothing(message?: string): void {
    this.expectActions([], message);
  }

  /** Drains and returns the pending actions without checking them. */
  drain(): PptpControlAction[] {
    const got = this.pending;
    this.pending = [];
    return got;
  }
}

/** `{kind:'send', message:{type, ...fields}}`. */
export function send(message: Expected): Expected {
  return { kind: 'send', message };
}
