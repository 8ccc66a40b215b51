/**
 * The RADIUS client engine (RFC 2865 §2.5 retransmission and fail-over,
 * RFC 2866 for accounting), sans-IO: inputs are method calls that take the
 * current time, outputs are {@link RadiusClientAction} lists. A driver
 * (`io/radius-udp.ts`) owns one UDP socket per server, sends what the engine
 * says, hands it every datagram, and calls {@link RadiusClient.poll} at
 * {@link RadiusClient.nextDeadline}.
 *
 * Servers are tried in configured order; a request that gets no answer
 * after `1 + retries` transmissions moves to the next server (a new
 * Identifier and a new Request Authenticator there, since the secret
 * differs), and a server that let a request time out is passed over for new
 * requests during `deadTimeMs`. Identifiers are allocated per server and
 * never reused while a request holds them; when a server's 256 are in use,
 * or `maxOutstanding` requests are in flight, requests wait in a bounded
 * queue.
 *
 * Every reply is verified before it is believed: the Response
 * Authenticator (RFC 2865 §3), and for replies to Access-Request and
 * Status-Server a Message-Authenticator is REQUIRED. RFC 3579 §3.2 makes it
 * mandatory only with EAP, but without it an Access-Accept is protected by
 * MD5 alone, which the Blast-RADIUS attack (CVE-2024-3596) forges by a
 * chosen-prefix collision: replies without it, or with a wrong one, are
 * dropped and counted, as are replies that match no outstanding request
 * (late, duplicate or spoofed) and replies with an unexpected Code.
 */

import {
  hidePassword,
  newRequestAuthenticator,
  signAccessRequest,
  signZeroAuthenticatorRequest,
  verifyResponse,
} from '../crypto/radius.js';
import type { Logger } from '../log/logger.js';
import { nullLogger } from '../log/logger.js';
import { u32 } from '../wire/bytes.js';
import { WireError } from '../wire/errors.js';
import {
  decodeRadius,
  encodeRadius,
  integerAttribute,
  RadiusAttr,
  type RadiusAttribute,
  RadiusCode,
  type RadiusPacket,
  radiusCodeName,
} from '../wire/radius/index.js';

/** One RADIUS server as the engine sees it; its address is the driver's business. */
export interface RadiusServerConfig {
  /** For logs ("10.0.0.5:1812"). */
  readonly name: string;
  readonly secret: Uint8Array | string;
}

export interface RadiusClientConfig {
  /** In order of preference. At least one. */
  readonly servers: readonly RadiusServerConfig[];
  /** 16 random octets per Access-Request (RFC 2865 §3); `crypto.randomBytes` in production. */
  readonly random: (n: number) => Uint8Array;
  /** Wait for a reply before retransmitting, ms. Default 3000. */
  readonly timeoutMs?: number;
  /** Retransmissions to one server before failing over. Default 2. */
  readonly retries?: number;
  /** Requests on the wire at once, all servers together. Default 256. */
  readonly maxOutstanding?: number;
  /** Requests waiting for a free slot or Identifier; beyond it `submit` fails with `overloaded`. Default 4096. */
  readonly maxQueued?: number;
  /** A server that let a request time out is skipped for new requests this long, ms. Default 30000. */
  readonly deadTimeMs?: number;
  readonly logger?: Logger;
}

/** Codes a client sends; replies to other codes are a DAS's business. */
export type RadiusRequestCode =
  | RadiusCode.AccessRequest
  | RadiusCode.AccountingRequest
  | RadiusCode.StatusServer;

export interface RadiusRequest {
  readonly code: RadiusRequestCode;
  /** Everything but User-Password and Message-Authenticator, which the engine adds per transmission. */
  readonly attributes: readonly RadiusAttribute[];
  /** Cleartext for User-Password, hidden anew for each server (RFC 2865 §5.2). */
  readonly userPassword?: Uint8Array | string;
}

export type RadiusFailure = 'timeout' | 'overloaded' | 'too-large';

export type RadiusClientAction =
  | { readonly type: 'send'; readonly server: number; readonly data: Uint8Array }
  | {
      readonly type: 'reply';
      readonly handle: number;
      readonly server: number;
      readonly packet: RadiusPacket;
      /** What the hidden attributes of the reply (MS-MPPE keys) are encrypted with (RFC 2548 §2.4.2). */
      readonly requestAuthenticator: Uint8Array;
      readonly secret: Uint8Array | string;
    }
  | {
      readonly type: 'failed';
      readonly handle: number;
      readonly reason: RadiusFailure;
      readonly detail: string;
    };

/** Counters of what was sent and what was dropped, for metrics and tests. */
export interface RadiusClientStats {
  sent: number;
  retransmits: number;
  failovers: number;
  replies: number;
  timeouts: number;
  overloaded: number;
  /** Datagrams that do not decode (RFC 2865 §3 length rules, attribute lengths). */
  malformed: number;
  /** Replies whose Identifier matches nothing outstanding: late, duplicate or spoofed. */
  unmatched: number;
  badAuthenticator: number;
  missingMessageAuthenticator: number;
  badMessageAuthenticator: number;
  unexpectedCode: number;
}

interface Pending {
  readonly handle: number;
  readonly request: RadiusRequest;
  /** When `submit` took it: Acct-Delay-Time counts from here. */
  readonly submittedAt: number;
  /** Server index now targeted; -1 until first dispatch. */
  server: number;
  /** Servers given up on so far. */
  serversTried: number;
  /** Transmissions to the current server. */
  tries: number;
  id: number;
  authenticator: Uint8Array;
  data: Uint8Array;
  deadline: number;
  /** Why the last reply to it was dropped, if one was: the time-out then names it. */
  dropped?: string;
}

interface ServerState {
  readonly config: RadiusServerConfig;
  readonly ids: (Pending | undefined)[];
  inUse: number;
  nextId: number;
  deadUntil: number;
}

const ID_SPACE = 256;

const EXPECTED: Record<RadiusRequestCode, readonly number[]> = {
  [RadiusCode.AccessRequest]: [RadiusCode.AccessAccept, RadiusCode.AccessReject, RadiusCode.AccessChallenge],
  [RadiusCode.AccountingRequest]: [RadiusCode.AccountingResponse],
  // RFC 5997 §3: Status-Server to an authentication port is answered with Access-Accept.
  [RadiusCode.StatusServer]: [RadiusCode.AccessAccept, RadiusCode.AccountingResponse],
};

export class RadiusClient {
  readonly stats: RadiusClientStats = {
    sent: 0,
    retransmits: 0,
    failovers: 0,
    replies: 0,
    timeouts: 0,
    overloaded: 0,
    malformed: 0,
    unmatched: 0,
    badAuthenticator: 0,
    missingMessageAuthenticator: 0,
    badMessageAuthenticator: 0,
    unexpectedCode: 0,
  };
  private readonly servers: ServerState[];
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly maxOutstanding: number;
  private readonly maxQueued: number;
  private readonly deadTimeMs: number;
  private readonly log: Logger;
  private readonly random: (n: number) => Uint8Array;
  /** Waiting to be (re)sent, in order. */
  private queue: Pending[] = [];
  private readonly inFlight = new Map<number, Pending>();

  constructor(config: RadiusClientConfig) {
    if (config.servers.length === 0) throw new RangeError('radius: at least one server');
    this.servers = config.servers.map((c) => ({
      config: c,
      ids: new Array<Pending | undefined>(ID_SPACE).fill(undefined),
      inUse: 0,
      nextId: 0,
      deadUntil: Number.NEGATIVE_INFINITY,
    }));
    this.timeoutMs = config.timeoutMs ?? 3000;
    this.retries = config.retries ?? 2;
    this.maxOutstanding = Math.max(1, config.maxOutstanding ?? 256);
    this.maxQueued = Math.max(0, config.maxQueued ?? 4096);
    this.deadTimeMs = config.deadTimeMs ?? 30_000;
    this.random = config.random;
    this.log = config.logger ?? nullLogger;
  }

  /** Requests on the wire. */
  get outstanding(): number {
    return this.inFlight.size;
  }

  /** Requests waiting for a slot or an Identifier. */
  get queued(): number {
    return this.queue.length;
  }

  /**
   * Queues a request under the caller's `handle` (unique among the caller's
   * live requests) and sends what can be sent. Its outcome comes back later
   * as one `reply` or `failed` action with that handle.
   */
  submit(now: number, handle: number, request: RadiusRequest): RadiusClientAction[] {
    if (this.inFlight.has(handle) || this.queue.some((p) => p.handle === handle)) {
      throw new RangeError(`radius: handle ${handle} is already in use`);
    }
    this.queue.push({
      handle,
      request,
      submittedAt: now,
      server: -1,
      serversTried: 0,
      tries: 0,
      id: -1,
      authenticator: new Uint8Array(16),
      data: new Uint8Array(0),
      deadline: 0,
    });
    const out: RadiusClientAction[] = [];
    this.pump(now, out);
    // Bounded queue: what cannot be sent now waits only if there is room to wait.
    if (this.queue.length > this.maxQueued && this.queue[this.queue.length - 1]!.handle === handle) {
      this.queue.pop();
      this.stats.overloaded++;
      out.push({
        type: 'failed',
        handle,
        reason: 'overloaded',
        detail: `${this.inFlight.size} requests outstanding and ${this.queue.length} queued`,
      });
    }
    return out;
  }

  /** Forgets a request (the session it served is gone); its Identifier is free again. No action follows. */
  cancel(handle: number): void {
    const p = this.inFlight.get(handle);
    if (p) this.release(p);
    this.queue = this.queue.filter((q) => q.handle !== handle);
  }

  /** The earliest time {@link poll} has work to do, or undefined when nothing is outstanding. */
  nextDeadline(): number | undefined {
    let d: number | undefined;
    for (const p of this.inFlight.values()) if (d === undefined || p.deadline < d) d = p.deadline;
    return d;
  }

  /** Retransmits, fails over, or fails what has waited too long. */
  poll(now: number): RadiusClientAction[] {
    const out: RadiusClientAction[] = [];
    const due = [...this.inFlight.values()].filter((p) => p.deadline <= now);
    for (const p of due) {
      if (p.tries < 1 + this.retries) {
        // RFC 2865 §2.5: a retransmission to the same server keeps its Identifier and Authenticator,
        // except accounting, whose Acct-Delay-Time grows: RFC 2866 §5.2 "changing the Acct-Delay-Time
        // causes the Identifier to change".
        p.tries++;
        p.deadline = now + this.timeoutMs;
        this.stats.retransmits++;
        if (p.request.code === RadiusCode.AccountingRequest) this.renumber(p, now);
        out.push({ type: 'send', server: p.server, data: p.data });
        continue;
      }
      const s = this.servers[p.server]!;
      s.deadUntil = now + this.deadTimeMs;
      this.release(p);
      p.serversTried++;
      if (p.serversTried >= this.servers.length) {
        this.stats.timeouts++;
        this.log.log('warn', 'radius request timed out on every server', {
          handle: p.handle,
          code: radiusCodeName(p.request.code),
        });
        out.push({
          type: 'failed',
          handle: p.handle,
          reason: 'timeout',
          detail: `no reply from ${this.servers.length} server(s) after ${1 + this.retries} tries each${
            p.dropped ? ` (replies dropped: ${p.dropped})` : ''
          }`,
        });
        continue;
      }
      this.stats.failovers++;
      const from = s.config.name;
      p.server = (p.server + 1) % this.servers.length;
      this.log.log('warn', 'radius server did not answer; failing over', {
        from,
        to: this.servers[p.server]!.config.name,
      });
      this.queue.unshift(p);
    }
    this.pump(now, out);
    return out;
  }

  /** A datagram from server `server` (the driver knows which socket it came on). */
  receive(now: number, server: number, data: Uint8Array): RadiusClientAction[] {
    const out: RadiusClientAction[] = [];
    const s = this.servers[server];
    if (!s) throw new RangeError(`radius: no server ${server}`);
    let packet: RadiusPacket;
    try {
      packet = decodeRadius(data);
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      this.stats.malformed++;
      this.log.log('debug', 'radius reply dropped: malformed', { server: s.config.name, error: e.message });
      return out;
    }
    const p = s.ids[packet.identifier];
    if (!p) {
      this.stats.unmatched++;
      this.log.log(
        'debug',
        'radius reply dropped: no request outstanding with its Identifier (late or duplicate)',
        {
          server: s.config.name,
          id: packet.identifier,
        },
      );
      return out;
    }
    if (!EXPECTED[p.request.code].includes(packet.code)) {
      this.stats.unexpectedCode++;
      this.log.log('warn', 'radius reply dropped: unexpected Code', {
        server: s.config.name,
        code: radiusCodeName(packet.code),
      });
      return out;
    }
    const check = verifyResponse(data, s.config.secret, p.authenticator);
    if (!check.authenticator) {
      this.stats.badAuthenticator++;
      p.dropped = 'Response Authenticator does not verify';
      this.log.log(
        'warn',
        'radius reply dropped: Response Authenticator does not verify (wrong shared secret?)',
        {
          server: s.config.name,
          id: packet.identifier,
        },
      );
      return out;
    }
    const accessLike = p.request.code !== RadiusCode.AccountingRequest;
    if (check.messageAuthenticator === 'invalid') {
      this.stats.badMessageAuthenticator++;
      p.dropped = 'Message-Authenticator does not verify';
      this.log.log('warn', 'radius reply dropped: Message-Authenticator does not verify (RFC 3579 §3.2)', {
        server: s.config.name,
      });
      return out;
    }
    if (accessLike && check.messageAuthenticator === 'absent') {
      this.stats.missingMessageAuthenticator++;
      p.dropped = 'no Message-Authenticator';
      this.log.log(
        'warn',
        'radius reply dropped: no Message-Authenticator (required on every Access reply against Blast-RADIUS; RFC 3579 §3.2)',
        { server: s.config.name },
      );
      return out;
    }
    this.release(p);
    s.deadUntil = Number.NEGATIVE_INFINITY;
    this.stats.replies++;
    out.push({
      type: 'reply',
      handle: p.handle,
      server,
      packet,
      requestAuthenticator: p.authenticator,
      secret: s.config.secret,
    });
    this.pump(now, out);
    return out;
  }

  private release(p: Pending): void {
    this.inFlight.delete(p.handle);
    const s = this.servers[p.server];
    if (s && p.id >= 0 && s.ids[p.id] === p) {
      s.ids[p.id] = undefined;
      s.inUse--;
    }
    p.id = -1;
  }

  /** The first server in configured order that is not resting; if all rest, the one that rests least. */
  private preferredServer(now: number): number {
    let best = 0;
    for (let i = 0; i < this.servers.length; i++) {
      const s = this.servers[i]!;
      if (s.deadUntil <= now) return i;
      if (s.deadUntil < this.servers[best]!.deadUntil) best = i;
    }
    return best;
  }

  private allocateId(s: ServerState, p: Pending): number {
    for (let k = 0; k < ID_SPACE; k++) {
      const id = (s.nextId + k) % ID_SPACE;
      if (!s.ids[id]) {
        s.ids[id] = p;
        s.inUse++;
        s.nextId = (id + 1) % ID_SPACE;
        return id;
      }
    }
    return -1;
  }

  /** Sends queued requests while there is room; a request whose server has no free Identifier waits. */
  private pump(now: number, out: RadiusClientAction[]): void {
    const waiting: Pending[] = [];
    while (this.queue.length > 0) {
      const p = this.queue.shift()!;
      if (this.inFlight.size >= this.maxOutstanding) {
        waiting.push(p, ...this.queue);
        this.queue = [];
        break;
      }
      if (p.server < 0) p.server = this.preferredServer(now);
      const s = this.servers[p.server]!;
      if (s.inUse >= ID_SPACE) {
        waiting.push(p);
        continue;
      }
      p.id = this.allocateId(s, p);
      try {
        this.encode(p, s, now);
      } catch (e) {
        if (!(e instanceof RangeError)) throw e;
        this.release(p);
        out.push({ type: 'failed', handle: p.handle, reason: 'too-large', detail: e.message });
        continue;
      }
      p.tries = 1;
      p.deadline = now + this.timeoutMs;
      this.inFlight.set(p.handle, p);
      this.stats.sent++;
      out.push({ type: 'send', server: p.server, data: p.data });
    }
    this.queue = waiting;
  }

  /**
   * A new Identifier on the same server and a fresh encoding (for the new
   * Acct-Delay-Time). With no Identifier free, the old one and the old
   * datagram are kept.
   */
  private renumber(p: Pending, now: number): void {
    const s = this.servers[p.server]!;
    const old = p.id;
    const next = this.allocateId(s, p);
    if (next < 0) return;
    const { data, authenticator } = p;
    p.id = next;
    try {
      this.encode(p, s, now);
      s.ids[old] = undefined;
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      // Six more octets would not fit: resend the record as it was.
      s.ids[next] = undefined;
      p.id = old;
      p.data = data;
      p.authenticator = authenticator;
    }
    s.inUse--;
  }

  private encode(p: Pending, s: ServerState, now: number): void {
    const { code, attributes, userPassword } = p.request;
    const secret = s.config.secret;
    if (code === RadiusCode.AccountingRequest) {
      // RFC 2866 §5.2 Acct-Delay-Time: "how many seconds the client has been trying to send this record",
      // added to what the caller already put there (a record held back before it was submitted).
      const waited = Math.max(0, Math.floor((now - p.submittedAt) / 1000));
      let attrs = attributes;
      if (waited > 0) {
        let base = 0;
        const fresh: RadiusAttribute[] = [];
        for (const a of attributes) {
          if (a.type === RadiusAttr.AcctDelayTime && a.value.length === 4) base = u32(a.value, 0);
          else fresh.push(a);
        }
        fresh.push(integerAttribute(RadiusAttr.AcctDelayTime, base + waited));
        attrs = fresh;
      }
      p.data = encodeRadius({ code, identifier: p.id, attributes: attrs });
      signZeroAuthenticatorRequest(p.data, secret);
      p.authenticator = p.data.slice(4, 20);
      return;
    }
    p.authenticator = newRequestAuthenticator(this.random);
    // Message-Authenticator first: the Blast-RADIUS mitigation places it there.
    const attrs: RadiusAttribute[] = [{ type: RadiusAttr.MessageAuthenticator, value: new Uint8Array(16) }];
    for (const a of attributes)
      if (a.type !== RadiusAttr.MessageAuthenticator && a.type !== RadiusAttr.UserPassword) attrs.push(a);
    if (userPassword !== undefined) {
      attrs.push({
        type: RadiusAttr.UserPassword,
        value: hidePassword(userPassword, secret, p.authenticator),
      });
    }
    p.data = encodeRadius({ code, identifier: p.id, attributes: attrs });
    signAccessRequest(p.data, secret, p.authenticator);
  }
}
