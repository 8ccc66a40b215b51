/**
 * The Dynamic Authorization Server engine (RFC 5176): Disconnect-Request
 * and CoA-Request from configured clients, answered with ACK or NAK. It is
 * sans-IO like the client engine: it takes a datagram, its source, the time
 * and a view of the live sessions, and returns what to do (apply a change,
 * send a reply). The UDP side is `io/das-udp.ts`, the server glue
 * `server/radius-das.ts`.
 *
 * Checks, in order (each failure is counted; the first four drop the packet
 * without an answer, as RFC 5176 §6.1 and RFC 2865 §3 require):
 *
 * 1. The source address is a configured client: "A Dynamic Authorization
 *    Server MUST silently discard Disconnect-Request or CoA-Request packets
 *    from untrusted sources" (§6.1); its secret is chosen by that address
 *    ("MUST use the source IP address ... to decide which shared secret to
 *    use", §2.3).
 * 2. The request rate (a token bucket over all clients) is not exceeded.
 * 3. The packet decodes (RFC 2865 §3 length rules) and its Code is 40 or 43
 *    ("Packets received with an invalid Code field MUST be silently
 *    discarded", §2.3).
 * 4. The Request Authenticator is MD5 over the packet with a zero
 *    Authenticator and the secret (§2.3, "calculated the same way as for an
 *    Accounting-Request"); a Message-Authenticator present verifies (§3.4:
 *    "MUST calculate the correct value ... and silently discard the packet
 *    if it does not match"); an Event-Timestamp present is within
 *    `timestampWindowS` of our clock (§6.3: "If the Event-Timestamp
 *    Attribute is not current, then the packet MUST be silently
 *    discarded").
 * 5. Duplicates (§2.3: "MUST be capable of detecting a duplicate request if
 *    it has the same source IP address, source UDP port, and Identifier";
 *    RFC 5080 §2.2.2): the same source, Identifier and Request
 *    Authenticator within `cacheMs` gets the cached reply again, and the
 *    request is not applied twice. Only verified packets touch the cache.
 *
 * Then the answer: NAK 401 for an attribute we do not support in that
 * request, 404 for a malformed or repeated one, 405 for a Service-Type in a
 * CoA-Request, 403 for NAS identification that is not ours, 402 without
 * session identification, 503 when no session matches, else ACK and the
 * change. Replies carry a Message-Authenticator, every Proxy-State of the
 * request in order (§3.1) and, for CoA, its State (§3.3).
 */

import {
  signResponse,
  verifyRequestMessageAuthenticator,
  verifyZeroAuthenticatorRequest,
} from '../crypto/radius.js';
import { bytesEqual, fromUtf8, ipv4ToString, parseIpv4, u16, u32 } from '../wire/bytes.js';
import {
  decodeRadius,
  ErrorCause,
  encodeRadius,
  integerAttribute,
  octetsAttribute,
  RadiusAttr,
  type RadiusAttribute,
  RadiusCode,
  type RadiusPacket,
  ServiceType,
} from '../wire/radius/index.js';

/** A client allowed to send Disconnect/CoA-Requests. */
export interface DasClientConfig {
  /** IPv4 source address of its datagrams. */
  readonly address: string;
  readonly secret: string;
}

/** A live session as the engine matches it (RFC 5176 §3 session identification). */
export interface DasSession {
  readonly id: number;
  readonly user: string | undefined;
  /** Framed-IP-Address: the tunnel address, dotted. */
  readonly address: string | undefined;
  /** Acct-Session-Id, when accounting gave the session one. */
  readonly acctSessionId?: string | undefined;
}

export interface DasConfig {
  readonly clients: readonly DasClientConfig[];
  /** Our NAS-IP-Address values (RFC 2865 §5.4); empty: a request naming any NAS-IP-Address is not for us. */
  readonly nasIpAddresses: readonly string[];
  /** Our NAS-Identifier (RFC 2865 §5.32). */
  readonly nasIdentifier: string;
  /** Duplicate-detection window, ms (RFC 5080 §2.2.2: "no less than 5 seconds, and no more than 30"). */
  readonly cacheMs?: number;
  /** Replies kept for duplicates, at most. */
  readonly maxCacheEntries?: number;
  /** Requests accepted per second, all clients together (token bucket rate). */
  readonly ratePerSecond?: number;
  /** Requests accepted in a burst (token bucket size). */
  readonly rateBurst?: number;
  /** Largest distance of an Event-Timestamp from our clock, seconds. */
  readonly timestampWindowS?: number;
}

export const DAS_DEFAULTS = {
  cacheMs: 10_000,
  maxCacheEntries: 1024,
  ratePerSecond: 50,
  rateBurst: 100,
  timestampWindowS: 300,
} as const;

/** Why a datagram got no answer. */
export type DasDropReason =
  | 'unknown-client'
  | 'rate-limited'
  | 'malformed'
  | 'unexpected-code'
  | 'bad-authenticator'
  | 'bad-message-authenticator'
  | 'stale-timestamp';

/** What the owner must do before sending the reply. */
export type DasChange =
  | { readonly type: 'disconnect'; readonly ids: readonly number[]; readonly reason: string | undefined }
  | { readonly type: 'session-timeout'; readonly ids: readonly number[]; readonly seconds: number }
  /** A CoA-Request with Idle-Timeout (RFC 2865 §5.28), and its Session-Timeout when it had one too. */
  | {
      readonly type: 'idle-timeout';
      readonly ids: readonly number[];
      readonly seconds: number;
      readonly sessionTimeout?: number;
    };

export type DasOutcome =
  | {
      readonly result: 'dropped';
      readonly kind: DasKind;
      readonly reason: DasDropReason;
      readonly detail?: string;
    }
  | { readonly result: 'duplicate'; readonly kind: DasKind; readonly reply: Uint8Array }
  | {
      readonly result: 'ack' | 'nak';
      readonly kind: DasKind;
      readonly reply: Uint8Array;
      /** NAK only: the Error-Cause sent. */
      readonly errorCause?: number;
      /** ACK only (and not for a CoA that changes nothing). */
      readonly change?: DasChange;
      /** Sessions matched (ACK). */
      readonly sessions?: number;
      /** One line for the log. */
      readonly detail: string;
    };

/** The request kind, for counting: `other` is a Code we do not serve or a packet too short to have one. */
export type DasKind = 'disconnect' | 'coa' | 'other';

export interface DasInput {
  /** Monotonic ms (cache and rate). */
  readonly now: number;
  /** Seconds since 1970 (Event-Timestamp, RFC 2869 §5.3). */
  readonly epochSeconds: number;
  readonly from: { readonly address: string; readonly port: number };
  readonly data: Uint8Array;
  /** The live sessions, read when a request needs them. */
  readonly sessions: () => readonly DasSession[];
}

export interface DasStats {
  received: number;
  unknownClient: number;
  rateLimited: number;
  malformed: number;
  unexpectedCode: number;
  badAuthenticator: number;
  badMessageAuthenticator: number;
  staleTimestamp: number;
  duplicates: number;
  acks: number;
  naks: number;
}

interface CacheEntry {
  readonly authenticator: Uint8Array;
  readonly reply: Uint8Array;
  readonly kind: DasKind;
  readonly expires: number;
}

/** Attributes we identify sessions by (RFC 5176 §3, "Session identification attributes"). */
const SESSION_ID_ATTRIBUTES = new Set<number>([
  RadiusAttr.UserName,
  RadiusAttr.FramedIpAddress,
  RadiusAttr.AcctSessionId,
]);
/** RFC 5176 §3 "NAS identification attributes" (NAS-IPv6-Address is 95). */
const NAS_IPV6_ADDRESS = 95;
const NAS_ID_ATTRIBUTES = new Set<number>([
  RadiusAttr.NasIpAddress,
  RadiusAttr.NasIdentifier,
  NAS_IPV6_ADDRESS,
]);
/** Allowed in both requests and needing no action (§3.1, §3.4, §6.3). */
const NEUTRAL = new Set<number>([
  RadiusAttr.MessageAuthenticator,
  RadiusAttr.ProxyState,
  RadiusAttr.EventTimestamp,
]);
/** Disconnect-Request only (§3.6): the reason the DAC gives, and text for the user. */
const DISCONNECT_ONLY = new Set<number>([RadiusAttr.AcctTerminateCause, RadiusAttr.ReplyMessage]);
/** CoA-Request only, what we can carry out: Session-Timeout, Idle-Timeout, and State, echoed (§3.3). */
const COA_ONLY = new Set<number>([
  RadiusAttr.SessionTimeout,
  RadiusAttr.IdleTimeout,
  RadiusAttr.State,
  RadiusAttr.ServiceType,
]);
/** RFC 5176 §3.6 lists these "0-1": more than one is an Invalid Request. */
const AT_MOST_ONE = new Set<number>([
  RadiusAttr.UserName,
  RadiusAttr.NasIpAddress,
  RadiusAttr.FramedIpAddress,
  RadiusAttr.NasIdentifier,
  RadiusAttr.AcctSessionId,
  RadiusAttr.AcctTerminateCause,
  RadiusAttr.EventTimestamp,
  RadiusAttr.MessageAuthenticator,
  RadiusAttr.SessionTimeout,
  RadiusAttr.IdleTimeout,
  RadiusAttr.State,
  RadiusAttr.ServiceType,
  NAS_IPV6_ADDRESS,
]);
/** Values that must be four octets (integer, address, time). */
const FOUR_OCTETS = new Set<number>([
  RadiusAttr.NasIpAddress,
  RadiusAttr.FramedIpAddress,
  RadiusAttr.AcctTerminateCause,
  RadiusAttr.EventTimestamp,
  RadiusAttr.SessionTimeout,
  RadiusAttr.IdleTimeout,
  RadiusAttr.ServiceType,
]);

function kindOf(code: number | undefined): DasKind {
  if (code === RadiusCode.DisconnectRequest) return 'disconnect';
  if (code === RadiusCode.CoaRequest) return 'coa';
  return 'other';
}

class Nak {
  constructor(
    readonly cause: number,
    readonly detail: string,
  ) {}
}

export class DasEngine {
  readonly stats: DasStats = {
    received: 0,
    unknownClient: 0,
    rateLimited: 0,
    malformed: 0,
    unexpectedCode: 0,
    badAuthenticator: 0,
    badMessageAuthenticator: 0,
    staleTimestamp: 0,
    duplicates: 0,
    acks: 0,
    naks: 0,
  };
  private readonly secrets = new Map<string, string>();
  private readonly cache = new Map<string, CacheEntry>();
  private readonly cacheMs: number;
  private readonly maxCache: number;
  private readonly rate: number;
  private readonly burst: number;
  private readonly window: number;
  private readonly nasIps: ReadonlySet<string>;
  private tokens = 0;
  private tokensAt: number | undefined;

  constructor(private readonly config: DasConfig) {
    this.setClients(config.clients);
    this.cacheMs = config.cacheMs ?? DAS_DEFAULTS.cacheMs;
    this.maxCache = config.maxCacheEntries ?? DAS_DEFAULTS.maxCacheEntries;
    this.rate = config.ratePerSecond ?? DAS_DEFAULTS.ratePerSecond;
    this.burst = config.rateBurst ?? DAS_DEFAULTS.rateBurst;
    this.window = config.timestampWindowS ?? DAS_DEFAULTS.timestampWindowS;
    this.nasIps = new Set(config.nasIpAddresses);
    this.tokens = this.burst;
  }

  /**
   * Replaces the clients allowed to send requests (a reload). All are
   * checked before any is taken: a bad list throws and the old one stays.
   * A client no longer listed is unknown from its next datagram on.
   */
  setClients(clients: readonly DasClientConfig[]): void {
    for (const c of clients) {
      if (parseIpv4(c.address) === undefined) throw new RangeError(`das: client address ${c.address}`);
      if (!c.secret) throw new RangeError('das: empty secret');
    }
    this.secrets.clear();
    for (const c of clients) this.secrets.set(c.address, c.secret);
  }

  /** Replies held for duplicate detection (bounded by `maxCacheEntries`). */
  get cacheSize(): number {
    return this.cache.size;
  }

  receive(input: DasInput): DasOutcome {
    const s = this.stats;
    s.received++;
    const data = input.data;
    const kind = kindOf(data[0]);
    const secret = this.secrets.get(input.from.address);
    if (secret === undefined) {
      s.unknownClient++;
      return { result: 'dropped', kind, reason: 'unknown-client', detail: input.from.address };
    }
    if (!this.takeToken(input.now)) {
      s.rateLimited++;
      return { result: 'dropped', kind, reason: 'rate-limited' };
    }
    let packet: RadiusPacket;
    try {
      packet = decodeRadius(data);
    } catch (e) {
      s.malformed++;
      return { result: 'dropped', kind, reason: 'malformed', detail: (e as Error).message };
    }
    if (kind === 'other') {
      s.unexpectedCode++;
      return { result: 'dropped', kind, reason: 'unexpected-code', detail: `Code ${packet.code}` };
    }
    const length = u16(data, 2);
    // A plain Uint8Array view (not a Buffer, whose slice() would not copy): the crypto copies it.
    const raw = new Uint8Array(data.buffer, data.byteOffset, length);
    if (!verifyZeroAuthenticatorRequest(raw, secret)) {
      s.badAuthenticator++;
      return { result: 'dropped', kind, reason: 'bad-authenticator' };
    }
    if (verifyRequestMessageAuthenticator(raw, secret, true) === 'invalid') {
      s.badMessageAuthenticator++;
      return { result: 'dropped', kind, reason: 'bad-message-authenticator' };
    }
    const stamp = packet.attributes.find((a) => a.type === RadiusAttr.EventTimestamp);
    // A wrongly sized one is answered (NAK 404) below.
    if (stamp?.value.length === 4 && Math.abs(u32(stamp.value, 0) - input.epochSeconds) > this.window) {
      s.staleTimestamp++;
      return { result: 'dropped', kind, reason: 'stale-timestamp' };
    }

    this.expire(input.now);
    const key = `${input.from.address}:${input.from.port}:${packet.identifier}`;
    const cached = this.cache.get(key);
    // The request is verified already: a plain comparison reveals nothing.
    if (cached && bytesEqual(cached.authenticator, packet.authenticator)) {
      s.duplicates++;
      return { result: 'duplicate', kind: cached.kind, reply: cached.reply };
    }
    // A new request under the same Identifier replaces the entry (RFC 5080 §2.2.2).
    this.cache.delete(key);

    let outcome: DasOutcome;
    const requestAuthenticator = packet.authenticator.slice();
    try {
      const { change, sessions, detail } = this.decide(packet, kind, input.sessions);
      s.acks++;
      outcome = {
        result: 'ack',
        kind,
        reply: this.reply(packet, kind, true, undefined, secret, requestAuthenticator),
        ...(change ? { change } : {}),
        sessions,
        detail,
      };
    } catch (e) {
      if (!(e instanceof Nak)) throw e;
      s.naks++;
      outcome = {
        result: 'nak',
        kind,
        reply: this.reply(packet, kind, false, e.cause, secret, requestAuthenticator),
        errorCause: e.cause,
        detail: e.detail,
      };
    }
    this.remember(key, {
      authenticator: requestAuthenticator,
      reply: outcome.reply,
      kind,
      expires: input.now + this.cacheMs,
    });
    return outcome;
  }

  private decide(
    p: RadiusPacket,
    kind: 'disconnect' | 'coa',
    sessions: () => readonly DasSession[],
  ): { change: DasChange | undefined; sessions: number; detail: string } {
    const seen = new Map<number, number>();
    for (const a of p.attributes) {
      const t = a.type;
      const allowed =
        SESSION_ID_ATTRIBUTES.has(t) ||
        NAS_ID_ATTRIBUTES.has(t) ||
        NEUTRAL.has(t) ||
        (kind === 'disconnect' ? DISCONNECT_ONLY.has(t) : COA_ONLY.has(t));
      if (!allowed) {
        // RFC 5176 §3: "A Disconnect-Request MUST contain only NAS and session identification
        // attributes ... implementations MUST send a Disconnect-NAK"; §2.3: "A NAS MUST respond to a
        // CoA-Request containing one or more unsupported attributes ... with a CoA-NAK".
        throw new Nak(ErrorCause.UnsupportedAttribute, `unsupported attribute ${t}`);
      }
      seen.set(t, (seen.get(t) ?? 0) + 1);
    }
    for (const [t, n] of seen) {
      if (n > 1 && AT_MOST_ONE.has(t)) throw new Nak(ErrorCause.InvalidRequest, `attribute ${t} repeated`);
    }
    for (const a of p.attributes) {
      if (FOUR_OCTETS.has(a.type) && a.value.length !== 4) {
        throw new Nak(ErrorCause.InvalidRequest, `attribute ${a.type} is ${a.value.length} octets, want 4`);
      }
      if (a.type === NAS_IPV6_ADDRESS && a.value.length !== 16) {
        throw new Nak(ErrorCause.InvalidRequest, `NAS-IPv6-Address is ${a.value.length} octets`);
      }
    }
    const get = (t: number): Uint8Array | undefined => p.attributes.find((a) => a.type === t)?.value;

    const service = get(RadiusAttr.ServiceType);
    if (service) {
      // §3.2: "If the NAS does not support a Service-Type value of "Authorize Only", then it MUST
      // respond with a CoA-NAK; an Error-Cause Attribute with a value of 405 (Unsupported Service)
      // SHOULD be included." Other values are no service we could change to either.
      const v = u32(service, 0);
      throw new Nak(
        ErrorCause.UnsupportedService,
        v === ServiceType.AuthorizeOnly ? 'Service-Type Authorize-Only' : `Service-Type ${v}`,
      );
    }

    // NAS identification (§3.5 "NAS Identification Mismatch").
    const nasIp = get(RadiusAttr.NasIpAddress);
    if (nasIp && !this.nasIps.has(ipv4ToString(u32(nasIp, 0)))) {
      throw new Nak(ErrorCause.NasIdentificationMismatch, `NAS-IP-Address ${ipv4ToString(u32(nasIp, 0))}`);
    }
    const nasId = get(RadiusAttr.NasIdentifier);
    if (nasId && fromUtf8(nasId) !== this.config.nasIdentifier) {
      throw new Nak(ErrorCause.NasIdentificationMismatch, `NAS-Identifier ${fromUtf8(nasId)}`);
    }
    if (get(NAS_IPV6_ADDRESS)) {
      throw new Nak(ErrorCause.NasIdentificationMismatch, 'NAS-IPv6-Address (this NAS has none)');
    }

    // Session identification (§3): every attribute given must match.
    const user = get(RadiusAttr.UserName);
    const framed = get(RadiusAttr.FramedIpAddress);
    const acct = get(RadiusAttr.AcctSessionId);
    if (!user && !framed && !acct) {
      throw new Nak(
        ErrorCause.MissingAttribute,
        'no session identification (User-Name, Framed-IP-Address or Acct-Session-Id)',
      );
    }
    const want = {
      user: user ? fromUtf8(user) : undefined,
      address: framed ? ipv4ToString(u32(framed, 0)) : undefined,
      acct: acct ? fromUtf8(acct) : undefined,
    };
    const matched = sessions().filter(
      (x) =>
        (want.user === undefined || x.user === want.user) &&
        (want.address === undefined || x.address === want.address) &&
        (want.acct === undefined || x.acctSessionId === want.acct),
    );
    const what = [
      want.user !== undefined ? `User-Name=${want.user}` : '',
      want.address !== undefined ? `Framed-IP-Address=${want.address}` : '',
      want.acct !== undefined ? `Acct-Session-Id=${want.acct}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    if (matched.length === 0) throw new Nak(ErrorCause.SessionContextNotFound, `no session with ${what}`);
    const ids = matched.map((x) => x.id);

    if (kind === 'disconnect') {
      const texts = p.attributes
        .filter((a) => a.type === RadiusAttr.ReplyMessage)
        .map((a) => fromUtf8(a.value));
      return {
        change: { type: 'disconnect', ids, reason: texts.length ? texts.join('') : undefined },
        sessions: ids.length,
        detail: `disconnect ${what}`,
      };
    }
    const timeout = get(RadiusAttr.SessionTimeout);
    const idle = get(RadiusAttr.IdleTimeout);
    if (idle) {
      const seconds = u32(idle, 0);
      const sessionTimeout = timeout ? u32(timeout, 0) : undefined;
      return {
        change: {
          type: 'idle-timeout',
          ids,
          seconds,
          ...(sessionTimeout !== undefined ? { sessionTimeout } : {}),
        },
        sessions: ids.length,
        detail: `CoA ${what}: Idle-Timeout ${seconds}${sessionTimeout !== undefined ? ` Session-Timeout ${sessionTimeout}` : ''}`,
      };
    }
    if (!timeout)
      return { change: undefined, sessions: ids.length, detail: `CoA ${what}: nothing to change` };
    const seconds = u32(timeout, 0);
    return {
      change: { type: 'session-timeout', ids, seconds },
      sessions: ids.length,
      detail: `CoA ${what}: Session-Timeout ${seconds}`,
    };
  }

  /** ACK or NAK, signed (RFC 5176 §2.3 Response Authenticator, §3.4 Message-Authenticator). */
  private reply(
    p: RadiusPacket,
    kind: 'disconnect' | 'coa',
    ack: boolean,
    cause: number | undefined,
    secret: string,
    requestAuthenticator: Uint8Array,
  ): Uint8Array {
    const attrs: RadiusAttribute[] = [octetsAttribute(RadiusAttr.MessageAuthenticator, new Uint8Array(16))];
    if (cause !== undefined) attrs.push(integerAttribute(RadiusAttr.ErrorCause, cause));
    if (kind === 'coa') {
      // §3.3: State "MUST be sent unmodified from the NAS to the Dynamic Authorization Client in a
      // subsequent ACK or NAK packet".
      const state = p.attributes.find((a) => a.type === RadiusAttr.State);
      if (state) attrs.push(octetsAttribute(RadiusAttr.State, state.value.slice()));
    }
    // §3.1: the DAS "MUST include those Proxy-State attributes in its response".
    for (const a of p.attributes) {
      if (a.type === RadiusAttr.ProxyState) attrs.push(octetsAttribute(a.type, a.value.slice()));
    }
    const code =
      kind === 'disconnect'
        ? ack
          ? RadiusCode.DisconnectAck
          : RadiusCode.DisconnectNak
        : ack
          ? RadiusCode.CoaAck
          : RadiusCode.CoaNak;
    const out = encodeRadius({ code, identifier: p.identifier, attributes: attrs });
    signResponse(out, secret, requestAuthenticator);
    return out;
  }

  private takeToken(now: number): boolean {
    if (this.tokensAt !== undefined) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.tokensAt) / 1000) * this.rate);
    }
    this.tokensAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private expire(now: number): void {
    // Entries are inserted in time order with one lifetime: the oldest are first.
    for (const [k, e] of this.cache) {
      if (e.expires > now) break;
      this.cache.delete(k);
    }
  }

  private remember(key: string, e: CacheEntry): void {
    while (this.cache.size >= this.maxCache) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
    this.cache.set(key, e);
  }
}
