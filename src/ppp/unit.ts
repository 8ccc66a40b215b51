/**
 * The PPP unit (Linux ppp_generic's "unit", pppd's main loop), sans-IO: the
 * phases of RFC 1661 §3, demultiplexing by protocol, the per-protocol
 * `npmode` of Linux's `ppp_start_xmit`, MPPE on the data path, and
 * counters like the kernel's `stats64`.
 *
 * ```
 *   Dead ──start()──▶ Establish ──LCP up──▶ Authenticate ──done──▶ Network
 *     ▲                  │  ▲                    │                   │
 *     │           LCP    │  └── LCP renegotiates ┴───────────────────┤
 *     │          finished▼                                           │ close / failure
 *     └────────────── Terminate ◀────────────────────────────────────┘
 * ```
 *
 * Ports: the unit writes PPP frames to a {@link PppChannel} (the PPTP call's
 * GRE data path: `mtu`, `headroom`, `send`) and received IP packets to the
 * interface side (`deliver`), synchronously, like ppp_generic calling the
 * channel's `start_xmit` and `netif_rx`: frames must leave in the order the
 * engines produce them, and the data path must not allocate. Everything
 * else (timers, link events) is returned as {@link UnitAction}s for the
 * driver (docs/style.md §4); the unit never reads the clock.
 *
 * What each phase lets in (RFC 1661 §3.4–3.7): Establish and Terminate only
 * LCP; Authenticate LCP, PAP and CHAP; Network everything. In Network, an
 * unknown or disabled protocol draws an LCP Protocol-Reject (§3.6, §5.7).
 */

import { type Logger, nullLogger } from '../log/logger.js';
import { MPPE_HEADROOM, MppeDecryptor, MppeEncryptor } from '../mppe/mppe.js';
import { assertNever, ipv4ToString } from '../wire/bytes.js';
import type { AuthMethod } from '../wire/lcp.js';
import { type PppFrame, PppProtocol } from '../wire/ppp.js';
import {
  type AuthAction,
  type Authenticator,
  type AuthFailure,
  type AuthPeer,
  type AuthSuccess,
  authPacketTarget,
  createAuthenticator,
  createAuthPeer,
  type MppeKeyMaterial,
  mppeMasterKeysFromAuth,
  type PeerCredentials,
} from './auth/index.js';
import { type CcpNegotiated, type CcpNote, CcpPolicy, type MppeKeyBits } from './ccp.js';
import { DEFAULT_FSM_CONFIG, Fsm, type FsmAction, type FsmConfig } from './fsm.js';
import { type IpcpNegotiated, type IpcpNote, IpcpPolicy } from './ipcp.js';
import { type Ipv6cpNegotiated, type Ipv6cpNote, Ipv6cpPolicy } from './ipv6cp.js';
import {
  authListsFrom,
  authMethodName,
  DEFAULT_MRU,
  LcpKeepalive,
  type LcpNegotiated,
  type LcpNote,
  LcpPolicy,
} from './lcp.js';
import {
  type NpMode,
  type PppChannel,
  type PppCounters,
  type PppFailure,
  type PppInterfaceSink,
  type PppPhase,
  type PppUnitOptions,
  UNIT_TIMER,
  type UnitAction,
} from './unit-types.js';

export type {
  NpMode,
  PppChannel,
  PppCounters,
  PppFailure,
  PppFailureCode,
  PppInterfaceSink,
  PppPhase,
  PppUnitOptions,
  UnitAction,
} from './unit-types.js';
export { UNIT_TIMER } from './unit-types.js';

const CCP_RESET_RETRY_MS = 1000;

/**
 * Scratch memory shared by every unit of the process: the data path is
 * synchronous, so one buffer serves all sessions (a server with thousands
 * of links must not hold 128 KiB per link). `busy` guards against a
 * re-entrant use (a sink that feeds another unit from inside `deliver`):
 * that nested call gets a private buffer.
 */
const shared = {
  rx: new Uint8Array(0x10000),
  rxBusy: false,
  tx: new Uint8Array(0),
  txBusy: false,
};

function txScratch(size: number): Uint8Array {
  if (shared.txBusy) return new Uint8Array(size);
  if (shared.tx.length < size) shared.tx = new Uint8Array(size);
  return shared.tx;
}
const EMPTY: readonly UnitAction[] = Object.freeze([]) as readonly UnitAction[];

/** The automata a unit runs. */
type Layer = 'lcp' | 'ipcp' | 'ipv6cp' | 'ccp';

/** IP version nibble → PPP protocol. */
function protocolOfIpPacket(p: Uint8Array, off: number): number | undefined {
  const v = p[off]! >>> 4;
  return v === 4 ? PppProtocol.Ipv4 : v === 6 ? PppProtocol.Ipv6 : undefined;
}

interface QueuedPacket {
  buf: Uint8Array;
  offset: number;
  end: number;
}

/** Everything about one network protocol's transmit side. */
interface NetProto {
  mode: NpMode;
  queue: QueuedPacket[];
}

/** Resolved settings. */
interface Settings {
  fsm: FsmConfig;
  authenticate: AuthMethod[];
  allowAuth: AuthMethod[];
  credentials: PeerCredentials | undefined;
  mppeKeyBits: MppeKeyBits[];
  mppeRequired: boolean;
  mppeStateful: boolean;
  ipv4: boolean;
  ipv6: boolean;
  queueLimit: number;
}

function resolve(o: PppUnitOptions): Settings {
  const fsm: FsmConfig = {
    ...DEFAULT_FSM_CONFIG,
    ...(o.lcpRestart !== undefined ? { restartMs: o.lcpRestart * 1000 } : {}),
    ...(o.lcpMaxConfigure !== undefined ? { maxConfigure: o.lcpMaxConfigure } : {}),
    ...(o.lcpMaxTerminate !== undefined ? { maxTerminate: o.lcpMaxTerminate } : {}),
    ...(o.lcpMaxFailure !== undefined ? { maxFailure: o.lcpMaxFailure } : {}),
    ...(o.passive !== undefined ? { passive: o.passive } : {}),
  };
  const anyRequire = o.requirePap || o.requireChap || o.requireMschap || o.requireMschapV2;
  const lists = authListsFrom({
    requirePap: o.requirePap,
    requireChap: o.requireChap,
    requireMschap: o.requireMschap,
    requireMschapV2: o.requireMschapV2 || (!anyRequire && o.lookup !== undefined),
    refusePap: o.refusePap ?? true,
    refuseChap: o.refuseChap ?? true,
    refuseMschap: o.refuseMschap ?? true,
    refuseMschapV2: o.refuseMschapV2 ?? false,
  });
  if (lists.authenticate.length > 0 && !o.lookup) {
    throw new TypeError('PppUnit: require-* needs a credentials lookup (lookup)');
  }
  let credentials: PeerCredentials | undefined;
  let allowAuth = lists.allowAuth;
  if (o.user !== undefined && (o.password !== undefined || o.ntHash !== undefined)) {
    credentials = {
      name: o.user,
      secret: o.password !== undefined ? { password: o.password } : { ntHash: o.ntHash! },
    };
    // An NT hash cannot answer PAP or CHAP-MD5.
    if (o.password === undefined) allowAuth = allowAuth.filter((m) => m === 'mschap' || m === 'mschap-v2');
  } else {
    // pppd: without a secret we cannot authenticate ourselves, so we refuse to.
    allowAuth = [];
  }
  let mppeKeyBits: MppeKeyBits[] = [];
  let mppeRequired = false;
  if (!o.nomppe) {
    const explicit: MppeKeyBits[] = [];
    if (o.requireMppe40) explicit.push(40);
    if (o.requireMppe56) explicit.push(56);
    if (o.requireMppe128) explicit.push(128);
    const excluded = (k: MppeKeyBits) =>
      (k === 40 && o.nomppe40) || (k === 56 && o.nomppe56) || (k === 128 && o.nomppe128);
    if (explicit.length) {
      mppeKeyBits = explicit;
      mppeRequired = true;
    } else if (o.requireMppe !== undefined) {
      mppeKeyBits = ([40, 56, 128] as MppeKeyBits[]).filter((k) => !excluded(k));
      mppeRequired = o.requireMppe;
    } else {
      mppeKeyBits = excluded(128) ? [] : [128];
      mppeRequired = mppeKeyBits.length > 0;
    }
  }
  return {
    fsm,
    authenticate: lists.authenticate,
    allowAuth,
    credentials,
    mppeKeyBits,
    mppeRequired,
    mppeStateful: o.mppeStateful ?? false,
    ipv4: !o.noip,
    ipv6: o.ipv6 ?? false,
    queueLimit: o.queueLimit ?? 32,
  };
}

/**
 * One PPP link. Create it when the channel exists, call {@link start}, feed
 * it frames ({@link receive}), packets ({@link sendPacket}) and timer
 * expiries ({@link timeout}); do what the returned actions say.
 */
export class PppUnit {
  readonly counters: PppCounters = {
    rxPackets: 0,
    rxBytes: 0,
    txPackets: 0,
    txBytes: 0,
    rxErrors: 0,
    txErrors: 0,
    rxDropped: 0,
    txDropped: 0,
    rxControl: 0,
    txControl: 0,
    protocolRejects: 0,
    resetRequestsSent: 0,
    resetRequestsReceived: 0,
  };
  private phaseValue: PppPhase = 'Dead';
  private readonly settings: Settings;
  private readonly log: Logger;
  private readonly lcpPolicy: LcpPolicy;
  private readonly lcp: Fsm<LcpNote>;
  private readonly keepalive: LcpKeepalive;
  private rxSinceEcho = false;
  private ipcpPolicy: IpcpPolicy | undefined;
  private ipcp: Fsm<IpcpNote> | undefined;
  private ipv6cpPolicy: Ipv6cpPolicy | undefined;
  private ipv6cp: Fsm<Ipv6cpNote> | undefined;
  private ccpPolicy: CcpPolicy | undefined;
  private ccp: Fsm<CcpNote> | undefined;
  private authenticator: Authenticator | undefined;
  private authPeer: AuthPeer | undefined;
  private authResults: AuthSuccess[] = [];
  private authPending = 0;
  private mppeMaterial: { material: MppeKeyMaterial; isServer: boolean } | undefined;
  private encryptor: MppeEncryptor | undefined;
  private decryptor: MppeDecryptor | undefined;
  private resetRequestId = 0;
  private failure: PppFailure | undefined;
  /** The peer demanded an authentication method we refuse (LCP note). */
  private refusedAuth: string | undefined;
  /** LCP went down while authentication was under way. */
  private downDuringAuth = false;
  private readonly v4: NetProto = { mode: 'QUEUE', queue: [] };
  private readonly v6: NetProto = { mode: 'QUEUE', queue: [] };
  private out: UnitAction[] = [];

  constructor(
    readonly options: PppUnitOptions,
    readonly channel: PppChannel,
    readonly sink: PppInterfaceSink,
  ) {
    this.settings = resolve(options);
    this.log = options.log ?? nullLogger;
    const rnd = options.random;
    const random32 = rnd
      ? () => {
          const b = rnd(4);
          return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
        }
      : undefined;
    this.lcpPolicy = new LcpPolicy({
      mru: options.mru ?? DEFAULT_MRU,
      mtu: options.mtu ?? DEFAULT_MRU,
      magic: !options.nomagic,
      pfc: !options.nopcomp,
      acfc: !options.noaccomp,
      authenticate: this.settings.authenticate,
      allowAuth: this.settings.allowAuth,
      ...(random32 ? { random: random32 } : {}),
    });
    this.lcp = new Fsm(this.lcpPolicy, this.settings.fsm, this.log.child('lcp'));
    this.keepalive = new LcpKeepalive(
      (options.lcpEchoInterval ?? 30) * 1000,
      options.lcpEchoFailure ?? 4,
      options.lcpEchoAdaptive ?? true,
    );
  }

  // ─── Introspection ──────────────────────────────────────────────────────

  get phase(): PppPhase {
    return this.phaseValue;
  }

  /** Re-reads the phase (handlers run by an automaton call may have changed it). */
  private isDead(): boolean {
    return this.phaseValue === 'Dead';
  }

  /** Bytes a caller of {@link send} must leave free before the packet for the zero-copy path. */
  get headroom(): number {
    return this.channel.headroom + MPPE_HEADROOM;
  }

  /** The MTU to give the network interface: what LCP allows, minus MPPE's 4 bytes when it runs. */
  get interfaceMtu(): number {
    const lcp = this.lcpPolicy.negotiated?.mtu ?? this.options.mtu ?? DEFAULT_MRU;
    const base = Math.min(lcp, this.channel.mtu);
    return this.encryptor || this.settings.mppeRequired ? base - MPPE_HEADROOM : base;
  }

  /** npmode of IPv4 (0x0021) or IPv6 (0x0057). */
  npmode(protocol: number): NpMode {
    return this.netProto(protocol)?.mode ?? 'ERROR';
  }

  /** Why the link ended (or is ending), once known. */
  get failureReason(): PppFailure | undefined {
    return this.failure;
  }

  /**
   * Why the link is ending, already while LCP's Terminate exchange runs: the
   * recorded failure, or the peer's Terminate-Request (RFC 1661 §5.5) with
   * its text, before the lower layer's end can mask it.
   */
  get endingReason(): PppFailure | undefined {
    if (this.failure || this.lcp.peerTerminateReason === undefined) return this.failure;
    return this.failureFromLcp('');
  }

  /** The text of the peer's LCP Terminate-Request, once one came (RFC 1661 §5.5 Data). */
  get peerTerminateText(): string | undefined {
    return this.lcp.peerTerminateReason;
  }

  get lcpNegotiated(): LcpNegotiated | undefined {
    return this.lcpPolicy.negotiated;
  }
  get ipcpNegotiated(): IpcpNegotiated | undefined {
    return this.ipcp?.state === 'Opened' ? this.ipcpPolicy?.negotiated : undefined;
  }
  get ipv6cpNegotiated(): Ipv6cpNegotiated | undefined {
    return this.ipv6cp?.state === 'Opened' ? this.ipv6cpPolicy?.negotiated : undefined;
  }
  get ccpNegotiated(): CcpNegotiated | undefined {
    return this.ccp?.state === 'Opened' ? this.ccpPolicy?.negotiated : undefined;
  }
  /** Successful authentications of this link (one per direction). */
  get authenticated(): readonly AuthSuccess[] {
    return this.authResults;
  }
  /** MPPE counters, while MPPE runs. */
  get mppe(): { encryptor: MppeEncryptor | undefined; decryptor: MppeDecryptor | undefined } {
    return { encryptor: this.encryptor, decryptor: this.decryptor };
  }
  /** State of each automaton (for logs and tests). */
  get states(): Readonly<Record<string, string>> {
    return {
      lcp: this.lcp.state,
      ipcp: this.ipcp?.state ?? '-',
      ipv6cp: this.ipv6cp?.state ?? '-',
      ccp: this.ccp?.state ?? '-',
    };
  }

  // ─── Inputs ─────────────────────────────────────────────────────────────

  /** The channel is up: Dead → Establish (RFC 1661 §3.3), LCP Open and Up. */
  start(): readonly UnitAction[] {
    if (this.phaseValue !== 'Dead' || this.failure) return EMPTY;
    this.setPhase('Establish', 'start');
    this.runLcp(this.lcp.open());
    this.runLcp(this.lcp.lowerUp());
    return this.flush();
  }

  /** Administrative close: LCP Terminate-Request carrying `reason` (pppd `lcp_close`). */
  close(reason = 'User request'): readonly UnitAction[] {
    this.fail({ code: 'closed', message: reason });
    return this.flush();
  }

  /**
   * Administratively closes one NCP (IPCP 0x8021, IPv6CP 0x8057) or CCP
   * (0x80fd) without ending the link: RFC 1661 §3.6 "Each NCP MAY be Opened
   * and Closed at any time."
   */
  closeNcp(protocol: number, reason = 'Administratively closed'): readonly UnitAction[] {
    if (protocol === PppProtocol.Ipcp && this.ipcp) this.runIpcp(this.ipcp.close(reason));
    else if (protocol === PppProtocol.Ipv6cp && this.ipv6cp) this.runIpv6cp(this.ipv6cp.close(reason));
    else if (protocol === PppProtocol.Ccp && this.ccp) this.runCcp(this.ccp.close(reason));
    this.updateModes();
    return this.flush();
  }

  /** The channel is gone (call cleared, TCP closed): Down to LCP, straight to Dead. */
  lowerDown(): readonly UnitAction[] {
    if (this.phaseValue === 'Dead') return EMPTY;
    this.failure ??= { code: 'lower-down', message: 'the lower layer went down' };
    this.runLcp(this.lcp.lowerDown());
    // Down in Opened is tld/1 (no tlf): the link is over all the same.
    if (!this.isDead()) this.toDead(this.failure);
    return this.flush();
  }

  /** A timer the unit asked for fired. */
  timeout(id: string): readonly UnitAction[] {
    if (id === this.lcp.timerId) this.runLcp(this.lcp.timeout());
    else if (this.ipcp && id === this.ipcp.timerId) this.runIpcp(this.ipcp.timeout());
    else if (this.ipv6cp && id === this.ipv6cp.timerId) this.runIpv6cp(this.ipv6cp.timeout());
    else if (this.ccp && id === this.ccp.timerId) this.runCcp(this.ccp.timeout());
    else if (id === UNIT_TIMER.echo) this.onEchoTimer();
    else if (id === UNIT_TIMER.ccpReset) this.onCcpResetTimer();
    else if (id.startsWith('auth.')) {
      if (this.authenticator) this.runAuth(this.authenticator.timeout(id));
      if (this.authPeer) this.runAuth(this.authPeer.timeout(id));
    }
    return this.flush();
  }

  /**
   * One frame from the channel. The payload is only read during the call
   * (MPPE decrypts a copy).
   */
  receive(frame: PppFrame): readonly UnitAction[] {
    const phase = this.phaseValue;
    if (phase === 'Dead') return EMPTY;
    this.rxSinceEcho = true;
    const proto = frame.protocol;
    const payload = frame.payload;
    if (proto === PppProtocol.Lcp) {
      this.counters.rxControl++;
      this.runLcp(this.lcp.receive(payload));
      return this.flush();
    }
    // RFC 1661 §3.4: "Any non-LCP packets received during this phase MUST be silently discarded."; §3.7
    // likewise for Terminate.
    if (phase === 'Establish' || phase === 'Terminate') {
      this.counters.rxDropped++;
      return EMPTY;
    }
    if (proto === PppProtocol.Pap || proto === PppProtocol.Chap) {
      this.counters.rxControl++;
      this.receiveAuth(proto, payload);
      return this.flush();
    }
    // RFC 1661 §3.5: "Only Link Control Protocol, authentication protocol, and link quality monitoring
    // packets are allowed during this phase. All other packets received during this phase MUST be
    // silently discarded."
    if (phase === 'Authenticate') {
      this.counters.rxDropped++;
      return EMPTY;
    }
    switch (proto) {
      case PppProtocol.Ipv4:
      case PppProtocol.Ipv6:
        this.receiveData(proto, payload, 0, payload.length, false);
        return this.flush();
      case PppProtocol.Compressed:
        this.receiveCompressed(frame);
        return this.flush();
      case PppProtocol.Ipcp:
        this.counters.rxControl++;
        if (this.ipcp) this.runIpcp(this.ipcp.receive(payload));
        else this.protocolReject(frame);
        return this.flush();
      case PppProtocol.Ipv6cp:
        this.counters.rxControl++;
        if (this.ipv6cp) this.runIpv6cp(this.ipv6cp.receive(payload));
        else this.protocolReject(frame);
        return this.flush();
      case PppProtocol.Ccp:
        this.counters.rxControl++;
        if (this.ccp) this.runCcp(this.ccp.receive(payload));
        else this.protocolReject(frame);
        return this.flush();
      default:
        // RFC 1661 §3.6: "any protocol packet which is unsupported by the implementation MUST be returned
        // in a Protocol-Reject".
        this.protocolReject(frame);
        return this.flush();
    }
  }

  /**
   * Whether a frame with this PPP protocol is believable from the peer now,
   * without receiving it (the GRE channel asks before it lets out-of-window
   * packets resynchronise it, docs/data-path.md): LCP always; once the link
   * is past authentication and MPPE is required or running, only
   * MPPE-compressed data and CCP besides; otherwise the protocols this unit
   * speaks.
   */
  plausible(protocol: number): boolean {
    if (protocol === PppProtocol.Lcp) return true;
    const phase = this.phaseValue;
    if (phase === 'Dead' || phase === 'Establish' || phase === 'Terminate') return false;
    if (protocol === PppProtocol.Pap || protocol === PppProtocol.Chap) return phase === 'Authenticate';
    if (phase === 'Authenticate') return false;
    if (this.decryptor || this.settings.mppeRequired)
      return protocol === PppProtocol.Compressed || protocol === PppProtocol.Ccp;
    return (
      protocol === PppProtocol.Ipv4 ||
      protocol === PppProtocol.Ipv6 ||
      protocol === PppProtocol.Ipcp ||
      protocol === PppProtocol.Ipv6cp ||
      protocol === PppProtocol.Ccp ||
      protocol === PppProtocol.Compressed
    );
  }

  /**
   * Sends one IP packet (IPv4 or IPv6 by its version nibble), copying it.
   * Returns what happened to it.
   */
  sendPacket(packet: Uint8Array): 'sent' | 'queued' | 'dropped' {
    const room = this.headroom;
    if (packet.length > 0xffff) {
      this.counters.txErrors++;
      return 'dropped';
    }
    const buf = txScratch(room + packet.length);
    buf.set(packet, room);
    const busy = shared.txBusy;
    shared.txBusy = true;
    try {
      return this.send(buf, room, room + packet.length);
    } finally {
      shared.txBusy = busy;
    }
  }

  /**
   * The zero-copy transmit path (ppp_start_xmit): `buf[offset, end)` is an
   * IP packet and the {@link headroom} bytes before it are ours to write
   * (MPPE header, PPP protocol, channel headers). The packet may be
   * encrypted in place.
   */
  send(buf: Uint8Array, offset: number, end: number): 'sent' | 'queued' | 'dropped' {
    if (end <= offset) {
      this.counters.txErrors++;
      return 'dropped';
    }
    const protocol = protocolOfIpPacket(buf, offset);
    const np = protocol === undefined ? undefined : this.netProto(protocol);
    if (protocol === undefined || !np) {
      this.counters.txErrors++;
      return 'dropped';
    }
    // Drop, accept or queue the packet (Linux's ppp_start_xmit switch on npmode).
    switch (np.mode) {
      case 'PASS':
        return this.transmit(protocol, buf, offset, end) ? 'sent' : 'dropped';
      case 'QUEUE':
        if (np.queue.length >= this.settings.queueLimit) {
          this.counters.txDropped++;
          return 'dropped';
        }
        np.queue.push(this.copyWithHeadroom(buf, offset, end));
        return 'queued';
      case 'DROP':
        this.counters.txDropped++;
        return 'dropped';
      case 'ERROR':
        this.counters.txErrors++;
        return 'dropped';
      default:
        return assertNever(np.mode, 'npmode');
    }
  }

  // ─── Transmit ─────────────────────────────────────────────────────────

  private copyWithHeadroom(buf: Uint8Array, offset: number, end: number): QueuedPacket {
    const room = this.headroom;
    const copy = new Uint8Array(room + end - offset);
    copy.set(buf.subarray(offset, end), room);
    return { buf: copy, offset: room, end: copy.length };
  }

  /** PASS: optionally encrypt, then hand to the channel. */
  private transmit(protocol: number, buf: Uint8Array, offset: number, end: number): boolean {
    const len = end - offset;
    const mtu = Math.min(this.lcpPolicy.negotiated?.mtu ?? DEFAULT_MRU, this.channel.mtu);
    const enc = this.encryptor;
    if (len + (enc ? MPPE_HEADROOM : 0) > mtu) {
      this.counters.txErrors++;
      return false;
    }
    if (offset < this.headroom) {
      // Not enough room in front: copy once into scratch memory (the caller's bytes stay untouched).
      const room = this.headroom;
      const scratch = buf === shared.tx ? new Uint8Array(room + len) : txScratch(room + len);
      scratch.set(buf.subarray(offset, end), room);
      buf = scratch;
      offset = room;
      end = room + len;
    }
    let frameProtocol = protocol;
    let start = offset;
    if (enc) {
      start = enc.encrypt(protocol, buf, offset, end);
      frameProtocol = PppProtocol.Compressed;
    } else if (this.settings.mppeRequired) {
      // Never reached (npmode stays QUEUE until MPPE runs), but never send in clear when MPPE is required.
      this.counters.txDropped++;
      return false;
    }
    this.counters.txPackets++;
    this.counters.txBytes += len;
    if (this.channel.sendInPlace) this.channel.sendInPlace(buf, start, end - start, frameProtocol);
    else this.channel.send({ protocol: frameProtocol, payload: buf.subarray(start, end) });
    return true;
  }

  private netProto(protocol: number): NetProto | undefined {
    if (protocol === PppProtocol.Ipv4) return this.settings.ipv4 ? this.v4 : undefined;
    if (protocol === PppProtocol.Ipv6) return this.settings.ipv6 ? this.v6 : undefined;
    return undefined;
  }

  /** Sets a protocol's npmode; PASS flushes its queue, DROP/ERROR discard it. */
  private setMode(protocol: number, mode: NpMode): void {
    const np = this.netProto(protocol);
    if (!np || np.mode === mode) return;
    this.log.log('debug', `npmode 0x${protocol.toString(16)} ${np.mode} → ${mode}`);
    np.mode = mode;
    if (mode === 'QUEUE') return;
    const queued = np.queue;
    np.queue = [];
    if (mode === 'PASS') {
      for (const q of queued) this.transmit(protocol, q.buf, q.offset, q.end);
    } else {
      this.counters.txDropped += queued.length;
    }
  }

  /**
   * Recomputes the npmode of both network protocols from the automata:
   * PASS once the NCP is Opened and, when MPPE is required, CCP too; QUEUE
   * while they negotiate; DROP once the link is going down.
   */
  private updateModes(): void {
    const mppeReady = !this.settings.mppeRequired || this.encryptor !== undefined;
    const modeOf = (fsm: Fsm<unknown> | undefined): NpMode => {
      if (this.phaseValue === 'Terminate' || this.phaseValue === 'Dead') return 'DROP';
      if (!fsm) return 'QUEUE';
      if (fsm.state === 'Opened') return mppeReady ? 'PASS' : 'QUEUE';
      if (fsm.state === 'Stopped' || fsm.state === 'Closed') return 'DROP';
      return 'QUEUE';
    };
    if (this.v4.mode !== 'ERROR') this.setMode(PppProtocol.Ipv4, modeOf(this.ipcp));
    if (this.v6.mode !== 'ERROR') this.setMode(PppProtocol.Ipv6, modeOf(this.ipv6cp));
  }

  // ─── Receive ──────────────────────────────────────────────────────────

  private receiveData(
    protocol: number,
    buf: Uint8Array,
    start: number,
    end: number,
    decrypted: boolean,
  ): void {
    const fsm = protocol === PppProtocol.Ipv4 ? this.ipcp : this.ipv6cp;
    if (!this.netProto(protocol)) {
      this.protocolReject({ protocol, payload: buf.subarray(start, end) });
      return;
    }
    // RFC 1661 §3.6: "Any supported network-layer protocol packets received when the corresponding NCP is
    // not in the Opened state MUST be silently discarded."
    if (fsm?.state !== 'Opened') {
      this.counters.rxDropped++;
      return;
    }
    if (!decrypted && (this.decryptor || this.settings.mppeRequired)) {
      // Linux ppp_generic drops clear data once MPPE runs; with MPPE required we never accept it.
      this.counters.rxDropped++;
      return;
    }
    this.counters.rxPackets++;
    this.counters.rxBytes += end - start;
    this.sink.deliver(protocol, buf.subarray(start, end));
  }

  private receiveCompressed(frame: PppFrame): void {
    const dec = this.decryptor;
    if (!dec && this.settings.mppeKeyBits.length === 0) {
      // We do no compression or encryption at all: the protocol is unsupported.
      this.protocolReject(frame);
      return;
    }
    if (!dec) {
      // CCP is supported but not Opened (RFC 1962 §2.1): discard.
      this.counters.rxDropped++;
      return;
    }
    const len = frame.payload.length;
    if (len > 0xffff) {
      this.counters.rxErrors++;
      return;
    }
    // Decrypt a copy: the channel's receive memory is not ours to change.
    const nested = shared.rxBusy;
    const buf = nested ? new Uint8Array(len) : shared.rx;
    buf.set(frame.payload);
    shared.rxBusy = true;
    try {
      this.decryptAndDeliver(dec, buf, len);
    } finally {
      shared.rxBusy = nested;
    }
  }

  private decryptAndDeliver(dec: MppeDecryptor, buf: Uint8Array, len: number): void {
    const verdict = dec.decrypt(buf, 0, len);
    switch (verdict) {
      case 'ok':
        break;
      case 'drop':
        this.counters.rxDropped++;
        return;
      case 'send-reset-request':
        this.counters.rxDropped++;
        this.sendResetRequest(true);
        return;
      default:
        assertNever(verdict, 'MPPE verdict');
    }
    const inner = dec.protocol;
    if (inner !== PppProtocol.Ipv4 && inner !== PppProtocol.Ipv6) {
      // RFC 3078 §3: only 0x0021–0x00FA are encrypted; we carry IPv4 and IPv6 only. Stateful, a protocol
      // nobody negotiated is most likely garbage from RC4 streams that parted: ask for a reset.
      this.counters.rxErrors++;
      if (dec.rejectDecrypted() === 'send-reset-request') this.sendResetRequest(true);
      return;
    }
    this.receiveData(inner, buf, dec.payloadOffset, dec.payloadEnd, true);
  }

  /** RFC 1661 §5.7 Protocol-Reject (only in the Network phase, with LCP Opened). */
  private protocolReject(frame: PppFrame): void {
    if (this.phaseValue !== 'Network' || this.lcp.state !== 'Opened') {
      this.counters.rxDropped++;
      return;
    }
    this.counters.protocolRejects++;
    this.log.log('debug', `Protocol-Reject of 0x${frame.protocol.toString(16)}`);
    this.runLcp(
      this.lcp.withContext((ctx) =>
        ctx.send(this.lcpPolicy.protocolReject(frame.protocol, frame.payload, ctx.nextId())),
      ),
    );
  }

  private receiveAuth(protocol: number, payload: Uint8Array): void {
    const role = authPacketTarget(protocol, payload);
    const engine =
      role === 'authenticator' ? this.authenticator : role === 'peer' ? this.authPeer : undefined;
    if (!engine || engine.protocol !== protocol) {
      // Authentication we did not negotiate (or a stray packet): the protocol is supported, so discard.
      this.counters.rxDropped++;
      return;
    }
    this.runAuth(engine.receive(payload));
  }

  // ─── Phases ───────────────────────────────────────────────────────────

  private setPhase(next: PppPhase, reason: string): void {
    if (next === this.phaseValue) return;
    this.log.log('info', `phase ${this.phaseValue} → ${next}`, { reason });
    this.phaseValue = next;
    this.out.push({ kind: 'phase', phase: next });
  }

  /** Records why the link ends (first reason wins) and closes LCP with it (pppd lcp_close). */
  private fail(f: PppFailure): void {
    if (this.phaseValue === 'Dead') {
      this.failure ??= f;
      return;
    }
    if (!this.failure) {
      this.failure = f;
      this.log.log(f.code === 'closed' ? 'info' : 'warn', `link failing: ${f.message}`, { code: f.code });
    }
    this.runLcp(this.lcp.close(f.message));
    const st = this.lcp.state;
    if (st === 'Closing' || st === 'Stopping') {
      this.setPhase('Terminate', f.message);
      this.updateModes();
    } else if ((st === 'Closed' || st === 'Initial') && !this.isDead()) {
      // Nothing to terminate (e.g. a passive LCP waiting in Stopped): the link is over now.
      this.toDead(this.failure);
    }
  }

  private toDead(failure: PppFailure): void {
    this.stopNetwork();
    this.stopAuth();
    this.stopEcho();
    this.setPhase('Dead', failure.message);
    this.updateModes();
    this.out.push({ kind: 'dead', failure });
  }

  /** LCP This-Layer-Up: authenticate, or go straight to the Network phase (RFC 1661 §3.5). */
  private onLcpUp(): void {
    const lcp = this.lcpPolicy.negotiated!;
    this.lcp.peerMru = lcp.mtu;
    this.channel.setFraming?.({ acfc: lcp.txAcfc, pfc: lcp.txPfc });
    this.out.push({ kind: 'lcp-up', lcp });
    this.startEcho();
    if (this.settings.authenticate.length > 0 && !lcp.authPeerWith) {
      // pppd: "peer refused to authenticate: terminating link".
      const wanted = this.settings.authenticate.map(authMethodName).join(', ');
      this.fail({ code: 'auth-refused', message: `peer refused to authenticate with ${wanted}` });
      return;
    }
    this.setPhase('Authenticate', 'LCP up');
    this.authResults = [];
    this.mppeMaterial = undefined;
    const o = this.options;
    const log = this.log.child('auth');
    this.authPending = 0;
    // Options written out with a fixed set of keys (an absent one is undefined, which the engines
    // read as "default"): built from conditional spreads, every link's object had a hidden class
    // of its own, about 200 bytes that the authenticator keeps for the life of the link.
    if (lcp.authPeerWith) {
      this.authenticator = createAuthenticator(lcp.authPeerWith, {
        log,
        random: o.random,
        restartMs: o.authRestartMs,
        lookup: o.lookup!,
        name: o.name,
        ignoreDomain: o.msIgnoreDomain,
        maxRetries: o.authMaxRetries,
        failureDelayMs: o.authFailureDelayMs,
      });
      this.authPending++;
    }
    if (lcp.authSelfWith) {
      this.authPeer = createAuthPeer(lcp.authSelfWith, {
        log,
        random: o.random,
        restartMs: o.authRestartMs,
        credentials: this.settings.credentials!,
      });
      this.authPending++;
    }
    if (this.authPending === 0) {
      this.startNetwork();
      return;
    }
    if (this.authenticator) this.runAuth(this.authenticator.start());
    if (this.authPeer) this.runAuth(this.authPeer.start());
  }

  /** LCP This-Layer-Down: everything above LCP goes down (RFC 1661 §3.7). */
  private onLcpDown(): void {
    if (this.phaseValue === 'Authenticate') this.downDuringAuth = true;
    this.stopNetwork();
    this.stopAuth();
    this.stopEcho();
    this.channel.setFraming?.({ acfc: false, pfc: false });
    const closing = this.lcp.state === 'Closing' || this.lcp.state === 'Stopping';
    this.setPhase(closing ? 'Terminate' : 'Establish', closing ? 'LCP closing' : 'LCP renegotiating');
    this.updateModes();
  }

  /** LCP This-Layer-Finished: the link is over (RFC 1661 §3.3). */
  private onLcpFinished(reason: string): void {
    if (this.phaseValue === 'Dead') return;
    this.toDead(this.failure ?? this.failureFromLcp(reason));
  }

  /** Why LCP finished, when nothing recorded a reason before. */
  private failureFromLcp(reason: string): PppFailure {
    const peerText = this.lcp.peerTerminateReason;
    if (peerText !== undefined) {
      if (this.refusedAuth && this.authResults.length === 0) {
        return {
          code: 'auth-refused',
          message: `the peer demanded ${this.refusedAuth} authentication, which we refuse; it ended the link`,
          peerMessage: peerText,
        };
      }
      if (this.downDuringAuth) {
        // Typically an MS-CHAP peer that got our Failure (with R=1) and hung up instead of retrying.
        return {
          code: 'auth-failed',
          message: `the peer ended the link during authentication (${peerText})`,
          peerMessage: peerText,
        };
      }
      return {
        code: 'peer-terminated',
        message: `LCP terminated by peer (${peerText})`,
        peerMessage: peerText,
      };
    }
    if (reason.startsWith('peer did not answer')) return { code: 'peer-silent', message: reason };
    return { code: 'negotiation-failed', message: `LCP: ${reason}` };
  }

  private stopAuth(): void {
    if (this.authenticator) this.runAuth(this.authenticator.stop());
    if (this.authPeer) this.runAuth(this.authPeer.stop());
    this.authenticator = undefined;
    this.authPeer = undefined;
  }

  private onAuthSuccess(result: AuthSuccess): void {
    this.authResults.push(result);
    this.out.push({ kind: 'authenticated', result });
    if (result.mppe) {
      // Prefer keys from our authenticator side (RFC 3079 §3.3 "server"), else from our peer side.
      const isServer = result.role === 'authenticator';
      if (!this.mppeMaterial || isServer) this.mppeMaterial = { material: result.mppe, isServer };
    }
    this.authPending--;
    // Re-authentication in the Network phase changes nothing else.
    if (this.authPending === 0 && this.phaseValue === 'Authenticate') this.startNetwork();
  }

  private onAuthFailure(f: AuthFailure): void {
    const who =
      f.role === 'authenticator' ? 'the peer failed to authenticate' : 'authentication to the peer failed';
    const why = f.message ? `${f.reason}: ${f.message}` : f.reason;
    // pppd: "Authentication failed" (authenticator) / "CHAP authentication failed" (peer).
    this.fail({ code: 'auth-failed', message: `${authMethodName(f.method)} ${who} (${why})`, auth: f });
  }

  /** Network-Layer Protocol phase (RFC 1661 §3.6): start every enabled NCP, and CCP. */
  private startNetwork(): void {
    this.setPhase('Network', 'authentication done');
    this.downDuringAuth = false;
    const s = this.settings;
    const o = this.options;
    const random = o.random;
    const log = this.log;
    const policy = o.networkPolicy?.();
    // The authenticating source may narrow the key lengths (RFC 2548 §2.4.5) and require MPPE (§2.4.4).
    const allowedBits = policy?.mppeKeyBits;
    const mppeKeyBits = allowedBits ? s.mppeKeyBits.filter((k) => allowedBits.includes(k)) : s.mppeKeyBits;
    const mppeRequired = s.mppeRequired || (policy?.mppeRequired ?? false);
    // The link's settings from now on (the data path reads `mppeRequired`: nothing unencrypted passes).
    s.mppeKeyBits = mppeKeyBits;
    s.mppeRequired = mppeRequired;
    if (mppeKeyBits.length === 0 && mppeRequired) {
      this.fail({
        code: 'mppe-unavailable',
        message: `MPPE required, but none of the key lengths allowed for this user (${allowedBits?.join(', ') || 'none'}) is enabled`,
      });
      return;
    }
    if (mppeKeyBits.length > 0) {
      const keys = this.mppeMaterial !== undefined;
      if (!keys && mppeRequired) {
        // pppd: "MPPE required, but MS-CHAP[v2] auth not performed."
        this.fail(
          this.refusedAuth && this.authResults.length === 0
            ? {
                code: 'auth-refused',
                message: `the peer demanded ${this.refusedAuth} authentication, which we refuse, and without MS-CHAP there are no MPPE keys`,
              }
            : {
                code: 'mppe-unavailable',
                message: 'MPPE required, but no MS-CHAP authentication provided keys (RFC 3079)',
              },
        );
        return;
      }
      this.ccpPolicy = new CcpPolicy({
        keyBits: keys ? mppeKeyBits : [],
        required: mppeRequired,
        stateful: s.mppeStateful,
      });
      this.ccp = new Fsm(this.ccpPolicy, s.fsm, log.child('ccp'));
    }
    if (s.ipv4) {
      const peerName = this.authResults.find((r) => r.role === 'authenticator')?.peerName;
      const assigned = o.assignRemoteAddress?.(peerName) ?? o.remoteAddress ?? 0;
      this.ipcpPolicy = new IpcpPolicy({
        localAddress: o.localAddress ?? 0,
        remoteAddress: assigned,
        acceptLocal: o.ipcpAcceptLocal ?? false,
        acceptRemote: o.ipcpAcceptRemote ?? false,
        dns: policy?.dns ?? o.msDns ?? [],
        nbns: o.msWins ?? [],
        usePeerDns: o.usePeerDns ?? false,
      });
      this.ipcp = new Fsm(this.ipcpPolicy, s.fsm, log.child('ipcp'));
    }
    if (s.ipv6) {
      this.ipv6cpPolicy = new Ipv6cpPolicy({
        ...(o.ipv6LocalIdentifier ? { localIdentifier: o.ipv6LocalIdentifier } : {}),
        ...(o.ipv6RemoteIdentifier ? { remoteIdentifier: o.ipv6RemoteIdentifier } : {}),
        ...(random ? { random: () => random(8) } : {}),
      });
      this.ipv6cp = new Fsm(this.ipv6cpPolicy, s.fsm, log.child('ipv6cp'));
    }
    // Code-Rejects of every automaton must fit the peer's MRU (RFC 1661 §5.6).
    const peerMru = this.lcpPolicy.negotiated?.mtu ?? DEFAULT_MRU;
    for (const f of [this.ccp, this.ipcp, this.ipv6cp]) if (f) f.peerMru = peerMru;
    // CCP first, so that with MPPE required it is already negotiating when IPCP comes up; IPCP packets are
    // processed whatever CCP's state (the accel-ppp bug was to drop them while CCP negotiated).
    if (this.ccp) {
      this.runCcp(this.ccp.lowerUp());
      this.runCcp(this.ccp?.open() ?? []);
    }
    if (this.ipcp) {
      this.runIpcp(this.ipcp.lowerUp());
      this.runIpcp(this.ipcp?.open() ?? []);
    }
    if (this.ipv6cp) {
      this.runIpv6cp(this.ipv6cp.lowerUp());
      this.runIpv6cp(this.ipv6cp?.open() ?? []);
    }
    this.updateModes();
  }

  /** LCP left Opened (or the link is dying): the NCPs get Down, MPPE state is wiped. */
  private stopNetwork(): void {
    if (this.ccp) this.runCcp(this.ccp.lowerDown());
    if (this.ipcp) this.runIpcp(this.ipcp.lowerDown());
    if (this.ipv6cp) this.runIpv6cp(this.ipv6cp.lowerDown());
    this.ccp = this.ipcp = this.ipv6cp = undefined;
    this.ccpPolicy = undefined;
    this.ipcpPolicy = undefined;
    this.ipv6cpPolicy = undefined;
    this.stopMppe();
  }

  // ─── LCP echo keep-alive ──────────────────────────────────────────────

  private startEcho(): void {
    if (!this.keepalive.enabled) return;
    this.keepalive.reset();
    this.rxSinceEcho = false;
    this.out.push({ kind: 'startTimer', id: UNIT_TIMER.echo, ms: this.keepalive.intervalMs });
  }

  private stopEcho(): void {
    if (this.keepalive.enabled) this.out.push({ kind: 'stopTimer', id: UNIT_TIMER.echo });
  }

  private onEchoTimer(): void {
    if (this.lcp.state !== 'Opened' || !this.keepalive.enabled) return;
    const seen = this.rxSinceEcho;
    this.rxSinceEcho = false;
    switch (this.keepalive.tick(seen)) {
      case 'dead':
        // pppd: "No response to %d echo-requests" / "Serial link appears to be disconnected."
        this.fail({
          code: 'peer-silent',
          message: `no response to ${this.keepalive.failures} echo-requests`,
        });
        return;
      case 'send':
        this.runLcp(this.lcp.sendPacket(this.lcpPolicy.echoRequest()));
        break;
      case 'skip':
        break;
    }
    this.out.push({ kind: 'startTimer', id: UNIT_TIMER.echo, ms: this.keepalive.intervalMs });
  }

  // ─── MPPE ─────────────────────────────────────────────────────────────

  private startMppe(n: CcpNegotiated): void {
    this.stopMppe();
    const m = this.mppeMaterial;
    if (!m || (!n.rx && !n.tx)) return;
    const keys = mppeMasterKeysFromAuth(m.material, m.isServer);
    if (n.tx) {
      this.encryptor = new MppeEncryptor({
        bits: n.tx.keyBits,
        stateless: n.tx.stateless,
        masterKey: keys.sendKey,
      });
    }
    if (n.rx) {
      this.decryptor = new MppeDecryptor({
        bits: n.rx.keyBits,
        stateless: n.rx.stateless,
        masterKey: keys.receiveKey,
      });
    }
  }

  private stopMppe(): void {
    this.encryptor?.wipe();
    this.encryptor = undefined;
    this.decryptor = undefined;
    this.out.push({ kind: 'stopTimer', id: UNIT_TIMER.ccpReset });
  }

  /** RFC 3078 §8.2: "send a CCP Reset-Request packet without data"; repeated (same Identifier) until a flushed packet comes. */
  private sendResetRequest(fresh: boolean): void {
    const ccp = this.ccp;
    if (ccp?.state !== 'Opened' || !this.ccpPolicy) return;
    const policy = this.ccpPolicy;
    this.runCcp(
      ccp.withContext((ctx) => {
        if (fresh) this.resetRequestId = ctx.nextId();
        ctx.send(policy.resetRequest(this.resetRequestId));
      }),
    );
    this.counters.resetRequestsSent++;
    this.out.push({ kind: 'startTimer', id: UNIT_TIMER.ccpReset, ms: CCP_RESET_RETRY_MS });
  }

  private onCcpResetTimer(): void {
    if (this.decryptor?.awaitingFlush) this.sendResetRequest(false);
  }

  // ─── Automaton and engine actions ─────────────────────────────────────

  /**
   * Common handling of an automaton's actions; returns nothing, dispatches
   * layer events to the handlers of `layer`. `fsm` is the automaton that
   * produced them. (A switch, not a handler object with closures per call:
   * keep-alive traffic on thousands of idle links passes here.)
   */
  private runFsm<N>(actions: readonly FsmAction<N>[], layer: Layer, fsm: object | undefined): void {
    for (const a of actions) {
      if (!this.layerAlive(layer, fsm) && (a.kind === 'send' || a.kind === 'startTimer')) {
        // A note earlier in this list ended the link and stopNetwork() discarded the automaton: what it
        // still meant to send or time belongs to a layer that no longer exists.
        continue;
      }
      switch (a.kind) {
        case 'send':
          this.counters.txControl++;
          this.channel.send(a.frame);
          break;
        case 'startTimer':
        case 'stopTimer':
          this.out.push(a);
          break;
        case 'up':
          this.layerUp(layer);
          break;
        case 'down':
          this.layerDown(layer);
          break;
        case 'starting':
          break;
        case 'finished':
          this.layerFinished(layer, a.reason);
          break;
        case 'note':
          this.layerNote(layer, a.note);
          break;
        default:
          assertNever(a, 'automaton action');
      }
    }
  }

  /** False once the automaton was discarded (the link failed while its actions ran). */
  private layerAlive(layer: Layer, fsm: object | undefined): boolean {
    switch (layer) {
      case 'lcp':
        return true;
      case 'ipcp':
        return fsm !== undefined && this.ipcp === fsm;
      case 'ipv6cp':
        return fsm !== undefined && this.ipv6cp === fsm;
      case 'ccp':
        return fsm !== undefined && this.ccp === fsm;
      default:
        return assertNever(layer, 'layer');
    }
  }

  private layerUp(layer: Layer): void {
    if (layer === 'lcp') this.onLcpUp();
    else if (layer === 'ipcp') this.onIpcpUp();
    else if (layer === 'ipv6cp') this.onIpv6cpUp();
    else this.onCcpUp();
  }

  private layerDown(layer: Layer): void {
    if (layer === 'lcp') {
      this.onLcpDown();
      return;
    }
    if (layer === 'ipcp') this.out.push({ kind: 'ipcp-down' });
    else if (layer === 'ipv6cp') this.out.push({ kind: 'ipv6cp-down' });
    else {
      this.stopMppe();
      this.out.push({ kind: 'ccp-down' });
    }
    this.updateModes();
  }

  private layerFinished(layer: Layer, reason: string): void {
    if (layer === 'lcp') this.onLcpFinished(reason);
    else if (layer === 'ipcp') this.onNcpFinished(PppProtocol.Ipcp, reason);
    else if (layer === 'ipv6cp') this.onNcpFinished(PppProtocol.Ipv6cp, reason);
    else if (this.settings.mppeRequired && this.phaseValue === 'Network') {
      this.fail({ code: 'mppe-refused', message: `MPPE required but CCP ended: ${reason}` });
    } else {
      this.onNcpFinished(PppProtocol.Ccp, reason);
    }
  }

  private layerNote(layer: Layer, note: unknown): void {
    if (layer === 'lcp') this.onLcpNote(note as LcpNote);
    else if (layer === 'ccp') this.onCcpNote(note as CcpNote);
    else {
      // pppd ipcp_up: "Could not determine local IP address" closes IPCP (and IPV6CP alike).
      const n = note as IpcpNote | Ipv6cpNote;
      if (n.kind === 'failed')
        this.ncpFailed(layer === 'ipcp' ? PppProtocol.Ipcp : PppProtocol.Ipv6cp, n.reason);
    }
  }

  private runLcp(actions: readonly FsmAction<LcpNote>[]): void {
    this.runFsm(actions, 'lcp', this.lcp);
  }

  private onLcpNote(n: LcpNote): void {
    switch (n.kind) {
      case 'protocol-reject':
        this.onProtocolRejected(n.protocol);
        return;
      case 'echo-reply':
        this.keepalive.replied();
        return;
      case 'echo-rejected':
        this.stopEcho();
        return;
      case 'loopback':
        this.fail({ code: 'loopback', message: `loopback detected: ${n.detail}` });
        return;
      case 'auth-refused':
        this.refusedAuth = n.method;
        return;
      case 'identification':
      case 'time-remaining':
        return;
      default:
        assertNever(n, 'LCP note');
    }
  }

  /** RFC 1661 §5.7: "the implementation MUST stop sending packets of the indicated protocol". */
  private onProtocolRejected(protocol: number): void {
    const reason = 'Protocol-Rejected by peer';
    switch (protocol) {
      case PppProtocol.Ipcp:
        if (this.ipcp) this.runIpcp(this.ipcp.protocolRejected(reason));
        break;
      case PppProtocol.Ipv6cp:
        if (this.ipv6cp) this.runIpv6cp(this.ipv6cp.protocolRejected(reason));
        break;
      case PppProtocol.Ccp:
        if (this.ccp) this.runCcp(this.ccp.protocolRejected(reason));
        break;
      case PppProtocol.Ipv4:
      case PppProtocol.Ipv6:
        this.setMode(protocol, 'ERROR');
        break;
      case PppProtocol.Pap:
      case PppProtocol.Chap:
        if (this.phaseValue === 'Authenticate') {
          this.fail({
            code: 'auth-refused',
            message: `the peer Protocol-Rejected authentication (0x${protocol.toString(16)})`,
          });
        }
        break;
      default:
        break;
    }
  }

  private runIpcp(actions: readonly FsmAction<IpcpNote>[]): void {
    this.runFsm(actions, 'ipcp', this.ipcp);
  }

  private onIpcpUp(): void {
    const n = this.ipcpPolicy?.negotiated;
    if (!n || n.localAddress === 0) return; // the 'failed' note handles it
    this.log.log('info', 'IPCP up', {
      local: ipv4ToString(n.localAddress),
      remote: ipv4ToString(n.remoteAddress),
    });
    this.out.push({ kind: 'ipcp-up', ipcp: n });
    this.updateModes();
  }

  private runIpv6cp(actions: readonly FsmAction<Ipv6cpNote>[]): void {
    this.runFsm(actions, 'ipv6cp', this.ipv6cp);
  }

  private onIpv6cpUp(): void {
    const n = this.ipv6cpPolicy?.negotiated;
    if (!n) return;
    this.out.push({ kind: 'ipv6cp-up', ipv6cp: n });
    this.updateModes();
  }

  /**
   * An NCP could not produce a usable configuration: close it; if no other
   * NCP can carry traffic, end the link (pppd: "No network protocols
   * running").
   */
  private ncpFailed(protocol: number, reason: string): void {
    const fsm = protocol === PppProtocol.Ipcp ? this.ipcp : this.ipv6cp;
    this.log.log('warn', `NCP 0x${protocol.toString(16)} failed: ${reason}`);
    if (fsm) {
      const actions = fsm.close(reason);
      if (protocol === PppProtocol.Ipcp) this.runIpcp(actions as FsmAction<IpcpNote>[]);
      else this.runIpv6cp(actions as FsmAction<Ipv6cpNote>[]);
    }
    const other = protocol === PppProtocol.Ipcp ? this.ipv6cp : this.ipcp;
    if (!other || other.state === 'Closed' || other.state === 'Stopped') {
      this.fail({ code: 'negotiation-failed', message: reason });
    }
  }

  /** RFC 1661 §3.7: "the fact that one NCP has Closed is not sufficient reason to cause the termination of the PPP link". */
  private onNcpFinished(protocol: number, reason: string): void {
    this.out.push({ kind: 'ncp-finished', protocol, reason });
    this.updateModes();
  }

  private runCcp(actions: readonly FsmAction<CcpNote>[]): void {
    this.runFsm(actions, 'ccp', this.ccp);
  }

  private onCcpUp(): void {
    const n = this.ccpPolicy?.negotiated;
    if (!n) return;
    this.startMppe(n);
    this.out.push({ kind: 'ccp-up', ccp: n });
    this.updateModes();
  }

  private onCcpNote(n: CcpNote): void {
    switch (n.kind) {
      case 'mppe-refused':
        // pppd: "MPPE required but peer negotiation failed".
        this.fail({ code: 'mppe-refused', message: `MPPE required but refused: ${n.reason}` });
        return;
      case 'reset-request':
        this.counters.resetRequestsReceived++;
        // RFC 3078 §8.2: our *transmitter* re-initialises and flushes the next packet.
        this.encryptor?.resetRequested();
        return;
      case 'reset-ack':
        return;
      default:
        assertNever(n, 'CCP note');
    }
  }

  private runAuth(actions: readonly AuthAction[]): void {
    for (const a of actions) {
      switch (a.kind) {
        case 'send':
          this.counters.txControl++;
          this.channel.send(a.frame);
          break;
        case 'startTimer':
        case 'stopTimer':
          this.out.push(a);
          break;
        case 'success':
          this.onAuthSuccess(a.result);
          break;
        case 'failure':
          this.onAuthFailure(a.failure);
          break;
        default:
          assertNever(a, 'auth action');
      }
    }
  }

  private flush(): readonly UnitAction[] {
    if (this.out.length === 0) return EMPTY;
    const out = this.out;
    this.out = [];
    return out;
  }
}
