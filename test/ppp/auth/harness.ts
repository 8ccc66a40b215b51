/**
 * In-memory harness for the authentication engines: connects an
 * authenticator and a peer, executes their actions (sends are delivered to
 * the other side, timers are recorded and fired by hand), and keeps every
 * frame and result for assertions. A filter can drop or rewrite frames on
 * the way (loss, tampering).
 */
import assert from 'node:assert/strict';
import type { LogFields, Logger, LogLevel } from '../../../src/log/logger.js';
import type {
  AuthAction,
  AuthEngine,
  Authenticator,
  AuthFailure,
  AuthPeer,
  AuthRole,
  AuthSuccess,
  RandomBytes,
} from '../../../src/ppp/auth/types.js';
import { prng } from '../../fuzz/mutate.js';

export interface Side {
  readonly role: AuthRole;
  readonly engine: AuthEngine;
  /** Running timers: id → ms. */
  readonly timers: Map<string, number>;
  readonly successes: AuthSuccess[];
  readonly failures: AuthFailure[];
  /** Every payload this side sent, in order. */
  readonly sent: Uint8Array[];
}

export type Filter = (from: AuthRole, payload: Uint8Array) => Uint8Array | undefined;

export class AuthLink {
  readonly authenticator: Side;
  readonly peer: Side;
  private queue: { to: Side; payload: Uint8Array }[] = [];
  filter: Filter | undefined;

  constructor(authenticator: Authenticator, peer: AuthPeer) {
    this.authenticator = newSide('authenticator', authenticator);
    this.peer = newSide('peer', peer);
  }

  /** Starts both engines and delivers packets until none are in flight. */
  start(): this {
    this.apply(this.peer, this.peer.engine.start());
    this.apply(this.authenticator, this.authenticator.engine.start());
    return this.pump();
  }

  /** Delivers in-flight packets (bounded: a livelock is a test failure). */
  pump(): this {
    for (let i = 0; i < 1000 && this.queue.length; i++) {
      const { to, payload } = this.queue.shift()!;
      this.apply(to, to.engine.receive(payload));
    }
    assert.equal(this.queue.length, 0, 'packets still in flight after 1000 deliveries');
    return this;
  }

  /** Fires a running timer of `side`, then pumps. */
  fire(side: Side, id: string): this {
    assert.ok(
      side.timers.has(id),
      `${side.role}: timer ${id} is not running (running: ${[...side.timers.keys()]})`,
    );
    side.timers.delete(id);
    this.apply(side, side.engine.timeout(id));
    return this.pump();
  }

  /** Injects a payload as if `from` had sent it. */
  inject(to: Side, payload: Uint8Array): AuthAction[] {
    const actions = to.engine.receive(payload);
    this.apply(to, actions);
    this.pump();
    return actions;
  }

  apply(side: Side, actions: readonly AuthAction[]): void {
    const other = side === this.peer ? this.authenticator : this.peer;
    for (const a of actions) {
      switch (a.kind) {
        case 'send': {
          side.sent.push(a.frame.payload);
          assert.equal(a.frame.protocol, side.engine.protocol);
          const p = this.filter ? this.filter(side.role, a.frame.payload) : a.frame.payload;
          if (p) this.queue.push({ to: other, payload: p });
          break;
        }
        case 'startTimer':
          assert.ok(a.ms > 0, 'timer with a positive duration');
          side.timers.set(a.id, a.ms);
          break;
        case 'stopTimer':
          side.timers.delete(a.id);
          break;
        case 'success':
          side.successes.push(a.result);
          break;
        case 'failure':
          side.failures.push(a.failure);
          break;
      }
    }
  }
}

function newSide(role: AuthRole, engine: AuthEngine): Side {
  return { role, engine, timers: new Map(), successes: [], failures: [], sent: [] };
}

/** Deterministic random bytes from a seed. */
export function seededRandom(seed: number): RandomBytes {
  const r = prng(seed);
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(r() * 256);
    return out;
  };
}

/** Hands out the given chunks in order (each request must ask for exactly that chunk's size). */
export function scriptedRandom(...chunks: Uint8Array[]): RandomBytes {
  return (n) => {
    const c = chunks.shift();
    assert.ok(c, `scriptedRandom: no chunk left for ${n} bytes`);
    assert.equal(c.length, n, 'scriptedRandom: chunk size');
    return c.slice();
  };
}

/** A logger that keeps every line (all levels on), to check what reaches logs. */
export class CapturingLogger implements Logger {
  readonly lines: string[];
  constructor(
    readonly name = 'test',
    lines: string[] = [],
  ) {
    this.lines = lines;
  }
  enabled(_level: LogLevel): boolean {
    return true;
  }
  log(level: LogLevel, message: string, fields?: LogFields): void {
    this.lines.push(`${level} ${this.name} ${message} ${JSON.stringify(fields ?? {})}`);
  }
  child(name: string): Logger {
    return new CapturingLogger(`${this.name}.${name}`, this.lines);
  }
}
