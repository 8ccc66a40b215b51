/**
 * The PPTP client (PNS, RFC 2637 §1.2): one connection attempt from TCP
 * connect to a clean teardown (docs/architecture.md §4).
 *
 * ```
 *  resolve server ─▶ route MTU ─▶ TCP 1723 ─▶ GRE socket, TUN ─▶ SCCRQ/SCCRP ─▶ OCRQ/OCRP
 *   ─▶ session (GRE channel + PPP unit, client role) ─▶ LCP, auth, CCP, IPCP
 *   ─▶ up: interface MTU/address/up, host route to the server, routes, DNS, ip-up
 *   ─▶ runs until stop() or a failure
 *   ─▶ teardown (bounded): LCP Terminate, CCRQ, StopCCRQ, routes, addresses, DNS file,
 *      ip-down, interface, sockets
 * ```
 *
 * The set-up runs as steps (setup.ts) under one AbortSignal, aborted when
 * the attempt ends (stop() or a failure, whichever comes first); a single
 * teardown then releases whatever was made. Every failure ends in exactly
 * one {@link ClientOutcome} (outcome.ts) with an {@link ExitCode} and a
 * one-line reason; {@link ClientSupervisor} (supervisor.ts) adds pppd's
 * `persist`/`maxfail` with back-off on top.
 */
import type { Clock, Timer } from '../io/clock.js';
import type { HookContext } from '../io/hooks.js';
import { type Undo, UndoStack } from '../io/ip.js';
import type { TcpSocket } from '../io/tcp.js';
import type { TunDevice } from '../io/types.js';
import type { Logger } from '../log/logger.js';
import type { Ipv6cpNegotiated } from '../ppp/ipv6cp.js';
import type { PppUnitOptions } from '../ppp/unit.js';
import type { PptpCallParameters } from '../pptp/control-types.js';
import { DEFAULT_RECEIVE_WINDOW } from '../pptp/gre-sequencer.js';
import { ControlDriver, randomIntFrom } from '../session/control-driver.js';
import {
  describeAuth,
  describeMppe,
  PppSession,
  type SessionInfo,
  type SessionStats,
} from '../session/session.js';
import { waitAtMost } from '../session/timers.js';
import { parseIpv4 } from '../wire/bytes.js';
import { PptpStopReason } from '../wire/pptp/index.js';
import { PPP_RESOLV_CONF } from './client-host.js';
import { ExitCode } from './exit-codes.js';
import type { ClientEnv, ClientOptions, GreLease } from './options.js';
import {
  type ClientOutcome,
  outcomeOfCallDown,
  outcomeOfControlClose,
  outcomeOfPppFailure,
} from './outcome.js';
import { ClientFailure, connectTcp, openTunnel, resolveServer, routeMtu } from './setup.js';

/** What the client reports once the tunnel is up. */
export interface ClientUpInfo extends SessionInfo {
  readonly ifname: string;
  readonly server: string;
}

/** The reason an attempt's AbortSignal carries: the attempt ended (stop() or a failure). */
class AttemptEnded extends Error {}

/** Teardown limits: each step is bounded, so the whole teardown is too. */
export const CLIENT_TEARDOWN = {
  /** LCP Terminate-Request → Terminate-Ack. */
  lcpTerminateMs: 3000,
  /** Call-Clear-Request → Call-Disconnect-Notify. */
  callClearMs: 2000,
  /** Stop-Control-Connection-Request → Reply. */
  stopMs: 2000,
} as const;

/** One connection attempt. `run()` once; `stop()` at any time. */
export class PptpClient {
  private readonly opts: ClientOptions;
  private readonly env: ClientEnv;
  private readonly log: Logger;
  private readonly clock: Clock;
  private outcome: ClientOutcome | undefined;
  private resolveEnded!: (o: ClientOutcome) => void;
  private readonly ended: Promise<ClientOutcome>;
  private ran = false;
  private wasUp = false;

  // Resources, released by teardown in reverse order of creation.
  private socket: TcpSocket | undefined;
  private control: ControlDriver | undefined;
  private gre: GreLease | undefined;
  private tun: TunDevice | undefined;
  private session: PppSession | undefined;
  private callId: number | undefined;
  /** The Call ID claimed on the GRE endpoint (released at teardown). */
  private claimedCallId: number | undefined;
  private callIsDown = false;
  private callDownWaiter: (() => void) | undefined;
  private sessionDeadWaiter: (() => void) | undefined;
  private readonly undo = new UndoStack();
  /** Aborted when the attempt ends: every set-up step and host change in flight gives up. */
  private readonly aborter = new AbortController();
  private setupTimer: Timer | undefined;
  private upInfo: ClientUpInfo | undefined;
  private upAt = 0;
  private ipUpRan = false;
  private hostWork: Promise<void> = Promise.resolve();
  private ipv6: Ipv6cpNegotiated | undefined;
  private ipv6Added = false;
  private serverAddress = '';

  /** Called when the tunnel is up (after the host is configured). */
  onUp: ((info: ClientUpInfo) => void) | undefined;

  constructor(opts: ClientOptions, env: ClientEnv) {
    this.opts = opts;
    this.env = env;
    this.log = env.log;
    this.clock = env.clock;
    this.ended = new Promise((r) => {
      this.resolveEnded = r;
    });
  }

  /** The tunnel, while it is up. */
  get info(): ClientUpInfo | undefined {
    return this.upInfo;
  }

  /** Counters of the PPP link and its GRE channel, once the call is up. */
  get stats(): SessionStats | undefined {
    return this.session?.stats;
  }

  /** Runs the attempt; resolves once everything is torn down. */
  async run(): Promise<ClientOutcome> {
    if (this.ran) throw new Error('PptpClient.run() may be called once');
    this.ran = true;
    const establishing = this.establish(this.aborter.signal).catch((err: unknown) => {
      if (this.isAbort(err)) return;
      if (err instanceof ClientFailure) this.finish(err.code, err.message);
      else {
        this.log.log('error', 'internal error', { error: (err as Error)?.stack ?? String(err) });
        this.finish(ExitCode.Fatal, `internal error: ${(err as Error)?.message ?? String(err)}`);
      }
    });
    const outcome = await this.ended;
    await establishing;
    await this.teardown(outcome);
    return outcome;
  }

  /** Asks for a clean stop (SIGINT/SIGTERM): the outcome is {@link ExitCode.Ok}. */
  stop(reason = 'stopped on request'): void {
    this.finish(ExitCode.Ok, reason);
  }

  private finish(code: ExitCode, reason: string): void {
    if (this.outcome) return;
    this.outcome = { code, reason, wasUp: this.wasUp };
    this.setupTimer?.cancel();
    this.setupTimer = undefined;
    if (code === ExitCode.Ok) this.log.log('info', `stopping: ${reason}`);
    // At debug only: the command line reports the reason once, as its last line on stderr.
    else this.log.log('debug', `failed: ${reason}`, { code });
    this.aborter.abort(new AttemptEnded(reason));
    this.resolveEnded(this.outcome);
  }

  /** Whether `err` is the abort of this attempt (nothing to report: the outcome is set). */
  private isAbort(err: unknown): boolean {
    return this.aborter.signal.aborted && err === this.aborter.signal.reason;
  }

  /**
   * The set-up steps (setup.ts), each under `signal`. What a step makes is
   * recorded at once, so the one teardown releases it whether the attempt
   * goes on or ends.
   */
  private async establish(signal: AbortSignal): Promise<void> {
    const o = this.opts;
    const env = this.env;
    const port = o.port ?? 1723;
    this.setupTimer = this.clock.setTimer(o.setupTimeoutMs ?? 60_000, () => {
      this.setupTimer = undefined;
      this.finish(
        ExitCode.PeerSilent,
        `the tunnel did not come up within ${Math.round((o.setupTimeoutMs ?? 60_000) / 1000)} s`,
      );
    });
    const server = await resolveServer(o.server, env, signal);
    this.serverAddress = server;
    const pathMtu = await routeMtu(server, env, signal);
    this.log.log('info', 'connecting', { server, port });
    const { socket, localAddress: local } = await connectTcp(
      server,
      port,
      { timeoutMs: o.connectTimeoutMs ?? 15_000, localAddress: o.localAddress },
      env,
      signal,
      (made) => {
        this.socket = made;
      },
    );
    openTunnel(local, o.ifname ?? 'pptp%d', env, signal, (made) => {
      if ('gre' in made) this.gre = made.gre;
      else this.tun = made.tun;
    });
    this.startControl(socket, local, server, pathMtu);
  }

  /**
   * Once our Call ID is chosen (the Outgoing-Call-Request carries it), an
   * owned GRE socket takes only GRE for it: other clients' GRE to the same
   * local address is dropped in the kernel (RawGreSocket.restrictToCallId).
   * Failing that, the socket's Call ID bitmap still drops it, later.
   */
  private restrictGre(callId: number): void {
    try {
      this.gre?.restrictToCallId?.(callId);
    } catch (err) {
      this.log.log('warn', 'cannot restrict the GRE socket to our Call ID', {
        callId,
        error: (err as Error).message,
      });
    }
  }

  /** The control connection over `socket`, and our call once it is established. */
  private startControl(socket: TcpSocket, local: string, server: string, pathMtu: number): void {
    const o = this.opts;
    const endpoint = this.gre!.endpoint;
    const serverNum = parseIpv4(server)!;
    const control = new ControlDriver(
      socket,
      {
        role: 'pns',
        log: this.log.child('pptp'),
        hostName: '',
        packetRecvWindowSize: o.receiveWindow ?? DEFAULT_RECEIVE_WINDOW,
        ...(this.env.random ? { randomInt: randomIntFrom(this.env.random) } : {}),
        // Unique among the calls that share this GRE endpoint (a shared one serves several clients).
        isCallIdAvailable: (id) => {
          if (!endpoint.claimCallId(id, serverNum)) return false;
          this.claimedCallId = id;
          return true;
        },
        timers: o.pptpEchoInterval !== undefined ? { echoIntervalMs: o.pptpEchoInterval * 1000 } : {},
      },
      this.clock,
      {
        established: () => {
          if (this.outcome) return;
          try {
            this.callId = control.placeCall();
          } catch (err) {
            this.finish(ExitCode.NegotiationFailed, `cannot place the call: ${(err as Error).message}`);
            return;
          }
          this.restrictGre(this.callId);
        },
        callUp: (call) => {
          this.callId ??= call.callId;
          if (this.outcome || call.callId !== this.callId) return;
          try {
            this.startSession(call, local, server, pathMtu);
          } catch (err) {
            this.finish(ExitCode.Fatal, `cannot start the session: ${(err as Error).message}`);
          }
        },
        callDown: (callId, reason) => {
          if (callId !== this.callId) return;
          this.callIsDown = true;
          this.callDownWaiter?.();
          // A call cleared by the end of the control connection is reported by `closed`, with its reason.
          if (reason.kind === 'connection-closed') return;
          const o2 = this.pppFailureOutcome() ?? this.peerTerminatedOutcome() ?? outcomeOfCallDown(reason);
          if (o2) this.finish(o2.code, o2.reason);
          this.session?.lowerDown();
        },
        closed: (reason) => {
          this.callIsDown = true;
          this.callDownWaiter?.();
          if (!this.outcome) {
            const o2 = this.pppFailureOutcome() ?? outcomeOfControlClose(reason);
            this.finish(o2.code, o2.reason);
          }
          this.session?.lowerDown();
        },
      },
    );
    this.control = control;
    control.start();
  }

  private startSession(call: PptpCallParameters, local: string, server: string, pathMtu: number): void {
    const o = this.opts;
    const tun = this.tun!;
    const endpoint = this.gre!.endpoint;
    const session = new PppSession({
      call,
      localAddress: local,
      peerAddress: server,
      pathMtu,
      gre: o.gre ?? {},
      ppp: this.pppOptions(),
      endpoint,
      clock: this.clock,
      log: this.log,
      ports: {
        deliver: (_protocol, packet) => {
          tun.write(packet);
        },
        flush: () => tun.flush(),
        wake: () => tun.resume?.(),
      },
      events: {
        up: (info) => this.onSessionUp(info),
        networkDown: () => this.onNetworkDown(session),
        dead: (failure) => {
          const r = outcomeOfPppFailure(failure);
          this.finish(r.code, r.reason);
          this.sessionDeadWaiter?.();
        },
        action: (a) => {
          if (a.kind === 'ipv6cp-up') this.onIpv6Up(a.ipv6cp);
          else if (a.kind === 'authenticated') {
            this.log.log('info', 'authenticated', { method: a.result.method, role: a.result.role });
          } else if (a.kind === 'lcp-up') {
            this.log.log('debug', 'LCP up', { mtu: a.lcp.mtu, mru: a.lcp.mru });
          }
        },
      },
    });
    this.session = session;
    tun.start({
      onPacket: (packet) => {
        session.sendPacket(packet);
        if (session.transmitBlocked) tun.pause?.();
      },
      onBatchEnd: () => endpoint.flush(),
      onError: (err) => this.finish(ExitCode.Setup, `the interface failed: ${err.message}`),
    });
    session.start();
  }

  private pppOptions(): PppUnitOptions {
    const o = this.opts;
    const auth = new Set(o.auth ?? ['mschap-v2']);
    const mppe = o.mppe ?? { mode: 'required', bits: [128] };
    const bits = new Set(mppe.bits ?? [128]);
    const mppeOpts: PppUnitOptions =
      mppe.mode === 'off'
        ? { nomppe: true }
        : mppe.mode === 'required'
          ? {
              requireMppe40: bits.has(40),
              requireMppe56: bits.has(56),
              requireMppe128: bits.has(128),
              mppeStateful: mppe.stateful ?? false,
            }
          : {
              requireMppe: false,
              nomppe40: !bits.has(40),
              nomppe56: !bits.has(56),
              nomppe128: !bits.has(128),
              mppeStateful: mppe.stateful ?? false,
            };
    return {
      user: o.user,
      password: o.password,
      refusePap: !auth.has('pap'),
      refuseChap: !auth.has('chap-md5'),
      refuseMschap: !auth.has('mschap'),
      refuseMschapV2: !auth.has('mschap-v2'),
      // Ask for DNS always, so it can be printed and given to the hooks; `usePeerDns` decides the file.
      usePeerDns: true,
      ipv6: o.ipv6 ?? false,
      ...(o.mtu !== undefined ? { mtu: o.mtu } : {}),
      ...(o.mru !== undefined ? { mru: o.mru } : {}),
      ...(o.lcpEchoInterval !== undefined ? { lcpEchoInterval: o.lcpEchoInterval } : {}),
      ...(o.lcpEchoFailure !== undefined ? { lcpEchoFailure: o.lcpEchoFailure } : {}),
      ...(this.env.random ? { random: this.env.random } : {}),
      ...mppeOpts,
      ...o.ppp,
    };
  }

  /**
   * IPv4 stopped passing. When the link is ending, its reason is known now
   * (the `dead` event comes after LCP's Terminate exchange); otherwise LCP
   * or IPCP is renegotiating, and the network gets the set-up time to come
   * back.
   */
  private onNetworkDown(session: PppSession): void {
    if (this.outcome) return;
    const r = this.pppFailureOutcome(session);
    if (r) {
      this.finish(r.code, r.reason);
      return;
    }
    const ms = this.opts.setupTimeoutMs ?? 60_000;
    this.log.log('warn', 'the network layer went down; waiting for it to come back', { seconds: ms / 1000 });
    this.setupTimer?.cancel();
    this.setupTimer = this.clock.setTimer(ms, () => {
      this.setupTimer = undefined;
      this.finish(ExitCode.HangUp, 'the network layer went down and did not come back');
    });
  }

  /**
   * The outcome the PPP link already knows while it is ending (LCP
   * Terminate in progress): it names the real cause better than the call or
   * connection going down because of it.
   */
  private pppFailureOutcome(session = this.session): { code: ExitCode; reason: string } | undefined {
    const f = session?.failure ?? session?.unit.endingReason;
    return f && f.code !== 'lower-down' ? outcomeOfPppFailure(f) : undefined;
  }

  /**
   * The server sent LCP Terminate-Request (with its reason, e.g. from
   * `pptp-ts kick --reason`) and cleared the call before our LCP finished.
   */
  private peerTerminatedOutcome(): { code: ExitCode; reason: string } | undefined {
    const text = this.session?.unit.peerTerminateText;
    if (text === undefined) return undefined;
    return outcomeOfPppFailure({ code: 'peer-terminated', message: '', peerMessage: text });
  }

  private onSessionUp(info: SessionInfo): void {
    if (this.outcome) return;
    if (this.wasUp) {
      const prev = this.upInfo;
      if (prev && prev.localAddress === info.localAddress && prev.remoteAddress === info.remoteAddress) {
        this.setupTimer?.cancel();
        this.setupTimer = undefined;
        this.log.log('info', 'the network layer is back');
        return;
      }
      this.finish(ExitCode.NegotiationFailed, 'the server changed the tunnel addresses');
      return;
    }
    this.wasUp = true;
    this.setupTimer?.cancel();
    this.setupTimer = undefined;
    this.hostWork = this.configureHost(info).catch((err: unknown) => {
      if (this.isAbort(err)) return;
      this.finish(ExitCode.Setup, `cannot configure the host: ${(err as Error).message}`);
    });
  }

  /**
   * IPV6CP is up (RFC 5072): once the interface is configured (IPv4 up),
   * add the link-local pair. Renegotiations keep the first pair.
   */
  private onIpv6Up(n: Ipv6cpNegotiated): void {
    if (this.outcome || this.ipv6) return;
    this.ipv6 = n;
    const add = async () => {
      if (this.outcome || !this.upInfo) return; // configureHost adds it once IPv4 is up
      await this.addIpv6(n);
    };
    this.hostWork = this.hostWork.then(add).catch((err: unknown) => {
      if (this.isAbort(err)) return;
      this.finish(ExitCode.Setup, `cannot configure IPv6: ${(err as Error).message}`);
    });
  }

  private async addIpv6(n: Ipv6cpNegotiated): Promise<void> {
    if (this.ipv6Added) return;
    this.ipv6Added = true;
    const ifname = this.tun!.name;
    this.undo.push(await this.env.host.addLinkLocal(ifname, n.localIdentifier, n.remoteIdentifier));
    this.aborter.signal.throwIfAborted();
    this.log.log('info', 'IPv6 up', { ifname, local: n.localLinkLocal, remote: n.remoteLinkLocal });
    this.env.print?.(`  ipv6       ${n.localLinkLocal} peer ${n.remoteLinkLocal}`);
  }

  /** The tunnel is up: interface, routes, DNS, report, ip-up. */
  private async configureHost(info: SessionInfo): Promise<void> {
    const o = this.opts;
    const host = this.env.host;
    const ifname = this.tun!.name;
    const server = this.serverAddress;
    const track = async (p: Promise<Undo>) => {
      const u = await p;
      this.undo.push(u);
      this.aborter.signal.throwIfAborted();
    };
    await track(host.configureInterface(ifname, info.localAddress, info.remoteAddress, info.mtu));
    if (o.hostRoute ?? true) await track(host.addServerRoute(server));
    for (const r of o.routes ?? []) await track(host.addRoute(r, ifname));
    if (o.defaultRoute) await track(host.addDefaultRoute(ifname));
    if (o.usePeerDns && info.dns.length > 0) {
      // systemd-resolved or resolvconf when the host has them (client/resolver.ts), else the file.
      const viaResolver =
        o.resolvConfPath === undefined && host.setPeerDns
          ? await host.setPeerDns(ifname, info.dns).catch((err: Error) => {
              this.log.log('warn', 'DNS not set through the resolver, writing the file', {
                error: err.message,
              });
              return undefined;
            })
          : undefined;
      if (viaResolver) await track(Promise.resolve(viaResolver));
      else await track(host.writeResolvConf(o.resolvConfPath ?? PPP_RESOLV_CONF, info.dns));
    }
    this.upAt = this.clock.now();
    this.upInfo = { ...info, ifname, server };
    const print = this.env.print;
    if (print) {
      print(`connected to ${o.server}${o.server !== server ? ` (${server})` : ''} as ${o.user}`);
      print(`  interface  ${ifname}`);
      print(`  local      ${info.localAddress}`);
      print(`  remote     ${info.remoteAddress}`);
      print(`  dns        ${info.dns.length ? info.dns.join(' ') : 'none'}`);
      print(`  mtu        ${info.mtu}`);
      print(`  auth       ${describeAuth(info.auth)}`);
      print(`  mppe       ${describeMppe(info.mppe)}`);
    }
    this.log.log('info', 'tunnel up', {
      ifname,
      local: info.localAddress,
      remote: info.remoteAddress,
      dns: info.dns.join(' ') || 'none',
      mtu: info.mtu,
      auth: describeAuth(info.auth),
      mppe: describeMppe(info.mppe),
    });
    if (this.ipv6) await this.addIpv6(this.ipv6);
    this.onUp?.(this.upInfo);
    if (o.ipUp && this.env.runHook) {
      this.ipUpRan = true;
      await this.env.runHook(o.ipUp, 'ip-up', this.hookContext());
    }
  }

  private hookContext(down = false): HookContext {
    const info = this.upInfo;
    const c = this.session?.stats.ppp;
    return {
      ifname: this.tun?.name ?? '',
      device: this.serverAddress,
      localIp: info?.localAddress ?? '',
      remoteIp: info?.remoteAddress ?? '',
      peerName: this.opts.server,
      ...(this.opts.ipparam !== undefined ? { ipparam: this.opts.ipparam } : {}),
      ...(info?.dns.length ? { dns: info.dns } : {}),
      ...(down
        ? {
            connectTimeSeconds: (this.clock.now() - this.upAt) / 1000,
            bytesSent: c?.txBytes ?? 0,
            bytesReceived: c?.rxBytes ?? 0,
          }
        : {}),
    };
  }

  /** Everything back as it was, each protocol step bounded in time. */
  private async teardown(outcome: ClientOutcome): Promise<void> {
    this.setupTimer?.cancel();
    this.setupTimer = undefined;
    await this.hostWork;
    const control = this.control;
    const session = this.session;
    const controlAlive = control && !control.isClosed;
    // 1. LCP Terminate (pppd lcp_close), unless the link is already gone.
    if (session && !session.isDead) {
      if (controlAlive && !this.callIsDown) {
        session.close(outcome.code === ExitCode.Ok ? 'User request' : outcome.reason);
        if (!session.isDead) {
          await waitAtMost(this.clock, CLIENT_TEARDOWN.lcpTerminateMs, (wake) => {
            this.sessionDeadWaiter = wake;
          });
        }
      }
      if (!session.isDead) session.lowerDown();
    }
    // 2. Call-Clear-Request → Call-Disconnect-Notify.
    if (control && !control.isClosed && this.callId !== undefined && !this.callIsDown) {
      control.clearCall(this.callId);
      if (!this.callIsDown) {
        await waitAtMost(this.clock, CLIENT_TEARDOWN.callClearMs, (wake) => {
          this.callDownWaiter = wake;
        });
      }
    }
    // 3. Stop-Control-Connection-Request → Reply (then TCP is half-closed by the driver).
    if (control && !control.isClosed) {
      control.stop(PptpStopReason.None);
      if (!control.isClosed) {
        await waitAtMost(this.clock, CLIENT_TEARDOWN.stopMs, (wake) => control.done.then(wake));
      }
    }
    control?.destroy();
    if (!control) this.socket?.destroy();
    // 4. Local resources and host changes.
    session?.destroy();
    try {
      await this.undo.undoAll();
    } catch (err) {
      this.log.log('warn', 'some host changes could not be undone', { error: (err as Error).message });
    }
    if (this.ipUpRan && this.opts.ipDown && this.env.runHook) {
      await this.env.runHook(this.opts.ipDown, 'ip-down', this.hookContext(true));
    }
    this.tun?.close();
    if (this.claimedCallId !== undefined && this.gre) {
      this.gre.endpoint.releaseCallId(this.claimedCallId, parseIpv4(this.serverAddress)!);
    }
    this.gre?.release();
    if (this.wasUp && session) {
      const { ppp: c, gre: g } = session.stats;
      this.log.log('info', 'tunnel down', {
        reason: outcome.reason,
        seconds: Math.round((this.clock.now() - this.upAt) / 1000),
        txBytes: c.txBytes,
        rxBytes: c.rxBytes,
        txPackets: c.txPackets,
        rxPackets: c.rxPackets,
        greQueueDrops: g.txDroppedQueueFull,
        greAckTimeouts: g.txAckTimeouts,
        greWindowAbandoned: g.txWindowAbandoned === 1,
        greLost: g.rxLost,
        greReordered: g.rxReordered,
      });
    }
    this.upInfo = undefined;
  }
}
