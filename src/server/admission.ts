/**
 * The server's admission control (docs/client-server.md "Limits"): how many
 * calls a source address may hold, how many may be in the unauthenticated
 * part of their life at once, how long a failed authentication waits before
 * its Failure goes out, and how many warnings of one kind reach the log;
 * and what a refused Outgoing-Call-Request is answered.
 *
 * Each table here is bounded: a flood of new addresses or user names
 * evicts the least recently touched entries instead of growing memory.
 * Time is passed in (`now`, ms); nothing here reads a clock.
 */
import type { LogFields, Logger, LogLevel } from '../log/logger.js';
import type { PptpAdmission } from '../pptp/control-types.js';
import { PptpGeneralError, PptpOutgoingCallResult } from '../wire/pptp/index.js';
import { LazyLogger, type LazyRoot, lazyChild } from './lazy-log.js';

/** Why a call is refused, for the log and the counters. */
export type CallRefusal =
  | 'max-sessions'
  | 'max-calls-per-connection'
  | 'max-calls-per-address'
  | 'max-starting'
  | 'max-starting-per-address'
  | 'shutting down';

export interface CallLimits {
  readonly maxCallsPerAddress: number;
  readonly maxStarting: number;
  readonly maxStartingPerAddress: number;
}

interface AddressCalls {
  calls: number;
  starting: number;
}

/**
 * Calls per source address and calls not yet authenticated ("starting",
 * accel-ppp's word), per address and server-wide. A call counts as starting
 * from its Outgoing-Call-Reply until its peer authenticates or it ends.
 */
export class CallAdmission {
  private readonly byAddress = new Map<string, AddressCalls>();
  private startingTotal = 0;

  constructor(private readonly limits: CallLimits) {}

  /** The refusal for one more call from `address`, or undefined when it may come. */
  check(address: string): CallRefusal | undefined {
    const a = this.byAddress.get(address);
    if (a && a.calls >= this.limits.maxCallsPerAddress) return 'max-calls-per-address';
    if (this.startingTotal >= this.limits.maxStarting) return 'max-starting';
    if (a && a.starting >= this.limits.maxStartingPerAddress) return 'max-starting-per-address';
    return undefined;
  }

  /** A call from `address` started (it is unauthenticated). */
  started(address: string): void {
    let a = this.byAddress.get(address);
    if (!a) {
      a = { calls: 0, starting: 0 };
      this.byAddress.set(address, a);
    }
    a.calls++;
    a.starting++;
    this.startingTotal++;
  }

  /** The call's peer authenticated: it no longer counts as starting. */
  authenticated(address: string): void {
    const a = this.byAddress.get(address);
    if (!a || a.starting === 0) return;
    a.starting--;
    this.startingTotal--;
  }

  /** A call ended; `starting` says whether it had not authenticated. */
  ended(address: string, starting: boolean): void {
    const a = this.byAddress.get(address);
    if (!a) return;
    a.calls--;
    if (starting && a.starting > 0) {
      a.starting--;
      this.startingTotal--;
    }
    if (a.calls <= 0) this.byAddress.delete(address);
  }

  /** Unauthenticated calls, server-wide. */
  get starting(): number {
    return this.startingTotal;
  }

  /** Calls from `address` (all, and unauthenticated). */
  callsFrom(address: string): { calls: number; starting: number } {
    const a = this.byAddress.get(address);
    return { calls: a?.calls ?? 0, starting: a?.starting ?? 0 };
  }

  /** Addresses with calls (the table's size). */
  get addresses(): number {
    return this.byAddress.size;
  }
}

/** The refusal counters of the server (a subset of its ServerCounters). */
export interface RefusalCounters {
  callsRefused: number;
  callsRefusedPerConnection: number;
  callsRefusedPerAddress: number;
  callsRefusedStarting: number;
  callsRefusedStartingPerAddress: number;
}

/** Counts a refused call: in the total, and under its reason where it has its own counter. */
export function countRefusal(c: RefusalCounters, refusal: CallRefusal): void {
  c.callsRefused++;
  if (refusal === 'max-calls-per-connection') c.callsRefusedPerConnection++;
  else if (refusal === 'max-calls-per-address') c.callsRefusedPerAddress++;
  else if (refusal === 'max-starting') c.callsRefusedStarting++;
  else if (refusal === 'max-starting-per-address') c.callsRefusedStartingPerAddress++;
}

/**
 * The Outgoing-Call-Reply for a refused call (RFC 2637 §2.8 Result Codes).
 * Limits on the whole server, and on unauthenticated calls, which free up
 * as other calls authenticate or end, are "2 (General Error) - Outgoing
 * Call not established for the reason indicated in Error Code" with Error
 * Code "4 (No-Resource) - Insufficient resources to handle this command
 * now" (§2.2); fixed caps on one connection or one source address are
 * "7 (Do Not Accept) - Outgoing Call administratively prohibited".
 */
export function refusalAnswer(refusal: CallRefusal): PptpAdmission {
  switch (refusal) {
    case 'max-calls-per-connection':
    case 'max-calls-per-address':
      return { accept: false, resultCode: PptpOutgoingCallResult.DoNotAccept };
    default:
      return {
        accept: false,
        resultCode: PptpOutgoingCallResult.GeneralError,
        errorCode: PptpGeneralError.NoResource,
      };
  }
}

// ─── Authentication failure delays ─────────────────────────────────────────

interface FailureEntry {
  count: number;
  last: number;
}

/**
 * Failure counts by key, least recently touched first (a Map keeps insertion
 * order; a touch re-inserts). Entries older than `forgetMs` count as zero;
 * beyond `maxEntries` the oldest is evicted.
 */
export class FailureTable {
  private readonly entries = new Map<string, FailureEntry>();

  constructor(
    private readonly maxEntries: number,
    private readonly forgetMs: number,
  ) {}

  /** Failures of `key` that are still remembered at `now`. */
  count(key: string, now: number): number {
    const e = this.entries.get(key);
    if (!e) return 0;
    if (now - e.last >= this.forgetMs) {
      this.entries.delete(key);
      return 0;
    }
    return e.count;
  }

  /** One more failure of `key`; returns the new count. */
  bump(key: string, now: number): number {
    const count = this.count(key, now) + 1;
    this.entries.delete(key);
    this.entries.set(key, { count, last: now });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    return count;
  }

  clear(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}

export interface TarpitOptions {
  /** Delay after the first failure, ms (0: no delays). */
  readonly baseMs: number;
  /** Largest delay, ms. */
  readonly maxMs: number;
  /** A count untouched this long is forgotten, ms. */
  readonly forgetMs: number;
  /** Entries per table (addresses, users). Default {@link TARPIT_MAX_ENTRIES}. */
  readonly maxEntries?: number;
}

/** Entries in each failure table (addresses, user names). */
export const TARPIT_MAX_ENTRIES = 10_000;

/**
 * Delays before an authentication Failure is sent: `baseMs` after the
 * first recent failure from an address or for a user name, doubling with
 * each further one, at most `maxMs`; whichever of the two counts is higher
 * decides. A success resets both. The delay holds the call (and its
 * unauthenticated slot), so guesses from one address or at one account
 * slow down to one per delay per slot.
 */
export class AuthTarpit {
  private readonly addresses: FailureTable;
  private readonly users: FailureTable;

  constructor(private readonly opts: TarpitOptions) {
    const max = opts.maxEntries ?? TARPIT_MAX_ENTRIES;
    this.addresses = new FailureTable(max, opts.forgetMs);
    this.users = new FailureTable(max, opts.forgetMs);
  }

  /** Records a failure; returns how long to wait before sending it (ms). */
  failed(address: string, user: string, now: number): number {
    const n = Math.max(this.addresses.bump(address, now), this.users.bump(user, now));
    return this.delayFor(n);
  }

  /** The delay after `n` recent failures. */
  delayFor(n: number): number {
    if (n <= 0 || this.opts.baseMs <= 0) return 0;
    return Math.min(this.opts.maxMs, this.opts.baseMs * 2 ** Math.min(n - 1, 30));
  }

  succeeded(address: string, user: string): void {
    this.addresses.clear(address);
    this.users.clear(user);
  }

  /** Remembered failures (address, user). */
  failures(address: string, user: string, now: number): { address: number; user: number } {
    return { address: this.addresses.count(address, now), user: this.users.count(user, now) };
  }

  get tableSizes(): { addresses: number; users: number } {
    return { addresses: this.addresses.size, users: this.users.size };
  }
}

// ─── Rate-limited warnings ─────────────────────────────────────────────────

/** A token bucket: `burst` tokens, one more every `intervalMs`. */
class Bucket {
  tokens = 0;
  at = 0;
  suppressed = 0;

  constructor(burst: number, now: number) {
    this.tokens = burst;
    this.at = now;
  }

  take(burst: number, intervalMs: number, now: number): boolean {
    if (now > this.at) {
      this.tokens = Math.min(burst, this.tokens + (now - this.at) / intervalMs);
      this.at = now;
    }
    if (this.tokens >= 1) {
      this.tokens--;
      return true;
    }
    return false;
  }
}

/** Kinds (message texts) tracked per scope; more share one bucket. */
const MAX_KINDS = 64;
const OTHER_KIND = '(other)';

/**
 * Token buckets per warning kind (the message text) for one scope: a
 * connection, a session, or the whole server.
 */
export class WarnBuckets {
  private readonly kinds = new Map<string, Bucket>();

  constructor(
    readonly burst: number,
    readonly intervalMs: number,
  ) {}

  /** Whether a line of `kind` may be written now; if not, it is counted as suppressed. */
  allow(kind: string, now: number): boolean {
    return this.bucket(kind, now).take(this.burst, this.intervalMs, now);
  }

  /** Counts a line of `kind` suppressed elsewhere (by the other scope). */
  suppress(kind: string, now: number): void {
    this.bucket(kind, now).suppressed++;
  }

  /** Takes the suppressed count of `kind` (reset to 0). */
  takeSuppressed(kind: string): number {
    const b = this.kinds.get(kind) ?? this.kinds.get(OTHER_KIND);
    if (!b) return 0;
    const n = b.suppressed;
    b.suppressed = 0;
    return n;
  }

  /** Every kind with lines suppressed, and their counts (reset to 0). */
  drain(): [string, number][] {
    const out: [string, number][] = [];
    for (const [k, b] of this.kinds) {
      if (b.suppressed > 0) out.push([k, b.suppressed]);
      b.suppressed = 0;
    }
    return out;
  }

  private bucket(kind: string, now: number): Bucket {
    let b = this.kinds.get(kind);
    if (b) return b;
    const key = this.kinds.size >= MAX_KINDS ? OTHER_KIND : kind;
    b = this.kinds.get(key);
    if (!b) {
      b = new Bucket(this.burst, now);
      this.kinds.set(key, b);
    }
    return b;
  }
}

/** Levels that are rate-limited (debug is the operator's choice; info lines are one per session). */
function limited(level: LogLevel): boolean {
  return level === 'warn' || level === 'error';
}

/** The state one rate-limited logger tree shares: its own buckets (made at the first warning). */
interface LimiterScope {
  local: WarnBuckets | undefined;
}

/**
 * A logger whose warnings and errors pass through token buckets, per kind
 * (message text): the scope's own (one connection or session) and the
 * server's. A line either bucket refuses is counted; the next line of that
 * kind that passes is preceded by `suppressed N similar messages`, and
 * {@link flush} (when the connection or session ends) writes what is left.
 * Children share the scope. A child is a {@link LazyLogger} below this
 * one (one small object: a session's engines ask for a dozen children);
 * its warnings come back through {@link logBelow} to the same buckets.
 */
export class RateLimitedLogger implements LazyRoot {
  constructor(
    /** The logger lines go to once they pass. */
    readonly inner: Logger,
    private readonly global: WarnBuckets,
    private readonly now: () => number,
    private readonly scope: LimiterScope = { local: undefined },
  ) {}

  get name(): string {
    return this.inner.name;
  }

  enabled(level: LogLevel): boolean {
    return this.inner.enabled(level);
  }

  log(level: LogLevel, message: string, fields?: LogFields): void {
    const held = this.admit(level, message);
    if (held < 0) return;
    if (held > 0) this.inner.log(level, `suppressed ${held} similar messages`, { like: message });
    this.inner.log(level, message, fields);
  }

  logBelow(path: string, level: LogLevel, message: string, fields: LogFields | undefined): void {
    const held = this.admit(level, message);
    if (held < 0) return;
    // Made per line written, not per child: lines are few, children many.
    const out = lazyChild(this.inner, path);
    if (held > 0) out.log(level, `suppressed ${held} similar messages`, { like: message });
    out.log(level, message, fields);
  }

  /**
   * Whether a line goes out: -1 not (counted as suppressed), otherwise how
   * many of its kind were held back since the last one that went out.
   */
  private admit(level: LogLevel, message: string): number {
    if (!limited(level) || !this.inner.enabled(level)) return 0;
    const now = this.now();
    const g = this.global;
    this.scope.local ??= new WarnBuckets(g.burst / 10, g.intervalMs * 10);
    const local = this.scope.local;
    if (!local.allow(message, now) || !g.allow(message, now)) {
      local.suppress(message, now);
      return -1;
    }
    return local.takeSuppressed(message);
  }

  child(name: string, fields?: LogFields): Logger {
    const inner = this.inner;
    return new LazyLogger(this, name, fields, inner instanceof LazyLogger && inner.demotes);
  }

  /** Another logger rate-limited in this one's scope (e.g. a demoted or lazy child made elsewhere). */
  wrap(inner: Logger): RateLimitedLogger {
    return new RateLimitedLogger(inner, this.global, this.now, this.scope);
  }

  /** Writes the counts of what was suppressed and not reported yet (one line per kind). */
  flush(): void {
    const local = this.scope.local;
    if (!local) return;
    for (const [kind, n] of local.drain()) {
      this.inner.log('warn', `suppressed ${n} similar messages`, { like: kind });
    }
  }
}
