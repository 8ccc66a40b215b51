/**
 * RADIUS accounting (RFC 2866, with RFC 2869 §5.1-5.3 and §5.16), sans-IO:
 * the engine turns session events into Accounting-Request records, keeps
 * them in a bounded queue until a server acknowledges them, and drives a
 * {@link RadiusClient} for the wire (retransmission, fail-over,
 * Acct-Delay-Time growth on retransmission). Time is an argument: `now` is
 * wall-clock milliseconds since the epoch (records outlive the process in
 * a spool file, so their age and Event-Timestamp need a clock that survives
 * a restart). It reads no clock and opens no file: a record that enters or
 * leaves the queue comes back as a `stored` / `removed` action for the
 * driver to persist.
 *
 * Queue rules:
 * - per session, records go out in order (a Stop never overtakes its Start);
 *   Accounting-On and -Off are barriers: each waits for everything queued
 *   before it, and nothing queued after it goes out before it is answered;
 * - a record that fails on every server goes back to its place; the whole
 *   queue then holds back for a growing pause (`retryBaseMs` doubling up to
 *   `retryMaxMs`) and resumes with one record as a probe, so an outage costs
 *   one request per pause instead of one per record;
 * - a record older than `maxAgeMs` is given up; when `maxRecords` are queued
 *   a new record first replaces the session's own waiting Interim-Update
 *   (the newer one supersedes it), else the oldest waiting Interim-Update
 *   is dropped, else the oldest waiting record; every drop is counted and
 *   logged once per burst;
 * - Acct-Delay-Time (RFC 2866 §5.2) is the record's age when it is handed to
 *   the client, which adds the seconds it spends retransmitting (and takes a
 *   new Identifier for each changed copy, as §5.2 requires).
 */

import type { Logger } from '../log/logger.js';
import { nullLogger } from '../log/logger.js';
import { parseIpv4 } from '../wire/bytes.js';
import {
  AcctStatusType,
  addressAttribute,
  FramedProtocol,
  integerAttribute,
  NasPortType,
  octetsAttribute,
  RadiusAttr,
  type RadiusAttribute,
  RadiusCode,
  ServiceType,
  textAttribute,
} from '../wire/radius/index.js';
import { RadiusClient, type RadiusClientAction, type RadiusClientConfig } from './radius-client.js';

export type AcctKind = 'start' | 'interim' | 'stop' | 'on' | 'off';

const STATUS: Record<AcctKind, number> = {
  start: AcctStatusType.Start,
  interim: AcctStatusType.InterimUpdate,
  stop: AcctStatusType.Stop,
  on: AcctStatusType.AccountingOn,
  off: AcctStatusType.AccountingOff,
};

/** One Accounting-Request waiting for its Accounting-Response. */
export interface AcctRecord {
  /** Queue position, increasing; unique within a spool. */
  readonly id: number;
  readonly kind: AcctKind;
  /** Acct-Session-Id (for On/Off: the NAS's boot id). */
  readonly sessionId: string;
  /** Epoch ms when the event happened (Event-Timestamp, and the base of Acct-Delay-Time). */
  readonly createdAt: number;
  /** Every attribute but Acct-Delay-Time. */
  readonly attributes: readonly RadiusAttribute[];
}

/** Traffic counters of a session as the user sees it (IP packets, headers included). */
export interface AcctCounters {
  /** From the user (RFC 2866 §5.3 Acct-Input-Octets: "received from the port"). */
  readonly inOctets: number;
  readonly outOctets: number;
  readonly inPackets: number;
  readonly outPackets: number;
}

export interface AcctSession {
  readonly user: string | undefined;
  /** The PPTP Call ID: NAS-Port (RFC 2865 §5.5). */
  readonly callId: number;
  /** The client's outer address: Calling-Station-Id (RFC 2865 §5.31). */
  readonly callingStationId: string;
  /** The tunnel address it was given (dotted quad). */
  readonly framedIpAddress: string | undefined;
  /** Class attributes from the Access-Accept, echoed unchanged (RFC 2865 §5.25). */
  readonly classes?: readonly Uint8Array[];
  /** Acct-Interim-Interval from the Access-Accept, seconds; overrides the configured one. */
  readonly interimInterval?: number;
  /** Who authenticated the user: RADIUS (1) or the local secrets (2), RFC 2866 §5.6. */
  readonly authentic: 'radius' | 'local';
  /** Read at each Interim-Update. */
  readonly counters: () => AcctCounters;
}

export interface AccountingConfig {
  readonly client: RadiusClientConfig;
  readonly nasIdentifier?: string;
  /** Dotted quad. */
  readonly nasIpAddress?: string;
  /** Seconds between Interim-Updates unless the session says otherwise; 0: none. */
  readonly interimInterval: number;
  readonly maxRecords: number;
  readonly maxAgeMs: number;
  /** First pause after a record failed on every server, ms. Default 5000. */
  readonly retryBaseMs?: number;
  /** Longest pause, ms. Default 60000. */
  readonly retryMaxMs?: number;
  /** Records handed to the client at once. Default 64. */
  readonly maxInFlight?: number;
  /** 16 hex digits naming this run of the NAS (the Acct-Session-Id prefix); random when absent. */
  readonly bootId?: string;
  readonly logger?: Logger;
}

export type DropReason = 'queue-full' | 'expired' | 'too-large';

export type AccountingAction =
  | Extract<RadiusClientAction, { type: 'send' }>
  /** Persist this record (it entered the queue). */
  | { readonly type: 'stored'; readonly record: AcctRecord }
  /** Forget this record: answered, superseded by a newer Interim-Update, or dropped. */
  | {
      readonly type: 'removed';
      readonly record: AcctRecord;
      readonly outcome: 'delivered' | 'superseded' | DropReason;
      /** Delivered: ms from the first transmission of this attempt to the answer. */
      readonly latencyMs?: number;
    }
  /** An attempt failed on every server (the record stays queued). */
  | { readonly type: 'failed'; readonly record: AcctRecord; readonly detail: string };

export interface AccountingStats {
  /** Records handed to the client, by kind. */
  readonly sent: Record<AcctKind, number>;
  readonly delivered: Record<AcctKind, number>;
  /** Attempts that got no answer from any server. */
  readonly failed: Record<AcctKind, number>;
  readonly dropped: Record<DropReason, number>;
  superseded: number;
}

interface Entry {
  record: AcctRecord;
  inFlight: boolean;
  sentAt: number;
}

interface Live {
  readonly session: AcctSession;
  readonly startedAt: number;
  nextInterim: number | undefined;
  interval: number;
}

const TWO_32 = 2 ** 32;

function kinds(): Record<AcctKind, number> {
  return { start: 0, interim: 0, stop: 0, on: 0, off: 0 };
}

function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

export class AccountingEngine {
  readonly stats: AccountingStats = {
    sent: kinds(),
    delivered: kinds(),
    failed: kinds(),
    dropped: { 'queue-full': 0, expired: 0, 'too-large': 0 },
    superseded: 0,
  };
  readonly client: RadiusClient;
  /** The NAS's run: prefix of every Acct-Session-Id. */
  readonly bootId: string;
  private readonly cfg: AccountingConfig;
  private readonly log: Logger;
  private readonly queue = new Map<number, Entry>();
  private readonly live = new Map<string, Live>();
  private nextRecordId = 1;
  private sessionCounter = 0;
  private inFlight = 0;
  private holdUntil = Number.NEGATIVE_INFINITY;
  private failuresInRow = 0;
  /** Drops since the queue last had room (logged once per burst). */
  private dropBurst = 0;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly maxInFlight: number;

  constructor(config: AccountingConfig) {
    this.cfg = config;
    this.client = new RadiusClient(config.client);
    this.log = config.logger ?? nullLogger;
    this.bootId = config.bootId ?? hex(config.client.random(8)).toUpperCase();
    this.retryBaseMs = config.retryBaseMs ?? 5000;
    this.retryMaxMs = config.retryMaxMs ?? 60_000;
    this.maxInFlight = Math.max(1, Math.min(config.maxInFlight ?? 64, config.maxRecords));
  }

  /** Records queued, in flight included. */
  get queued(): number {
    return this.queue.size;
  }

  /** Live sessions being accounted. */
  get sessions(): number {
    return this.live.size;
  }

  /** The queued records in order (what a spool holds). */
  records(): AcctRecord[] {
    return [...this.queue.values()].map((e) => e.record);
  }

  /**
   * A new Acct-Session-Id (RFC 2866 §5.5): the boot id (64 random bits
   * drawn at start) and a counter, so ids differ across restarts and
   * across NASes without coordination.
   */
  newSessionId(): string {
    this.sessionCounter++;
    return `${this.bootId}-${this.sessionCounter.toString(16).toUpperCase().padStart(8, '0')}`;
  }

  /**
   * Records left from an earlier run (the spool), queued ahead of anything
   * new. Their Acct-Delay-Time counts from their own `createdAt`.
   */
  restore(now: number, records: readonly AcctRecord[]): AccountingAction[] {
    const out: AccountingAction[] = [];
    for (const r of records) {
      if (this.queue.has(r.id)) continue;
      this.queue.set(r.id, { record: r, inFlight: false, sentAt: 0 });
      if (r.id >= this.nextRecordId) this.nextRecordId = r.id + 1;
    }
    // Their ids may be above new ones: keep the queue in id order.
    const sorted = [...this.queue.entries()].sort((a, b) => a[0] - b[0]);
    this.queue.clear();
    for (const [k, v] of sorted) this.queue.set(k, v);
    this.enforceBounds(now, out, undefined);
    this.pump(now, out);
    return out;
  }

  /** Accounting-On (RFC 2866 §5.1 Acct-Status-Type 7): the NAS has started. */
  accountingOn(now: number): AccountingAction[] {
    return this.enqueue(now, 'on', `${this.bootId}-00000000`, this.nasAttributes());
  }

  /** Accounting-Off (type 8): the NAS is stopping; it goes out after every record queued before it. */
  accountingOff(now: number): AccountingAction[] {
    return this.enqueue(now, 'off', `${this.bootId}-00000000`, this.nasAttributes());
  }

  /** A session is up (network phase, address known): Start, and Interim-Updates from now on. */
  start(now: number, sessionId: string, session: AcctSession): AccountingAction[] {
    if (this.live.has(sessionId)) throw new RangeError(`accounting: session ${sessionId} already started`);
    const interval = this.intervalOf(session);
    this.live.set(sessionId, {
      session,
      startedAt: now,
      interval,
      nextInterim: interval > 0 ? now + interval * 1000 : undefined,
    });
    return this.enqueue(now, 'start', sessionId, this.sessionAttributes(session, sessionId, now));
  }

  /**
   * The Acct-Interim-Interval a session now has (the authentication learned
   * it late, or a CoA changed it); the next update is due that long after now.
   */
  setInterimInterval(now: number, sessionId: string, seconds: number): void {
    const l = this.live.get(sessionId);
    if (!l) return;
    l.interval = seconds;
    l.nextInterim = seconds > 0 ? now + seconds * 1000 : undefined;
  }

  /** The session ended: Stop with its final counters and why it ended (RFC 2866 §5.10). */
  stop(now: number, sessionId: string, terminateCause: number, counters?: AcctCounters): AccountingAction[] {
    const l = this.live.get(sessionId);
    if (!l) return [];
    this.live.delete(sessionId);
    const attrs = this.usageAttributes(l, now, counters ?? l.session.counters());
    attrs.push(integerAttribute(RadiusAttr.AcctTerminateCause, terminateCause));
    return this.enqueue(now, 'stop', sessionId, attrs);
  }

  /** Sessions still accounted (for shutdown: each needs its Stop before the Off). */
  liveSessionIds(): string[] {
    return [...this.live.keys()];
  }

  receive(now: number, server: number, data: Uint8Array): AccountingAction[] {
    const out: AccountingAction[] = [];
    this.handleClient(now, this.client.receive(now, server, data), out);
    this.pump(now, out);
    return out;
  }

  /** Interim-Updates that are due, expired records, the client's retransmissions, the end of a pause. */
  poll(now: number): AccountingAction[] {
    const out: AccountingAction[] = [];
    for (const [id, l] of this.live) {
      if (l.nextInterim === undefined || l.nextInterim > now) continue;
      // The next one is due an interval after this one (not after the missed deadline).
      l.nextInterim = now + l.interval * 1000;
      this.add(now, 'interim', id, this.usageAttributes(l, now, l.session.counters()), out);
    }
    this.handleClient(now, this.client.poll(now), out);
    this.expire(now, out);
    this.pump(now, out);
    return out;
  }

  nextDeadline(): number | undefined {
    let d = this.client.nextDeadline();
    const at = (t: number | undefined) => {
      if (t !== undefined && (d === undefined || t < d)) d = t;
    };
    for (const l of this.live.values()) at(l.nextInterim);
    if (this.queue.size > this.inFlight) {
      // Waiting records: at the end of a pause, and when the oldest expires.
      if (this.holdUntil > Number.NEGATIVE_INFINITY) at(this.holdUntil);
      for (const e of this.queue.values()) {
        if (!e.inFlight) {
          at(e.record.createdAt + this.cfg.maxAgeMs + 1);
          break;
        }
      }
    }
    return d;
  }

  // ─── queue ───────────────────────────────────────────────────────────────

  private enqueue(
    now: number,
    kind: AcctKind,
    sessionId: string,
    attrs: RadiusAttribute[],
  ): AccountingAction[] {
    const out: AccountingAction[] = [];
    this.add(now, kind, sessionId, attrs, out);
    this.pump(now, out);
    return out;
  }

  private add(
    now: number,
    kind: AcctKind,
    sessionId: string,
    attrs: RadiusAttribute[],
    out: AccountingAction[],
  ): void {
    const record: AcctRecord = {
      id: this.nextRecordId++,
      kind,
      sessionId,
      createdAt: now,
      attributes: [
        integerAttribute(RadiusAttr.AcctStatusType, STATUS[kind]),
        textAttribute(RadiusAttr.AcctSessionId, sessionId),
        ...attrs,
        // RFC 2869 §5.3: "the time that this event occurred on the NAS, in seconds since January 1, 1970".
        integerAttribute(RadiusAttr.EventTimestamp, Math.floor(now / 1000) >>> 0),
      ],
    };
    if (kind === 'interim') {
      // A newer Interim-Update of the same session supersedes one that still waits.
      for (const [k, e] of this.queue) {
        if (!e.inFlight && e.record.kind === 'interim' && e.record.sessionId === sessionId) {
          this.queue.delete(k);
          this.stats.superseded++;
          out.push({ type: 'removed', record: e.record, outcome: 'superseded' });
          break;
        }
      }
    }
    this.enforceBounds(now, out, record);
    if (this.queue.size >= this.cfg.maxRecords) {
      // Everything queued is in flight: the new record itself is the one dropped.
      this.drop(record, 'queue-full', out, false);
      return;
    }
    this.queue.set(record.id, { record, inFlight: false, sentAt: 0 });
    out.push({ type: 'stored', record });
  }

  /** Makes room for `incoming` (or trims a restored queue) by the drop order in the file comment. */
  private enforceBounds(now: number, out: AccountingAction[], incoming: AcctRecord | undefined): void {
    this.expire(now, out);
    const room = incoming ? 1 : 0;
    while (this.queue.size + room > this.cfg.maxRecords) {
      let victim: Entry | undefined;
      for (const e of this.queue.values()) {
        if (!e.inFlight && e.record.kind === 'interim') {
          victim = e;
          break;
        }
      }
      if (!victim) {
        for (const e of this.queue.values()) {
          if (!e.inFlight) {
            victim = e;
            break;
          }
        }
      }
      if (!victim) return;
      this.queue.delete(victim.record.id);
      this.drop(victim.record, 'queue-full', out, true);
    }
  }

  private drop(record: AcctRecord, reason: DropReason, out: AccountingAction[], stored: boolean): void {
    this.stats.dropped[reason]++;
    this.dropBurst++;
    if (this.dropBurst === 1) {
      this.log.log('warn', 'accounting records dropped', {
        reason,
        kind: record.kind,
        session: record.sessionId,
        queued: this.queue.size,
        limit: this.cfg.maxRecords,
      });
    }
    if (stored) out.push({ type: 'removed', record, outcome: reason });
  }

  /** Ends a drop burst: one line with how many went. */
  private endBurst(): void {
    if (this.dropBurst > 1) {
      this.log.log('warn', 'accounting records dropped in this burst', { dropped: this.dropBurst });
    }
    this.dropBurst = 0;
  }

  private expire(now: number, out: AccountingAction[]): void {
    for (const [k, e] of this.queue) {
      if (e.inFlight || now - e.record.createdAt <= this.cfg.maxAgeMs) continue;
      this.queue.delete(k);
      this.drop(e.record, 'expired', out, true);
    }
  }

  /** Hands the client what may go now: in order per session, barriers alone, one probe after an outage. */
  private pump(now: number, out: AccountingAction[]): void {
    if (now < this.holdUntil) return;
    // The pause is over (probing continues while `failuresInRow` says so): no deadline left in the past.
    this.holdUntil = Number.NEGATIVE_INFINITY;
    const limit = this.failuresInRow > 0 ? 1 : this.maxInFlight;
    const busy = new Set<string>();
    let first = true;
    for (const e of this.queue.values()) {
      if (this.inFlight >= limit) break;
      const r = e.record;
      const barrier = r.kind === 'on' || r.kind === 'off';
      if (barrier && !first) break;
      first = false;
      if (e.inFlight || busy.has(r.sessionId)) {
        busy.add(r.sessionId);
        if (barrier) break;
        continue;
      }
      busy.add(r.sessionId);
      this.submit(now, e, out);
      if (barrier) break;
    }
  }

  private submit(now: number, e: Entry, out: AccountingAction[]): void {
    const r = e.record;
    e.inFlight = true;
    e.sentAt = now;
    this.inFlight++;
    this.stats.sent[r.kind]++;
    const delay = Math.max(0, Math.floor((now - r.createdAt) / 1000));
    const attributes = [...r.attributes, integerAttribute(RadiusAttr.AcctDelayTime, delay)];
    const actions = this.client.submit(now, r.id, { code: RadiusCode.AccountingRequest, attributes });
    this.handleClient(now, actions, out);
  }

  private handleClient(now: number, actions: readonly RadiusClientAction[], out: AccountingAction[]): void {
    for (const a of actions) {
      if (a.type === 'send') {
        out.push(a);
        continue;
      }
      const e = this.queue.get(a.handle);
      if (!e?.inFlight) continue;
      e.inFlight = false;
      this.inFlight--;
      const r = e.record;
      if (a.type === 'reply') {
        this.queue.delete(r.id);
        this.stats.delivered[r.kind]++;
        this.failuresInRow = 0;
        this.holdUntil = Number.NEGATIVE_INFINITY;
        if (this.queue.size < this.cfg.maxRecords) this.endBurst();
        out.push({ type: 'removed', record: r, outcome: 'delivered', latencyMs: now - e.sentAt });
        continue;
      }
      if (a.reason === 'too-large') {
        this.queue.delete(r.id);
        this.drop(r, 'too-large', out, true);
        continue;
      }
      this.stats.failed[r.kind]++;
      out.push({ type: 'failed', record: r, detail: a.detail });
      // Records sent before the pause began fail during it: that is the same outage, not a longer one.
      if (now < this.holdUntil) continue;
      const pause = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** Math.min(this.failuresInRow, 20));
      this.failuresInRow++;
      this.holdUntil = now + pause;
      if (this.failuresInRow === 1) {
        this.log.log('warn', 'accounting servers do not answer: records wait in the queue', {
          kind: r.kind,
          detail: a.detail,
          queued: this.queue.size,
        });
      }
    }
  }

  // ─── attributes ──────────────────────────────────────────────────────────

  private intervalOf(s: AcctSession): number {
    // RFC 2869 §5.16: the value "SHOULD NOT be smaller than 60"; a server's smaller value is raised.
    if (s.interimInterval !== undefined) return s.interimInterval > 0 ? Math.max(60, s.interimInterval) : 0;
    return this.cfg.interimInterval;
  }

  private nasAttributes(): RadiusAttribute[] {
    const a: RadiusAttribute[] = [];
    const ip = this.cfg.nasIpAddress === undefined ? undefined : parseIpv4(this.cfg.nasIpAddress);
    if (ip !== undefined) a.push(addressAttribute(RadiusAttr.NasIpAddress, ip));
    if (this.cfg.nasIdentifier !== undefined)
      a.push(textAttribute(RadiusAttr.NasIdentifier, this.cfg.nasIdentifier));
    return a;
  }

  private sessionAttributes(s: AcctSession, _sessionId: string, _now: number): RadiusAttribute[] {
    const a = this.nasAttributes();
    if (s.user !== undefined) a.push(textAttribute(RadiusAttr.UserName, s.user.slice(0, 253)));
    a.push(integerAttribute(RadiusAttr.NasPort, s.callId));
    a.push(integerAttribute(RadiusAttr.NasPortType, NasPortType.Virtual));
    a.push(integerAttribute(RadiusAttr.ServiceType, ServiceType.Framed));
    a.push(integerAttribute(RadiusAttr.FramedProtocol, FramedProtocol.PPP));
    const framed = s.framedIpAddress === undefined ? undefined : parseIpv4(s.framedIpAddress);
    if (framed !== undefined) a.push(addressAttribute(RadiusAttr.FramedIpAddress, framed));
    a.push(textAttribute(RadiusAttr.CallingStationId, s.callingStationId));
    a.push(integerAttribute(RadiusAttr.AcctAuthentic, s.authentic === 'radius' ? 1 : 2));
    for (const c of s.classes ?? []) a.push(octetsAttribute(RadiusAttr.Class, c));
    return a;
  }

  /** Session attributes plus RFC 2866 §5.3-5.8 usage and RFC 2869 §5.1-5.2 gigawords. */
  private usageAttributes(l: Live, now: number, c: AcctCounters): RadiusAttribute[] {
    const a = this.sessionAttributes(l.session, '', now);
    a.push(integerAttribute(RadiusAttr.AcctSessionTime, Math.max(0, Math.floor((now - l.startedAt) / 1000))));
    a.push(integerAttribute(RadiusAttr.AcctInputOctets, c.inOctets % TWO_32));
    a.push(integerAttribute(RadiusAttr.AcctInputGigawords, Math.floor(c.inOctets / TWO_32) % TWO_32));
    a.push(integerAttribute(RadiusAttr.AcctOutputOctets, c.outOctets % TWO_32));
    a.push(integerAttribute(RadiusAttr.AcctOutputGigawords, Math.floor(c.outOctets / TWO_32) % TWO_32));
    a.push(integerAttribute(RadiusAttr.AcctInputPackets, c.inPackets % TWO_32));
    a.push(integerAttribute(RadiusAttr.AcctOutputPackets, c.outPackets % TWO_32));
    return a;
  }
}
