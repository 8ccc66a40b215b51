/**
 * One PPTP call's data session: the GRE data channel (RFC 2637 §4, the
 * Linux *channel*) joined to a PPP unit (RFC 1661, the Linux *unit*), with
 * their timers on a {@link Clock} and the hot data path between the
 * interface side and the GRE socket. The client and the server each run
 * one of these per call; they decide where received IP packets go
 * ({@link SessionPorts.deliver}) and where packets to send come from
 * ({@link PppSession.sendPacket}).
 *
 * ```
 *  interface ─ sendPacket ─▶ unit (npmode, MPPE) ─ sendInPlace ─▶ channel (GRE, IPv4) ─▶ endpoint.send
 *  endpoint ─ demux ─▶ channel (seq/ack/reorder) ─ deliver ─▶ unit.receive ─▶ ports.deliver ─▶ interface
 *  timers: unit ids (LCP restart, echo, auth, CCP reset) ─ TimerSet;  channel ─ one timer at pollAt()
 * ```
 *
 * No per-packet allocation beyond the engines' own: the unit copies a
 * packet once into its scratch buffer with headroom and every header is
 * written in place; the socket copies the finished packet into its ring.
 * The channel's timer is only re-armed when its next deadline moves earlier
 * (a timer that fires early just polls and re-arms).
 *
 * MTU (Linux `pptp_connect`: channel MTU = route MTU − overhead): the
 * channel's MTU is path MTU − outer IPv4 (20) − GRE (16) − PPP (4), and the
 * unit's MTU and MRU are capped to it, so the MRU we ask for is exactly what
 * one outer packet carries; the interface MTU the unit reports subtracts
 * MPPE's 4 bytes on top ({@link PppUnit.interfaceMtu}).
 */
import { type Clock, rearmTimer, type Timer } from '../io/clock.js';
import { type Logger, nullLogger } from '../log/logger.js';
import type { AuthSuccess } from '../ppp/auth/index.js';
import type { CcpNegotiated, MppeParams } from '../ppp/ccp.js';
import { authMethodName } from '../ppp/lcp.js';
import {
  type PppChannel,
  type PppCounters,
  type PppFailure,
  PppUnit,
  type PppUnitOptions,
  type UnitAction,
} from '../ppp/unit.js';
import type { PptpCallParameters } from '../pptp/control-types.js';
import { GreChannel } from '../pptp/gre-channel.js';
import type { GreChannelConfig, GreChannelCounters, GreChannelSink } from '../pptp/gre-channel-types.js';
import { ipv4ToString, parseIpv4 } from '../wire/bytes.js';
import { type PppFrame, type PppFramingFlags, PppProtocol } from '../wire/ppp.js';
import type { GreEndpoint, GreEndpointMember } from './gre-endpoint.js';
import { TimerSet } from './timers.js';

/** GRE settings a driver may tune (the rest comes from the call). */
export type GreTuning = Pick<
  GreChannelConfig,
  | 'timeToLive'
  | 'dontFragment'
  | 'ignorePeerWindow'
  | 'ackTimeoutMs'
  | 'minTimeoutMs'
  | 'maxTimeoutMs'
  | 'reorderTimeoutMs'
  | 'reorderBufferPackets'
  | 'transmitQueuePackets'
>;

/**
 * Frames a session's channel holds while the peer's window is closed
 * (`GreTuning.transmitQueuePackets`). A driver stops reading its interface
 * as soon as one is queued ({@link PppSession.transmitBlocked}), but a TUN
 * with offloads hands over a whole TCP super-packet at a time (up to 64 KiB,
 * cut into ~47 segments at a 1400-byte MTU, 256 at the smallest MSS worth
 * using), and all of its segments follow: the queue holds them instead of
 * dropping them.
 */
export const SESSION_TRANSMIT_QUEUE_PACKETS = 256;

/** Where the session's received IP packets go. */
export interface SessionPorts {
  /** One IPv4/IPv6 packet from the peer (decrypted); valid only during the call. */
  deliver(protocol: number, packet: Uint8Array): void;
  /** End of a receive batch: flush what `deliver` queued (e.g. `TunDevice.flush`). */
  flush?(): void;
  /**
   * The channel's transmit queue drained after the window had closed
   * (Linux's `netif_wake_queue`): an interface paused because
   * {@link PppSession.transmitBlocked} was true may resume.
   */
  wake?(): void;
}

/** What the session tells its driver. */
export interface SessionEvents {
  /** IPv4 passes (IPCP Opened and, when MPPE is required, CCP too). May come again after a renegotiation. */
  up?(info: SessionInfo): void;
  /** IPv4 stopped passing without the link ending. */
  networkDown?(): void;
  /** The PPP link is finished; the driver should clear the call and {@link PppSession.destroy} the session. */
  dead?(failure: PppFailure): void;
  /** Every other unit event (phases, LCP up, authentication...), for logs. */
  action?(action: UnitAction): void;
}

export interface PppSessionOptions {
  /** The call's parameters from the control connection's `callUp`. */
  readonly call: PptpCallParameters;
  /** Our outer IPv4 address (source of GRE we send). */
  readonly localAddress: string;
  /** The peer's outer IPv4 address (GRE is accepted only from it). */
  readonly peerAddress: string;
  /** Path MTU towards the peer (default 1500). */
  readonly pathMtu?: number;
  readonly gre?: GreTuning;
  /** PPP settings; `mtu` and `mru` are capped to what the channel carries. */
  readonly ppp: PppUnitOptions;
  readonly endpoint: GreEndpoint;
  readonly ports: SessionPorts;
  readonly events?: SessionEvents;
  readonly clock: Clock;
  readonly log?: Logger;
  /**
   * Sees every frame from the peer before the unit does; `true` keeps it
   * back, and the driver hands it in later with
   * {@link PppSession.receiveFrame} (a server waiting for an asynchronous
   * authenticator holds the peer's PAP request or CHAP response this way).
   */
  readonly hold?: (frame: PppFrame) => boolean;
}

/** The negotiated shape of a session, once IPv4 passes. */
export interface SessionInfo {
  readonly localAddress: string;
  readonly remoteAddress: string;
  /** DNS servers the peer gave us (RFC 1877), primary first. */
  readonly dns: readonly string[];
  readonly nbns: readonly string[];
  /** MTU for the network interface (MPPE overhead already taken off). */
  readonly mtu: number;
  /** The MRU the peer agreed we receive. */
  readonly mru: number;
  /** Completed authentications (one per direction). */
  readonly auth: readonly AuthSuccess[];
  /** The name the peer authenticated as, when we were the authenticator. */
  readonly peerName: string | undefined;
  /** MPPE each way, undefined when CCP is not Opened. */
  readonly mppe: CcpNegotiated | undefined;
}

/** "MS-CHAP-v2" (or "none"), the method(s) of this link. */
export function describeAuth(auth: readonly AuthSuccess[]): string {
  if (auth.length === 0) return 'none';
  return [...new Set(auth.map((a) => authMethodName(a.method)))].join('+');
}

function describeParams(p: MppeParams): string {
  return `${p.keyBits}-bit ${p.stateless ? 'stateless' : 'stateful'}`;
}

/** "128-bit stateless" (or "off", or "rx 128-bit stateless, tx off" when the directions differ). */
export function describeMppe(m: CcpNegotiated | undefined): string {
  if (!m || (!m.rx && !m.tx)) return 'off';
  const rx = m.rx ? describeParams(m.rx) : 'off';
  const tx = m.tx ? describeParams(m.tx) : 'off';
  return rx === tx ? rx : `rx ${rx}, tx ${tx}`;
}

/** Traffic counters of a session, for logs. */
export interface SessionStats {
  readonly ppp: Readonly<PppCounters>;
  readonly gre: Readonly<GreChannelCounters>;
}

function requireIpv4(s: string, what: string): number {
  const a = parseIpv4(s);
  if (a === undefined) throw new TypeError(`${what} is not an IPv4 address: ${s}`);
  return a;
}

export class PppSession implements GreEndpointMember {
  readonly channel: GreChannel;
  readonly unit: PppUnit;
  readonly callId: number;
  readonly peerCallId: number;
  private readonly timers: TimerSet;
  private readonly clock: Clock;
  private readonly endpoint: GreEndpoint;
  private readonly ports: SessionPorts;
  private readonly events: SessionEvents;
  private readonly log: Logger;
  /** The GRE channel's timer; kept after it fires, so that a clock whose timers restart in place re-arms it without garbage. */
  private channelTimer: Timer | undefined;
  private channelTimerArmed = false;
  private channelTimerAt = 0;
  private upInfo: SessionInfo | undefined;
  private deadFailure: PppFailure | undefined;
  private deadReported = false;
  private destroyed = false;
  private started = false;
  /** {@link startWhenPeerSpeaks}: the fallback timer while we wait for the peer's first frame. */
  private peerWait: Timer | undefined;
  private readonly hold: ((frame: PppFrame) => boolean) | undefined;

  constructor(opts: PppSessionOptions) {
    this.hold = opts.hold;
    this.clock = opts.clock;
    this.endpoint = opts.endpoint;
    this.ports = opts.ports;
    this.events = opts.events ?? {};
    this.log = opts.log ?? nullLogger;
    this.callId = opts.call.callId;
    this.peerCallId = opts.call.peerCallId;
    const clock = opts.clock;
    this.channel = new GreChannel(
      {
        ...opts.gre,
        localAddress: requireIpv4(opts.localAddress, 'local address'),
        peerAddress: requireIpv4(opts.peerAddress, 'peer address'),
        callId: opts.call.callId,
        peerCallId: opts.call.peerCallId,
        pathMtu: opts.pathMtu ?? 1500,
        peerReceiveWindow: opts.call.peerPacketRecvWindowSize,
        receiveWindow: opts.call.packetRecvWindowSize,
        peerPacketProcessingDelay: opts.call.peerPacketProcessingDelay,
        transmitQueuePackets: opts.gre?.transmitQueuePackets ?? SESSION_TRANSMIT_QUEUE_PACKETS,
      },
      new PppSession.ChannelSink(this),
    );
    const gre = this.channel;
    const channelPort = new PppSession.UnitChannel(gre, clock);
    const ppp = opts.ppp;
    // The caller's options with three of our own on top. A server passes the call's few own
    // settings on top of one shared set (its prototype): the result inherits from that same
    // shared set and copies only the own ones, so no per-call object becomes a prototype (V8
    // gives every prototype object, and every object made from it, hidden classes of its own:
    // about 0.7 KiB per session).
    const unitOptions: PppUnitOptions = Object.assign(
      Object.create(Object.getPrototypeOf(ppp) as object | null) as PppUnitOptions,
      ppp,
      {
        mtu: Math.min(ppp.mtu ?? gre.mtu, gre.mtu),
        mru: Math.min(ppp.mru ?? gre.mtu, gre.mtu),
        log: ppp.log ?? this.log.child('ppp'),
      },
    );
    this.unit = new PppUnit(unitOptions, channelPort, this.ports);
    this.timers = new TimerSet(clock, (id) => this.onUnitTimer(id));
    this.endpoint.attach(this);
  }

  // Memory: a server holds thousands of sessions, and every closure given to the channel or
  // the unit would be one more object (and context) per session: these adapters are small
  // classes with their methods on the prototype.

  /** The GRE channel's output: packets to the endpoint, frames to the unit. */
  private static readonly ChannelSink = class implements GreChannelSink {
    constructor(private readonly s: PppSession) {}
    transmit(packet: Uint8Array): void {
      this.s.endpoint.send(packet);
    }
    wake(): void {
      if (!this.s.destroyed) this.s.ports.wake?.();
    }
    plausible(frame: PppFrame): boolean {
      return !this.s.destroyed && this.s.unit.plausible(frame.protocol);
    }
    deliver(frame: PppFrame): void {
      const s = this.s;
      if (s.destroyed) return;
      if (s.peerWait) s.startNow();
      if (s.hold?.(frame)) return;
      s.run(s.unit.receive(frame));
    }
  };

  /** The unit's channel (Linux `ppp_channel`): the GRE channel, with the time. */
  private static readonly UnitChannel = class implements PppChannel {
    readonly mtu: number;
    readonly headroom: number;
    constructor(
      private readonly gre: GreChannel,
      private readonly clock: Clock,
    ) {
      this.mtu = gre.mtu;
      this.headroom = gre.headroom;
    }
    send(frame: PppFrame): void {
      this.gre.send(frame, this.clock.now());
    }
    sendInPlace(buf: Uint8Array, offset: number, length: number, protocol: number): void {
      this.gre.sendInPlace(buf, offset, length, protocol, this.clock.now());
    }
    setFraming(flags: PppFramingFlags): void {
      this.gre.setFraming(flags);
    }
  };

  private onUnitTimer(id: string): void {
    this.run(this.unit.timeout(id));
    this.afterTimerOutput();
  }

  /** Starts PPP (LCP Configure-Request goes out). */
  start(): void {
    if (this.started || this.destroyed) return;
    this.started = true;
    this.run(this.unit.start());
    this.afterOutput();
  }

  /**
   * Starts PPP when the peer's first frame arrives, or after `maxWaitMs`
   * at the latest (pppd's `silent`, bounded). A PAC uses it: its
   * Outgoing-Call-Reply travels over TCP and its first LCP
   * Configure-Request over GRE, and a PNS that reads the GRE packet before
   * the reply has no call to give it to yet, so the request is lost and
   * LCP waits a whole restart time-out (3 s) to send it again. The PNS
   * speaks first as soon as it has the reply; answering it cannot race.
   */
  startWhenPeerSpeaks(maxWaitMs: number): void {
    if (this.started || this.destroyed || this.peerWait) return;
    this.peerWait = this.clock.setTimer(maxWaitMs, () => {
      this.peerWait = undefined;
      this.start();
    });
  }

  private startNow(): void {
    this.peerWait?.cancel();
    this.peerWait = undefined;
    this.start();
  }

  /**
   * A frame kept back by {@link PppSessionOptions.hold}, handed to the unit
   * now (outside a receive batch, so what it answers is sent at once).
   */
  receiveFrame(frame: PppFrame): void {
    if (this.destroyed) return;
    this.run(this.unit.receive(frame));
    this.afterOutput();
  }

  /**
   * Sends one IP packet from the interface side (copied once into the
   * unit's buffer). Dropped and counted unless its protocol passes.
   */
  sendPacket(packet: Uint8Array): 'sent' | 'queued' | 'dropped' {
    if (this.destroyed) return 'dropped';
    const r = this.unit.sendPacket(packet);
    this.armChannel();
    return r;
  }

  /**
   * True while packets wait in the channel's transmit queue (the peer's GRE
   * window is closed): the driver should stop reading its interface until
   * {@link SessionPorts.wake} (RFC 2637 §4.2.4: packets "are no longer
   * accepted from the packet source when the transmit buffer fills").
   */
  get transmitBlocked(): boolean {
    return this.channel.queueLength > 0;
  }

  /** Administrative close: LCP Terminate-Request with `reason`; `dead` follows. */
  close(reason = 'User request'): void {
    if (this.destroyed) return;
    this.run(this.unit.close(reason));
    this.afterOutput();
  }

  /** The call is gone (CDN, control connection closed): the link ends at once. */
  lowerDown(): void {
    if (this.destroyed) return;
    this.run(this.unit.lowerDown());
  }

  /** Frees everything now: timers, channel, endpoint registration. Idempotent. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.timers.stopAll();
    this.channelTimer?.cancel();
    this.channelTimer = undefined;
    this.channelTimerArmed = false;
    this.peerWait?.cancel();
    this.peerWait = undefined;
    this.channel.close();
    this.endpoint.detach(this);
  }

  /** {@link GreEndpointMember}: listed in the GRE endpoint's current receive batch. */
  inBatch = false;

  /** {@link GreEndpointMember}: end of a receive batch that reached this call. */
  afterInput(): void {
    if (this.destroyed) return;
    this.armChannel();
    this.ports.flush?.();
  }

  /** After we sent something outside a receive batch: re-arm the channel timer and flush the socket. */
  afterOutput(): void {
    if (this.destroyed) return;
    this.armChannel();
    this.endpoint.flush();
  }

  /**
   * After a timer sent something: re-arm the channel timer and leave the
   * flush to the socket, which sends what was queued at the end of the
   * microtask. A clock that fires many sessions' timers in one callback
   * (the server's BatchClock: thousands of idle sessions' keep-alives)
   * then sends them all in one batch (one sendmmsg) instead of one system
   * call per session.
   */
  private afterTimerOutput(): void {
    if (this.destroyed) return;
    this.armChannel();
  }

  /** The negotiated session while IPv4 passes. */
  get info(): SessionInfo | undefined {
    return this.upInfo;
  }

  /** Why the link ended, once it has. */
  get failure(): PppFailure | undefined {
    return this.deadFailure;
  }

  get isDead(): boolean {
    return this.deadFailure !== undefined;
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  get stats(): SessionStats {
    return { ppp: this.unit.counters, gre: this.channel.counters };
  }

  /** Running timers (hygiene checks). */
  get timerCount(): number {
    return this.timers.size + (this.channelTimerArmed ? 1 : 0) + (this.peerWait ? 1 : 0);
  }

  private run(actions: readonly UnitAction[]): void {
    if (actions.length === 0) return;
    for (const a of actions) {
      switch (a.kind) {
        case 'startTimer':
          this.timers.start(a.id, a.ms);
          break;
        case 'stopTimer':
          this.timers.stop(a.id);
          break;
        case 'dead':
          this.deadFailure ??= a.failure;
          break;
        default:
          this.events.action?.(a);
      }
    }
    this.checkUp();
    if (this.deadFailure && !this.deadReported) {
      this.deadReported = true;
      this.timers.stopAll();
      this.events.dead?.(this.deadFailure);
    }
  }

  /** Reports `up` when IPv4 starts passing and `networkDown` when it stops. */
  private checkUp(): void {
    const passing = !this.deadFailure && this.unit.npmode(PppProtocol.Ipv4) === 'PASS';
    if (passing && !this.upInfo) {
      const ipcp = this.unit.ipcpNegotiated;
      if (!ipcp) return;
      const auth = this.unit.authenticated;
      this.upInfo = {
        localAddress: ipv4ToString(ipcp.localAddress),
        remoteAddress: ipv4ToString(ipcp.remoteAddress),
        dns: ipcp.dns.map(ipv4ToString),
        nbns: ipcp.nbns.map(ipv4ToString),
        mtu: this.unit.interfaceMtu,
        mru: this.unit.lcpNegotiated?.mru ?? this.channel.mtu,
        auth,
        peerName: auth.find((r) => r.role === 'authenticator')?.peerName,
        mppe: this.unit.ccpNegotiated,
      };
      this.events.up?.(this.upInfo);
    } else if (!passing && this.upInfo) {
      this.upInfo = undefined;
      this.events.networkDown?.();
    }
  }

  /** Arms the channel's timer for its next deadline, unless one at least as early is armed. */
  private armChannel(): void {
    const at = this.channel.pollAt();
    if (at === undefined) return;
    if (this.channelTimerArmed && this.channelTimerAt <= at) return;
    this.channelTimerAt = at;
    this.channelTimerArmed = true;
    this.channelTimer = rearmTimer(this.clock, this.channelTimer, at - this.clock.now(), this.onChannelTimer);
  }

  /** The channel timer's function, made once with the session (its timer re-arms in place). */
  private readonly onChannelTimer = (): void => {
    this.channelTimerArmed = false;
    if (this.destroyed) return;
    this.channel.poll(this.clock.now());
    this.afterTimerOutput();
  };
}
