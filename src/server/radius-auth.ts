/**
 * RADIUS authentication for the server (RFC 2865, RFC 2548, RFC 3579): each
 * PAP Authenticate-Request or CHAP Response becomes an Access-Request, and
 * the Access-Accept or Access-Reject becomes the verdict the PPP
 * authentication engine sends to the peer (src/ppp/auth/types.ts
 * `AuthVerdict`).
 *
 * How it plugs into a call ({@link CallAuth}): the engine asks its lookup
 * about the exchange; the first time the answer is `pending` and an
 * Access-Request leaves; the engine tosses the packet as if it had not come.
 * When the reply is in, the call hands the newest such packet to the session
 * again, and the lookup now answers with the verdict. Nothing waits: a slow
 * or silent server holds only its own calls, and every request is bounded
 * by the client engine's time-out, retries and fail-over
 * (src/radius/radius-client.ts), and by `max-outstanding`.
 *
 * Sources in order (`radius.order`): the first source that knows the user
 * decides. chap-secrets "knows" a user it has a line for; a RADIUS server
 * knows every user it answers, so an Access-Reject decides. A RADIUS
 * request that fails (no reply from any server, or too many requests
 * outstanding) passes on to the next source when there is one: with
 * `["radius", "secrets"]` the secrets file is the fall-back for a RADIUS
 * outage, never a second chance after a Reject.
 */
import { getStartKey } from '../crypto/mppe-keys.js';
import { revealPassword, saltDecrypt } from '../crypto/radius.js';
import type { Logger } from '../log/logger.js';
import { printable, redacted } from '../ppp/auth/auth-util.js';
import type {
  AuthMethod,
  AuthVerdict,
  Credential,
  CredentialLookup,
  CredentialRequest,
  MppeKeyMaterial,
} from '../ppp/auth/index.js';
import { RadiusClient, type RadiusClientAction, type RadiusRequest } from '../radius/radius-client.js';
import type { PppSession } from '../session/session.js';
import { ipv4ToString, toHex, u32 } from '../wire/bytes.js';
import { ChapCode } from '../wire/chap.js';
import { PapCode } from '../wire/pap.js';
import { type PppFrame, PppProtocol } from '../wire/ppp.js';
import {
  addressAttribute,
  FramedProtocol,
  getAttributes,
  getInteger,
  getMicrosoftAttribute,
  getReplyMessage,
  integerAttribute,
  MppeEncryptionPolicy,
  MppeEncryptionTypes,
  MsAttr,
  microsoftAttribute,
  NasPortType,
  octetsAttribute,
  RadiusAttr,
  type RadiusAttribute,
  RadiusCode,
  type RadiusPacket,
  ServiceType,
  TunnelMediumType,
  TunnelType,
  taggedIntegerAttribute,
  taggedTextAttribute,
  textAttribute,
} from '../wire/radius/index.js';
import type { CallAccounting, CallAuth, SessionAuthorization } from './call-auth.js';
import type { AddressPolicy } from './chap-secrets.js';

/** One authentication server. */
export interface RadiusAuthServer {
  readonly host: string;
  readonly port: number;
  readonly secret: string;
}

export type RadiusAuthSource = 'radius' | 'secrets';

export interface RadiusAuthOptions {
  readonly servers: readonly RadiusAuthServer[];
  /** Where users are looked up, in order (see the module comment). */
  readonly order: readonly RadiusAuthSource[];
  /** NAS-Identifier (RFC 2865 §5.32). At least one of it and `nasIpAddress` is sent (§4.1 "MUST"). */
  readonly nasIdentifier: string;
  /** NAS-IP-Address (RFC 2865 §5.4), host order. */
  readonly nasIpAddress?: number;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly deadTimeMs: number;
  readonly maxOutstanding: number;
  /** The chap-secrets lookup and address policy, for `secrets` in {@link order}. */
  readonly secrets: CredentialLookup;
  readonly secretsPolicy: (peerName: string) => AddressPolicy | undefined;
  readonly log: Logger;
  readonly random: (n: number) => Uint8Array;
}

/** How one Access-Request ended, for metrics. */
export type RadiusAuthResult = 'accept' | 'reject' | 'challenge' | 'timeout' | 'overloaded' | 'error';

/** What a transport does with the engine's actions (the UDP driver, or a test's fake). */
export interface RadiusAuthTransport {
  now(): number;
  perform(actions: readonly RadiusClientAction[]): void;
}

type Outcome = Extract<RadiusClientAction, { type: 'reply' | 'failed' }>;

/** The longest text taken from a Reply-Message for the peer (PAP and CHAP messages are short). */
const MAX_MESSAGE = 200;

/**
 * The server's RADIUS authentication: one client engine for all calls, and
 * a {@link CallAuth} per call ({@link callAuth}).
 */
export class RadiusAuthenticator {
  readonly engine: RadiusClient;
  /** Access-Requests by how they ended. */
  readonly results: Record<RadiusAuthResult, number> = {
    accept: 0,
    reject: 0,
    challenge: 0,
    timeout: 0,
    overloaded: 0,
    error: 0,
  };
  /** Told of every request that ended with a reply or failed, with its duration. */
  onResult: ((result: RadiusAuthResult, seconds: number) => void) | undefined;
  private transport: RadiusAuthTransport | undefined;
  private readonly waiting = new Map<number, (o: Outcome) => void>();
  private nextHandle = 1;
  private readonly names: string[];

  constructor(readonly o: RadiusAuthOptions) {
    this.names = o.servers.map((s) => `${s.host}:${s.port}`);
    this.engine = new RadiusClient({
      servers: o.servers.map((s, i) => ({ name: this.names[i]!, secret: s.secret })),
      random: o.random,
      timeoutMs: o.timeoutMs,
      retries: o.retries,
      deadTimeMs: o.deadTimeMs,
      maxOutstanding: o.maxOutstanding,
      // The queue behind the wire: as many again, then `overloaded` (bounded like everything else).
      maxQueued: o.maxOutstanding,
      logger: o.log,
    });
  }

  /** The transport is ready (the UDP driver opened its sockets). */
  connect(transport: RadiusAuthTransport): void {
    this.transport = transport;
  }

  /** For the transport: an action of the engine that is not a `send`. */
  readonly onAction = (a: RadiusClientAction): void => {
    if (a.type === 'reply' || a.type === 'failed') {
      const w = this.waiting.get(a.handle);
      if (!w) return;
      this.waiting.delete(a.handle);
      w(a);
    }
  };

  /** Requests waiting for an answer. */
  get outstanding(): number {
    return this.waiting.size;
  }

  /** The server a reply came from, for logs. */
  serverName(index: number): string {
    return this.names[index] ?? `server ${index}`;
  }

  /** Sends `request`; `done` hears the reply or the failure, unless {@link cancel} came first. */
  submit(request: RadiusRequest, done: (o: Outcome) => void): number {
    const handle = this.nextHandle++;
    if (this.nextHandle > 0x7fffffff) this.nextHandle = 1;
    const t = this.transport;
    if (!t) {
      done({ type: 'failed', handle, reason: 'timeout', detail: 'the RADIUS client is not running' });
      return handle;
    }
    const started = t.now();
    this.waiting.set(handle, (o) => {
      const result: RadiusAuthResult =
        o.type === 'failed'
          ? o.reason === 'timeout'
            ? 'timeout'
            : o.reason === 'overloaded'
              ? 'overloaded'
              : 'error'
          : o.packet.code === RadiusCode.AccessAccept
            ? 'accept'
            : o.packet.code === RadiusCode.AccessReject
              ? 'reject'
              : 'challenge';
      this.results[result]++;
      this.onResult?.(result, Math.max(0, t.now() - started) / 1000);
      done(o);
    });
    t.perform(this.engine.submit(started, handle, request));
    return handle;
  }

  /** Forgets a request: no answer will be delivered, its Identifier is free again. */
  cancel(handle: number): void {
    if (!this.waiting.delete(handle)) return;
    this.engine.cancel(handle);
  }

  /** The {@link CallAuth} of one call. */
  readonly callAuth = (call: { readonly peer: string; readonly callId: number }): RadiusCallAuth =>
    new RadiusCallAuth(this, call.peer, call.callId);
}

/** A decision about one exchange (the key says which). */
/**
 * The MS-CHAP-Response / MS-CHAP2-Response value (RFC 2548 §2.1.3, §2.3.2):
 * Ident, Flags, then the 48 octets that open the PPP Response Value (whose
 * last octet, RFC 2433 §2 / RFC 2759 §4, is the Flags). `undefined` unless
 * the Response Value has its 49 octets.
 */
function msChapResponseAttribute(
  identifier: number,
  response: Uint8Array | undefined,
): Uint8Array | undefined {
  if (response?.length !== 49) return undefined;
  const v = new Uint8Array(50);
  v[0] = identifier;
  v[1] = response[48]!;
  v.set(response.subarray(0, 48), 2);
  return v;
}

interface Decision {
  readonly key: string;
  readonly credential: Credential | undefined;
  readonly source: RadiusAuthSource;
  readonly authorization: SessionAuthorization | undefined;
}

/** The request a lookup is about: the name and the exchange, identified. */
function exchangeKey(req: CredentialRequest): string | undefined {
  const e = req.exchange;
  if (!e) return undefined;
  // PAP peers retransmit with a new Identifier each time (RFC 1334 §2.2.1): the credentials are the request.
  if (req.method === 'pap') return `pap ${req.rawPeerName} ${toHex(e.password ?? new Uint8Array(0))}`;
  return `${req.method} ${e.identifier} ${req.rawPeerName} ${toHex(e.challenge ?? new Uint8Array(0))} ${toHex(e.response ?? new Uint8Array(0))}`;
}

/** A PAP Authenticate-Request or CHAP Response (what a verdict answers). */
function isAuthRequest(frame: PppFrame): boolean {
  const c = frame.payload[0];
  return (
    (frame.protocol === PppProtocol.Pap && c === PapCode.AuthenticateRequest) ||
    (frame.protocol === PppProtocol.Chap && c === ChapCode.Response)
  );
}

/** One call's authentication through RADIUS (and chap-secrets, in the configured order). */
export class RadiusCallAuth implements CallAuth {
  private session: PppSession | undefined;
  private decided: Decision | undefined;
  private pending: { readonly key: string; readonly handle: number } | undefined;
  private lastFrame: PppFrame | undefined;
  private closed = false;

  constructor(
    private readonly radius: RadiusAuthenticator,
    readonly peer: string,
    readonly callId: number,
  ) {}

  get authorization(): SessionAuthorization | undefined {
    return this.decided?.authorization;
  }

  /**
   * What accounting echoes and follows (RFC 2865 §5.25 Class, RFC 2869 §5.16
   * Acct-Interim-Interval, RFC 2866 §5.6 Acct-Authentic) once the user is in.
   */
  accounting(): CallAccounting | undefined {
    const d = this.decided;
    if (!d) return undefined;
    const z = d.authorization;
    if (d.source === 'secrets' || !z) return { authentic: 'local' };
    return {
      classes: z.class,
      ...(z.acctInterimInterval !== undefined ? { interimInterval: z.acctInterimInterval } : {}),
      authentic: 'radius',
    };
  }

  attach(session: PppSession): void {
    this.session = session;
  }

  /** Never holds: it keeps a copy of the newest request, to hand in again once the verdict is in. */
  readonly hold = (frame: PppFrame): boolean => {
    if (!this.closed && isAuthRequest(frame)) {
      this.lastFrame = { protocol: frame.protocol, payload: frame.payload.slice() };
    }
    return false;
  };

  readonly lookup = (req: CredentialRequest): Credential | undefined => {
    if (this.closed) return undefined;
    const key = exchangeKey(req);
    if (key === undefined) return this.radius.o.secrets(req);
    if (this.decided?.key === key) return this.decided.credential;
    if (this.pending?.key === key) return { pending: true };
    return this.consult(req, key, 0);
  };

  addressPolicy(peerName: string | undefined): AddressPolicy | undefined {
    const d = this.decided;
    if (!d) return undefined;
    if (d.source === 'secrets')
      return peerName === undefined ? undefined : this.radius.o.secretsPolicy(peerName);
    const a = d.authorization?.address;
    return a === undefined ? undefined : { none: false, fixed: [a], allow: [], deny: [] };
  }

  close(): void {
    this.closed = true;
    this.lastFrame = undefined;
    const p = this.pending;
    this.pending = undefined;
    if (p) this.radius.cancel(p.handle);
  }

  /** Asks the sources from `from` on; returns the credential, or `pending` while RADIUS is asked. */
  private consult(req: CredentialRequest, key: string, from: number): Credential | undefined {
    const order = this.radius.o.order;
    for (let i = from; i < order.length; i++) {
      if (order[i] === 'secrets') {
        const cred = this.radius.o.secrets(req);
        if (cred === undefined) continue;
        this.decided = {
          key,
          credential: cred,
          source: 'secrets',
          authorization: { source: 'secrets', class: [] },
        };
        return cred;
      }
      const request = this.accessRequest(req);
      if (typeof request === 'string') {
        // Nothing a server could check (e.g. a PAP password over 128 octets): refused here.
        return this.decide(key, 'radius', { verdict: 'reject', detail: request }, undefined);
      }
      this.cancelPending();
      const ctx = { sync: true };
      const handle = this.radius.submit(request, (o) => this.answered(req, key, i, o, ctx));
      ctx.sync = false;
      // `submit` may have failed at once (no transport, too many requests): then it is decided already.
      if (this.decided?.key === key) return this.decided.credential;
      this.pending = { key, handle };
      return { pending: true };
    }
    this.decided = { key, credential: undefined, source: 'secrets', authorization: undefined };
    return undefined;
  }

  private cancelPending(): void {
    const p = this.pending;
    this.pending = undefined;
    if (p) this.radius.cancel(p.handle);
  }

  private decide(
    key: string,
    source: RadiusAuthSource,
    credential: Credential | undefined,
    authorization: SessionAuthorization | undefined,
  ): Credential | undefined {
    this.decided = { key, credential, source, authorization };
    return credential;
  }

  private answered(
    req: CredentialRequest,
    key: string,
    index: number,
    o: Outcome,
    ctx: { readonly sync: boolean },
  ): void {
    if (this.closed) return;
    if (!ctx.sync) {
      if (this.pending?.key !== key) return;
      this.pending = undefined;
    }
    this.settleNow(req, key, index, o);
    // Hand the request in again: the engine's lookup now finds the verdict.
    const frame = this.lastFrame;
    if (!ctx.sync && frame) this.session?.receiveFrame(frame);
  }

  private settleNow(req: CredentialRequest, key: string, index: number, o: Outcome): void {
    const log = this.radius.o.log;
    const user = printable(req.peerName);
    if (o.type === 'failed') {
      const next = index + 1 < this.radius.o.order.length;
      log.log('warn', `radius: ${o.detail}${next ? '; trying the next source' : ': user refused'}`, {
        user,
        peer: this.peer,
        callId: this.callId,
        reason: o.reason,
      });
      if (next) {
        this.consult(req, key, index + 1);
        return;
      }
      this.decide(
        key,
        'radius',
        { verdict: 'reject', reason: 'timed-out', detail: `radius: ${o.detail}` },
        undefined,
      );
      return;
    }
    const server = this.radius.serverName(o.server);
    const p = o.packet;
    if (p.code === RadiusCode.AccessReject) {
      const text = replyText(p);
      log.log('warn', 'radius: Access-Reject', {
        user,
        peer: this.peer,
        server,
        ...(text !== undefined ? { message: text } : {}),
      });
      this.decide(
        key,
        'radius',
        {
          verdict: 'reject',
          detail: `Access-Reject from ${server}`,
          ...(text !== undefined ? { message: text } : {}),
        },
        undefined,
      );
      return;
    }
    if (p.code !== RadiusCode.AccessAccept) {
      log.log('warn', 'radius: Access-Challenge is not supported: user refused', { user, server });
      this.decide(key, 'radius', { verdict: 'reject', detail: `Access-Challenge from ${server}` }, undefined);
      return;
    }
    const accepted = acceptVerdict(req, p, o.secret, o.requestAuthenticator, server);
    if ('error' in accepted) {
      log.log('warn', `radius: Access-Accept unusable: ${accepted.error}: user refused`, { user, server });
      this.decide(key, 'radius', { verdict: 'reject', detail: accepted.error }, undefined);
      return;
    }
    log.log('info', 'radius: Access-Accept', {
      user,
      peer: this.peer,
      server,
      keys: accepted.authorization.mppeKeys ?? 'none',
      ...(accepted.authorization.address !== undefined
        ? { address: ipv4ToString(accepted.authorization.address) }
        : {}),
    });
    this.decide(key, 'radius', accepted.verdict, accepted.authorization);
  }

  /** The Access-Request for this exchange, or why none can be made. */
  private accessRequest(req: CredentialRequest): RadiusRequest | string {
    const o = this.radius.o;
    const e = req.exchange!;
    const attributes: RadiusAttribute[] = [textAttribute(RadiusAttr.UserName, req.peerName)];
    let userPassword: Uint8Array | undefined;
    switch (req.method) {
      case 'pap':
        if ((e.password?.length ?? 0) > 128) return 'PAP password over 128 octets (RFC 2865 §5.2)';
        userPassword = e.password?.slice() ?? new Uint8Array(0);
        break;
      case 'chap-md5':
        // RFC 2865 §5.3: the CHAP Identifier, then the 16-octet Response.
        if (e.response?.length !== 16) return 'CHAP-MD5 Response Value is not 16 octets';
        attributes.push(
          octetsAttribute(RadiusAttr.ChapPassword, Uint8Array.of(e.identifier, ...e.response)),
          octetsAttribute(RadiusAttr.ChapChallenge, e.challenge!),
        );
        break;
      case 'mschap': {
        // RFC 2548 §2.1.3 MS-CHAP-Response: Ident, Flags, LM-Response (24), NT-Response (24);
        // the PPP Response Value (RFC 2433 §2) is LM-Response, NT-Response, Flags.
        const v = msChapResponseAttribute(e.identifier, e.response);
        if (!v) return 'MS-CHAP Response Value is not 49 octets';
        attributes.push(
          microsoftAttribute(MsAttr.ChapChallenge, e.challenge!),
          microsoftAttribute(MsAttr.ChapResponse, v),
        );
        break;
      }
      case 'mschap-v2': {
        // RFC 2548 §2.3.2 MS-CHAP2-Response: Ident, Flags, Peer-Challenge (16), Reserved (8),
        // Response (24); the PPP Response Value (RFC 2759 §4) is those last three, then Flags.
        const v = msChapResponseAttribute(e.identifier, e.response);
        if (!v) return 'MS-CHAP-V2 Response Value is not 49 octets';
        attributes.push(
          microsoftAttribute(MsAttr.ChapChallenge, e.challenge!),
          microsoftAttribute(MsAttr.Chap2Response, v),
        );
        break;
      }
    }
    attributes.push(...nasAttributes(o, this.peer, this.callId));
    return {
      code: RadiusCode.AccessRequest,
      attributes,
      ...(userPassword !== undefined ? { userPassword } : {}),
    };
  }
}

/** What a PPTP NAS sends in every Access-Request (RFC 2865 §4.1, §5; RFC 2868 §3). */
export function nasAttributes(o: RadiusAuthOptions, peer: string, callId: number): RadiusAttribute[] {
  const attributes: RadiusAttribute[] = [];
  if (o.nasIpAddress !== undefined)
    attributes.push(addressAttribute(RadiusAttr.NasIpAddress, o.nasIpAddress));
  attributes.push(
    textAttribute(RadiusAttr.NasIdentifier, o.nasIdentifier),
    integerAttribute(RadiusAttr.NasPort, callId),
    integerAttribute(RadiusAttr.NasPortType, NasPortType.Virtual),
    integerAttribute(RadiusAttr.ServiceType, ServiceType.Framed),
    integerAttribute(RadiusAttr.FramedProtocol, FramedProtocol.PPP),
    textAttribute(RadiusAttr.CallingStationId, peer),
    taggedIntegerAttribute(RadiusAttr.TunnelType, 0, TunnelType.PPTP),
    taggedIntegerAttribute(RadiusAttr.TunnelMediumType, 0, TunnelMediumType.IPv4),
    taggedTextAttribute(RadiusAttr.TunnelClientEndpoint, 0, peer),
  );
  return attributes;
}

/** The Reply-Message(s), made safe for the peer and logs. */
function replyText(p: RadiusPacket): string | undefined {
  const t = getReplyMessage(p);
  return t === undefined || t === '' ? undefined : printable(t, MAX_MESSAGE);
}

function address4(v: Uint8Array | undefined): number | undefined {
  if (v?.length !== 4) return undefined;
  return u32(v, 0);
}

/** The verdict and the session's authorization from an Access-Accept, or why it cannot be used. */
export function acceptVerdict(
  req: CredentialRequest,
  p: RadiusPacket,
  secret: Uint8Array | string,
  requestAuthenticator: Uint8Array,
  server: string,
): { verdict: AuthVerdict; authorization: SessionAuthorization } | { error: string } {
  const method: AuthMethod = req.method;
  let message: Uint8Array | undefined;
  if (method === 'mschap-v2') {
    // RFC 2548 §2.3.3 MS-CHAP2-Success: Ident, then "S=" and 40 hex digits; passed to the peer as is.
    const s = getMicrosoftAttribute(p, MsAttr.Chap2Success);
    if (!s || s.length < 43) return { error: 'no MS-CHAP2-Success for an MS-CHAP-V2 user' };
    message = s.slice(1);
  } else {
    const t = replyText(p);
    if (t !== undefined) message = new TextEncoder().encode(t);
  }
  let mppe: MppeKeyMaterial | undefined;
  let keysFrom: SessionAuthorization['mppeKeys'];
  try {
    const send = getMicrosoftAttribute(p, MsAttr.MppeSendKey);
    const recv = getMicrosoftAttribute(p, MsAttr.MppeRecvKey);
    const v1 = getMicrosoftAttribute(p, MsAttr.ChapMppeKeys);
    if (send && recv) {
      // RFC 2548 §2.4.2–2.4.3: decrypted with the secret and this request's Authenticator.
      const sendKey = saltDecrypt(send, secret, requestAuthenticator);
      const receiveKey = saltDecrypt(recv, secret, requestAuthenticator);
      if (sendKey.length < 16 || receiveKey.length < 16)
        return { error: 'MS-MPPE keys shorter than 16 octets' };
      mppe = redacted({
        method: 'keys' as const,
        sendKey: sendKey.slice(0, 16),
        receiveKey: receiveKey.slice(0, 16),
        source: server,
      });
      keysFrom = 'access-accept';
    } else if (v1 && method === 'mschap' && req.exchange?.challenge?.length === 8) {
      // RFC 2548 §2.4.1 MS-CHAP-MPPE-Keys: LM key (8), NT key (16) = MD4(NT hash), hidden like
      // User-Password. RFC 3079 §2.3: Get_Start_Key(Challenge, NtPasswordHashHash) both ways.
      const keys = revealPassword(v1, secret, requestAuthenticator, true);
      if (keys.length < 24) return { error: 'MS-CHAP-MPPE-Keys shorter than 24 octets' };
      const k = getStartKey(req.exchange.challenge, keys.subarray(8, 24));
      mppe = redacted({ method: 'keys' as const, sendKey: k, receiveKey: k.slice(), source: server });
      keysFrom = 'access-accept';
    }
  } catch (e) {
    return { error: `MPPE keys do not decrypt (${(e as Error).message})` };
  }
  const policy = msInteger(p, MsAttr.MppeEncryptionPolicy);
  const types = msInteger(p, MsAttr.MppeEncryptionTypes);
  const framed = getInteger(p, RadiusAttr.FramedIpAddress);
  const dns = [MsAttr.PrimaryDnsServer, MsAttr.SecondaryDnsServer]
    .map((t) => address4(getMicrosoftAttribute(p, t)))
    .filter((a): a is number => a !== undefined && a !== 0);
  const positive = (n: number | undefined) => (n !== undefined && n > 0 ? n : undefined);
  const sessionTimeout = positive(getInteger(p, RadiusAttr.SessionTimeout));
  const idleTimeout = positive(getInteger(p, RadiusAttr.IdleTimeout));
  const interim = positive(getInteger(p, RadiusAttr.AcctInterimInterval));
  const mtu = getInteger(p, RadiusAttr.FramedMtu);
  const bits: (40 | 56 | 128)[] = [];
  if (types !== undefined) {
    if (types & MppeEncryptionTypes.Rc4_40) bits.push(40);
    if (types & MppeEncryptionTypes.Rc4_56) bits.push(56);
    if (types & MppeEncryptionTypes.Rc4_128) bits.push(128);
  }
  const authorization: SessionAuthorization = {
    source: server,
    class: getAttributes(p, RadiusAttr.Class).map((c) => c.slice()),
    ...(sessionTimeout !== undefined ? { sessionTimeout } : {}),
    ...(idleTimeout !== undefined ? { idleTimeout } : {}),
    ...(interim !== undefined ? { acctInterimInterval: interim } : {}),
    ...(mtu !== undefined && mtu >= 64 && mtu <= 65535 ? { framedMtu: mtu } : {}),
    // RFC 2865 §5.8: 0xFFFFFFFE "NAS should select an address", 0xFFFFFFFF "user should be
    // allowed to select" (not supported: the pool's too).
    ...(framed !== undefined && framed !== 0xfffffffe && framed !== 0xffffffff && framed !== 0
      ? { address: framed }
      : {}),
    ...(dns.length ? { dns } : {}),
    ...(policy === MppeEncryptionPolicy.Required ? { mppeRequired: true } : {}),
    ...(types !== undefined ? { mppeKeyBits: bits } : {}),
    ...(keysFrom ? { mppeKeys: keysFrom } : {}),
  };
  return {
    verdict: { verdict: 'accept', ...(message ? { message } : {}), ...(mppe ? { mppe } : {}) },
    authorization,
  };
}

function msInteger(p: RadiusPacket, type: MsAttr): number | undefined {
  const v = getMicrosoftAttribute(p, type);
  if (v?.length !== 4) return undefined;
  return u32(v, 0);
}
