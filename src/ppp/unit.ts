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
 *
 * The job is split over a chain of classes, each in its own file: the data
 * path (unit-data.ts: npmode, MPPE in place, counters), the Network phase
 * (unit-network.ts: NCPs, CCP, MPPE keys and resets) and this facade, which
 * runs the phases, LCP with its keep-alive, and authentication, and
 * dispatches every automaton's actions.
 */

import { MPPE_HEADROOM, type MppeDecryptor, type MppeEncryptor } from '../mppe/mppe.js';
import { assertNever, u32 } from '../wire/bytes.js';
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
} from './auth/index.js';
import type { CcpNegotiated, CcpNote } from './ccp.js';
import { Fsm, type FsmAction } from './fsm.js';
import type { IpcpNegotiated, IpcpNote } from './ipcp.js';
import type { Ipv6cpNegotiated, Ipv6cpNote } from './ipv6cp.js';
import {
  authMethodName,
  DEFAULT_MRU,
  LcpKeepalive,
  type LcpNegotiated,
  type LcpNote,
  LcpPolicy,
} from './lcp.js';
import { lcpEndFailure } from './unit-failure.js';
import { type Layer, PppUnitNetwork } from './unit-network.js';
import {
  type PppChannel,
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

const EMPTY: readonly UnitAction[] = Object.freeze([]) as readonly UnitAction[];

/**
 * One PPP link. Create it when the channel exists, call {@link start}, feed
 * it frames ({@link receive}), packets ({@link sendPacket}) and timer
 * expiries ({@link timeout}); do what the returned actions say.
 */
export class PppUnit extends PppUnitNetwork {
  protected readonly lcpPolicy: LcpPolicy;
  private readonly lcp: Fsm<LcpNote>;
  private readonly keepalive: LcpKeepalive;
  private rxSinceEcho = false;
  private authenticator: Authenticator | undefined;
  private authPeer: AuthPeer | undefined;
  private authResults: AuthSuccess[] = [];
  private authPending = 0;
  private failure: PppFailure | undefined;
  /** The peer demanded an authentication method we refuse (LCP note). */
  private refusedAuth: string | undefined;
  /** LCP went down while authentication was under way. */
  private downDuringAuth = false;

  constructor(options: PppUnitOptions, channel: PppChannel, sink: PppInterfaceSink) {
    super(options, channel, sink);
    const rnd = options.random;
    const random32 = rnd ? () => u32(rnd(4), 0) : undefined;
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

  /** The MTU to give the network interface: what LCP allows, minus MPPE's 4 bytes when it runs. */
  get interfaceMtu(): number {
    const lcp = this.lcpPolicy.negotiated?.mtu ?? this.options.mtu ?? DEFAULT_MRU;
    const base = Math.min(lcp, this.channel.mtu);
    return this.encryptor || this.settings.mppeRequired ? base - MPPE_HEADROOM : base;
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
    // The keep-alive first: at rest it is nearly every expiry.
    if (id === UNIT_TIMER.echo) this.onEchoTimer();
    else if (id === this.lcp.timerId) this.runLcp(this.lcp.timeout());
    else if (this.ipcp && id === this.ipcp.timerId) this.runIpcp(this.ipcp.timeout());
    else if (this.ipv6cp && id === this.ipv6cp.timerId) this.runIpv6cp(this.ipv6cp.timeout());
    else if (this.ccp && id === this.ccp.timerId) this.runCcp(this.ccp.timeout());
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
        this.receiveNcp(frame, 'ipcp', this.ipcp);
        return this.flush();
      case PppProtocol.Ipv6cp:
        this.receiveNcp(frame, 'ipv6cp', this.ipv6cp);
        return this.flush();
      case PppProtocol.Ccp:
        this.receiveNcp(frame, 'ccp', this.ccp);
        return this.flush();
      default:
        // RFC 1661 §3.6: "any protocol packet which is unsupported by the implementation MUST be returned
        // in a Protocol-Reject".
        this.protocolReject(frame);
        return this.flush();
    }
  }

  /** A packet of IPCP, IPv6CP or CCP: to the layer's automaton while it runs, else Protocol-Reject. */
  private receiveNcp<N>(frame: PppFrame, layer: Layer, fsm: Fsm<N> | undefined): void {
    this.counters.rxControl++;
    if (fsm) this.runFsm(fsm.receive(frame.payload), layer, fsm);
    else this.protocolReject(frame);
  }

  /** RFC 1661 §5.7 Protocol-Reject (only in the Network phase, with LCP Opened). */
  protected protocolReject(frame: PppFrame): void {
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
    this.act({ kind: 'phase', phase: next });
  }

  /** Records why the link ends (first reason wins) and closes LCP with it (pppd lcp_close). */
  protected fail(f: PppFailure): void {
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
    this.act({ kind: 'dead', failure });
  }

  /** LCP This-Layer-Up: authenticate, or go straight to the Network phase (RFC 1661 §3.5). */
  private onLcpUp(): void {
    const lcp = this.lcpPolicy.negotiated!;
    this.lcp.peerMru = lcp.mtu;
    this.channel.setFraming?.({ acfc: lcp.txAcfc, pfc: lcp.txPfc });
    this.act({ kind: 'lcp-up', lcp });
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
    // Every key written out, undefined meaning the engine's default: one object shape for all links
    // (docs/performance.md).
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
      this.enterNetwork();
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
    const refused = this.authResults.length === 0 ? this.refusedAuth : undefined;
    return lcpEndFailure(reason, this.lcp.peerTerminateReason, refused, this.downDuringAuth);
  }

  private stopAuth(): void {
    if (this.authenticator) this.runAuth(this.authenticator.stop());
    if (this.authPeer) this.runAuth(this.authPeer.stop());
    this.authenticator = undefined;
    this.authPeer = undefined;
  }

  private onAuthSuccess(result: AuthSuccess): void {
    this.authResults.push(result);
    this.act({ kind: 'authenticated', result });
    if (result.mppe) {
      // Prefer keys from our authenticator side (RFC 3079 §3.3 "server"), else from our peer side.
      const isServer = result.role === 'authenticator';
      if (!this.mppeMaterial || isServer) this.mppeMaterial = { material: result.mppe, isServer };
    }
    this.authPending--;
    // Re-authentication in the Network phase changes nothing else.
    if (this.authPending === 0 && this.phaseValue === 'Authenticate') this.enterNetwork();
  }

  private onAuthFailure(f: AuthFailure): void {
    const who =
      f.role === 'authenticator' ? 'the peer failed to authenticate' : 'authentication to the peer failed';
    const why = f.message ? `${f.reason}: ${f.message}` : f.reason;
    // pppd: "Authentication failed" (authenticator) / "CHAP authentication failed" (peer).
    this.fail({ code: 'auth-failed', message: `${authMethodName(f.method)} ${who} (${why})`, auth: f });
  }

  /** Network-Layer Protocol phase (RFC 1661 §3.6): start every enabled NCP, and CCP. */
  private enterNetwork(): void {
    this.setPhase('Network', 'authentication done');
    this.downDuringAuth = false;
    const peerName = this.authResults.find((r) => r.role === 'authenticator')?.peerName;
    this.startNetwork(peerName, this.authResults.length === 0 ? this.refusedAuth : undefined);
  }

  // ─── LCP echo keep-alive ──────────────────────────────────────────────

  private startEcho(): void {
    if (!this.keepalive.enabled) return;
    this.keepalive.reset();
    this.rxSinceEcho = false;
    this.act({ kind: 'startTimer', id: UNIT_TIMER.echo, ms: this.keepalive.intervalMs });
  }

  private stopEcho(): void {
    if (this.keepalive.enabled) this.act({ kind: 'stopTimer', id: UNIT_TIMER.echo });
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
    this.act({ kind: 'startTimer', id: UNIT_TIMER.echo, ms: this.keepalive.intervalMs });
  }

  // ─── Automaton and engine actions ─────────────────────────────────────

  /**
   * Common handling of an automaton's actions; returns nothing, dispatches
   * layer events to the handlers of `layer`. `fsm` is the automaton that
   * produced them.
   */
  protected runFsm<N>(actions: readonly FsmAction<N>[], layer: Layer, fsm: object | undefined): void {
    for (const a of actions) {
      if (!this.layerAlive(layer, fsm) && (a.kind === 'send' || a.kind === 'startTimer')) {
        // A note earlier in this list ended the link and stopNetwork() discarded the automaton: what it
        // still meant to send or time belongs to a layer that no longer exists.
        continue;
      }
      switch (a.kind) {
        case 'send':
        case 'startTimer':
        case 'stopTimer':
          this.engineIo(a);
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
    if (layer === 'ipcp') this.act({ kind: 'ipcp-down' });
    else if (layer === 'ipv6cp') this.act({ kind: 'ipv6cp-down' });
    else {
      this.stopMppe();
      this.act({ kind: 'ccp-down' });
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

  private runAuth(actions: readonly AuthAction[]): void {
    for (const a of actions) {
      switch (a.kind) {
        case 'send':
        case 'startTimer':
        case 'stopTimer':
          this.engineIo(a);
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

  /** What every engine (automaton or authentication) asks alike: a control frame sent (counted), or a timer. */
  private engineIo(a: Extract<AuthAction, { kind: 'send' | 'startTimer' | 'stopTimer' }>): void {
    if (a.kind === 'send') {
      this.counters.txControl++;
      this.channel.send(a.frame);
    } else {
      this.act(a);
    }
  }

  private flush(): readonly UnitAction[] {
    const out = this.out;
    if (out === undefined) return EMPTY;
    this.out = undefined;
    return out;
  }
}
