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
 * Every failure ends in exactly one {@link ClientOutcome} with an
 * {@link ExitCode} and a one-line reason; {@link ClientSupervisor} adds
 * pppd's `persist`/`maxfail` with back-off on top.
 */
import type { Clock, Timer } from '../io/clock.js';
import type { HookContext, HookResult } from '../io/hooks.js';
import { type Undo, UndoStack } from '../io/ip.js';
import { setupErrorText } from '../io/os-errors.js';
import { plainIpv4, type TcpSocket, type TcpTransport } from '../io/tcp.js';
import type { TunDevice } from '../io/types.js';
import type { AuthMethod, RandomBytes } from '../ppp/auth/index.js';
import type { Ipv6cpNegotiated } from '../ppp/ipv6cp.js';
import type { PppFailure, PppUnitOptions } from '../ppp/unit.js';
import type { PptpCallEndReason, PptpCallParameters, PptpCloseReason } from '../pptp/control-types.js';
import { DEFAULT_RECEIVE_WINDOW } from '../pptp/gre-sequencer.js';
import {
  ControlDriver,
  describeCallEndReason,
  describeCloseReason,
  randomIntFrom,
} from '../session/control.js';
import type { GreEndpoint } from '../session/gre-endpoint.js';
import {
  describeAuth,
  describeMppe,
  type GreTuning,
  PppSession,
  type SessionInfo,
  type SessionStats,
} from '../session/session.js';
import { waitAtMost } from '../session/timers.js';
import { assertNever, parseIpv4 } from '../wire/bytes.js';
import type { Logger } from '../wire/log.js';
import { PptpOutgoingCallResult, PptpStopReason } from '../wire/pptp/index.js';
import { ExitCode, isRetryable } from './exit-codes.js';
import { type ClientHost, PPP_RESOLV_CONF } from './host.js';

/** MPPE policy (`--mppe`): required/optional/off, allowed strengths, stateful or not. */
export interface MppePolicy {
  readonly mode: 'required' | 'optional' | 'off';
  /** Key lengths allowed (default [128]). */
  readonly bits?: readonly (40 | 56 | 128)[];
  /** Ask for stateful mode (RFC 3078 §7.2); default stateless (§7.1). */
  readonly stateful?: boolean;
}

export interface ClientOptions {
  /** Host name or IPv4 address of the server. */
  readonly server: string;
  /** TCP port (default 1723, RFC 2637 §2). */
  readonly port?: number;
  /** pppd `user`. */
  readonly user: string;
  /** pppd `password` (never from the command line: see cli/connect.ts). */
  readonly password: string;
  /** Interface name or pattern (default `pptp%d`). */
  readonly ifname?: string;
  /** pppd `mtu` / `mru` (capped by what the path carries). */
  readonly mtu?: number;
  readonly mru?: number;
  /** Default: required, 128-bit, stateless. */
  readonly mppe?: MppePolicy;
  /** Methods we accept to authenticate ourselves with (default MS-CHAP-v2 only, docs/architecture.md §6). */
  readonly auth?: readonly AuthMethod[];
  /** pppd `defaultroute`. */
  readonly defaultRoute?: boolean;
  /** Routes (CIDR) into the tunnel. */
  readonly routes?: readonly string[];
  /** Pin a host route to the server via the original gateway (default true). */
  readonly hostRoute?: boolean;
  /** pppd `usepeerdns`: write the peer's DNS servers to {@link resolvConfPath}. */
  readonly usePeerDns?: boolean;
  /** Where `usePeerDns` writes (default /etc/ppp/resolv.conf, as pppd). */
  readonly resolvConfPath?: string;
  /** pppd `ip-up` / `ip-down` scripts and `ipparam`. */
  readonly ipUp?: string;
  readonly ipDown?: string;
  readonly ipparam?: string;
  /** pppd `lcp-echo-interval` (s, default 30) and `lcp-echo-failure` (default 4). */
  readonly lcpEchoInterval?: number;
  readonly lcpEchoFailure?: number;
  /** PPTP Echo-Request interval (RFC 2637 §3.1.4), s (default 60). */
  readonly pptpEchoInterval?: number;
  /** TCP connect time-out, ms (default 15 s). */
  readonly connectTimeoutMs?: number;
  /** From TCP connect to the network being up, ms (default 60 s). */
  readonly setupTimeoutMs?: number;
  /** GRE data channel settings (`ignorePeerWindow`, time-outs...). */
  readonly gre?: GreTuning;
  /** The Packet Recv. Window Size we advertise (RFC 2637 §2.7; default {@link DEFAULT_RECEIVE_WINDOW}). */
  readonly receiveWindow?: number;
  /** pppd `+ipv6`: negotiate IPv6CP and put the link-local pair on the interface. */
  readonly ipv6?: boolean;
  /** Extra PPP options (pppd names), applied last. */
  readonly ppp?: Partial<PppUnitOptions>;
}

/** A GRE endpoint the client may use, and how to give it back. */
export interface GreLease {
  readonly endpoint: GreEndpoint;
  /** Closes it (an owned endpoint) or does nothing (a shared one). */
  release(): void;
}

/** Everything the client does to the outside world. */
export interface ClientEnv {
  readonly clock: Clock;
  readonly log: Logger;
  readonly tcp: TcpTransport;
  readonly host: ClientHost;
  /** Opens the network interface (name or `%d` pattern). */
  openTun(name: string): TunDevice;
  /** A GRE endpoint for GRE between `localAddress` and the server. */
  openGre(localAddress: string): GreLease;
  /** Resolves a host name to an IPv4 address (default: only dotted quads are accepted). */
  resolve?(name: string): Promise<string>;
  /** Runs an ip-up/ip-down script (default: none run). */
  runHook?(script: string, name: 'ip-up' | 'ip-down', ctx: HookContext): Promise<HookResult>;
  /** Human-readable status lines (the CLI prints them on stdout). */
  print?(line: string): void;
  readonly random?: RandomBytes;
}

/** How one connection attempt ended. */
export interface ClientOutcome {
  readonly code: ExitCode;
  /** One line for humans. */
  readonly reason: string;
  /** Whether the network came up at some point. */
  readonly wasUp: boolean;
}

/** What the client reports once the tunnel is up. */
export interface ClientUpInfo extends SessionInfo {
  readonly ifname: string;
  readonly server: string;
}

/** Teardown limits: each step is bounded, so the whole teardown is too. */
export const CLIENT_TEARDOWN = {
  /** LCP Terminate-Request → Terminate-Ack. */
  lcpTerminateMs: 3000,
  /** Call-Clear-Request → Call-Disconnect-Notify. */
  callClearMs: 2000,
  /** Stop-Control-Connection-Request → Reply. */
  stopMs: 2000,
} as const;

/** Thrown inside the connection steps to end the attempt with an outcome. */
class ClientFailure extends Error {
  constructor(
    readonly code: ExitCode,
    message: string,
  ) {
    super(message);
  }
}

/** The attempt ended (stop() or a failure) while a step was waiting. */
class Aborted extends Error {}

/** Maps a PPP failure to the client's outcome (see exit-codes.ts). */
export function outcomeOfPppFailure(f: PppFailure): { code: ExitCode; reason: string } {
  switch (f.code) {
    case 'auth-failed': {
      const a = f.auth;
      if (a?.role === 'authenticator' || a?.reason === 'authenticator-response-mismatch') {
        return {
          code: ExitCode.PeerAuthFailed,
          reason: `the server failed to authenticate itself: ${f.message}`,
        };
      }
      const said = a?.message ? `: ${a.message}` : '';
      const why = a ? `${a.reason}${a.error !== undefined ? ` (E=${a.error})` : ''}` : f.message;
      return { code: ExitCode.AuthFailed, reason: `authentication failed, ${why}${said}` };
    }
    case 'auth-refused':
      return { code: ExitCode.NegotiationFailed, reason: `no common authentication method: ${f.message}` };
    case 'mppe-refused':
    case 'mppe-unavailable':
      return { code: ExitCode.MppeRefused, reason: f.message };
    case 'peer-silent':
      return { code: ExitCode.PeerSilent, reason: `the server stopped answering: ${f.message}` };
    case 'loopback':
      return { code: ExitCode.Loopback, reason: f.message };
    case 'peer-terminated':
      return {
        code: ExitCode.HangUp,
        reason: `the server ended the PPP link${f.peerMessage ? ` (${f.peerMessage})` : ''}`,
      };
    case 'closed':
      return { code: ExitCode.Ok, reason: f.message };
    case 'lower-down':
      return { code: ExitCode.HangUp, reason: 'the call went down' };
    case 'negotiation-failed':
      return { code: ExitCode.NegotiationFailed, reason: f.message };
    default:
      return assertNever(f.code, 'PPP failure');
  }
}

/** Maps the end of the control connection to the client's outcome. */
export function outcomeOfControlClose(r: PptpCloseReason): { code: ExitCode; reason: string } {
  const text = describeCloseReason(r);
  switch (r.kind) {
    case 'stopped':
    case 'transport-closed':
      return { code: ExitCode.HangUp, reason: `the server ended the control connection: ${text}` };
    case 'handshake-timeout':
    case 'echo-timeout':
    case 'stop-reply-timeout':
    case 'call-timeout':
    case 'idle-timeout':
      return { code: ExitCode.PeerSilent, reason: `the server stopped answering: ${text}` };
    case 'start-refused':
    case 'start-rejected':
    case 'protocol-error':
    case 'collision':
      return { code: ExitCode.NegotiationFailed, reason: `control connection failed: ${text}` };
    case 'local-close':
      return { code: ExitCode.Ok, reason: text };
    default:
      return assertNever(r, 'close reason');
  }
}

/** Maps the end of our call (before the control connection ends) to the client's outcome. */
export function outcomeOfCallDown(r: PptpCallEndReason): { code: ExitCode; reason: string } | undefined {
  switch (r.kind) {
    case 'rejected': {
      const name = PptpOutgoingCallResult[r.resultCode] ?? `result ${r.resultCode}`;
      return {
        code: ExitCode.NegotiationFailed,
        reason: `the server refused the call: ${name} (result ${r.resultCode}, error ${r.errorCode})`,
      };
    }
    case 'peer-disconnect':
    case 'peer-clear':
      return { code: ExitCode.HangUp, reason: `the server hung up: ${describeCallEndReason(r)}` };
    case 'local-clear':
    case 'connection-closed':
      return undefined; // our own teardown, or reported by the control connection
    default:
      return assertNever(r, 'call end reason');
  }
}

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

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
    const establishing = this.establish().catch((err: unknown) => {
      if (err instanceof Aborted) return;
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
    this.resolveEnded(this.outcome);
  }

  /** Waits for `p`, unless the attempt ends first (then `Aborted`, and `lateCleanup` gets a late value). */
  private async step<T>(p: Promise<T>, lateCleanup?: (v: T) => void): Promise<T> {
    const r = await Promise.race([p.then((v) => ({ v })), this.ended.then(() => undefined)]);
    if (r === undefined) {
      if (lateCleanup) p.then(lateCleanup, () => {});
      else p.catch(() => {});
      throw new Aborted();
    }
    return r.v;
  }

  private checkOpen(): void {
    if (this.outcome) throw new Aborted();
  }

  private async establish(): Promise<void> {
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

    // Server address.
    let server = o.server;
    if (parseIpv4(server) === undefined) {
      if (!env.resolve) throw new ClientFailure(ExitCode.ConnectFailed, `${o.server} is not an IPv4 address`);
      try {
        server = await this.step(env.resolve(o.server));
      } catch (err) {
        if (err instanceof Aborted) throw err;
        throw new ClientFailure(
          ExitCode.ConnectFailed,
          `cannot resolve ${o.server}: ${(err as Error).message}`,
        );
      }
    }
    this.serverAddress = server;

    // Route MTU towards the server (also: is there a route at all).
    let pathMtu: number;
    try {
      pathMtu = await this.step(env.host.pathMtu(server));
    } catch (err) {
      if (err instanceof Aborted) throw err;
      throw new ClientFailure(ExitCode.ConnectFailed, `no route to ${server}: ${(err as Error).message}`);
    }

    // TCP 1723.
    this.log.log('info', 'connecting', { server, port });
    let socket: TcpSocket;
    try {
      socket = await this.step(
        env.tcp.connect(server, port, { timeoutMs: o.connectTimeoutMs ?? 15_000 }),
        (s) => s.destroy(),
      );
    } catch (err) {
      if (err instanceof Aborted) throw err;
      const code = errnoCode(err);
      const what =
        code === 'ECONNREFUSED'
          ? `connection refused by ${server}:${port}`
          : code === 'ETIMEDOUT'
            ? `no answer from ${server}:${port} (timed out)`
            : `cannot reach ${server}:${port}: ${(err as Error).message}`;
      throw new ClientFailure(ExitCode.ConnectFailed, what);
    }
    this.socket = socket;
    socket.on('error', () => {}); // the control driver reports errors
    const local = plainIpv4(socket.localAddress);
    if (!local || parseIpv4(local) === undefined) {
      throw new ClientFailure(ExitCode.ConnectFailed, `the connection to ${server} is not over IPv4`);
    }

    // GRE socket and interface (local set-up: root needed).
    try {
      this.gre = env.openGre(local);
      this.gre.endpoint.start();
      this.tun = env.openTun(o.ifname ?? 'pptp%d');
    } catch (err) {
      throw new ClientFailure(ExitCode.Setup, `cannot set up the tunnel: ${setupErrorText(err)}`);
    }
    this.checkOpen();

    // The control connection and the call.
    const endpoint = this.gre.endpoint;
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
          }
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
      if (err instanceof Aborted) return;
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
      if (err instanceof Aborted) return;
      this.finish(ExitCode.Setup, `cannot configure IPv6: ${(err as Error).message}`);
    });
  }

  private async addIpv6(n: Ipv6cpNegotiated): Promise<void> {
    if (this.ipv6Added) return;
    this.ipv6Added = true;
    const ifname = this.tun!.name;
    this.undo.push(await this.env.host.addLinkLocal(ifname, n.localIdentifier, n.remoteIdentifier));
    this.checkOpen();
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
      this.checkOpen();
    };
    await track(host.configureInterface(ifname, info.localAddress, info.remoteAddress, info.mtu));
    if (o.hostRoute ?? true) await track(host.addServerRoute(server));
    for (const r of o.routes ?? []) await track(host.addRoute(r, ifname));
    if (o.defaultRoute) await track(host.addDefaultRoute(ifname));
    if (o.usePeerDns && info.dns.length > 0) {
      // systemd-resolved or resolvconf when the host has them (client/dns.ts), else the file.
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

export interface SupervisorOptions {
  /** pppd `persist`: reconnect after the link ends. */
  readonly persist?: boolean;
  /** pppd `maxfail`: give up after this many consecutive failed attempts (0 = never; default 10). */
  readonly maxfail?: number;
  /** pppd `holdoff`: the first wait before reconnecting, s (default 5; doubles per failure up to `maxHoldoff`). */
  readonly holdoff?: number;
  /** Longest wait between attempts, s (default 300). */
  readonly maxHoldoff?: number;
}

/**
 * Runs {@link PptpClient} attempts: once, or with `persist` again after a
 * back-off (holdoff × 2^(failures−1), capped), until `stop()`, a failure
 * that cannot get better ({@link isRetryable}), or `maxfail` consecutive
 * attempts that never came up. An attempt that came up resets the count.
 */
export class ClientSupervisor {
  private stopped = false;
  private current: PptpClient | undefined;
  private wakeHoldoff: (() => void) | undefined;
  /** Attempts made so far. */
  attempts = 0;

  constructor(
    private readonly opts: ClientOptions,
    private readonly env: ClientEnv,
    private readonly supervise: SupervisorOptions = {},
    private readonly onClient?: (c: PptpClient) => void,
  ) {}

  async run(): Promise<ClientOutcome> {
    const s = this.supervise;
    const maxfail = s.maxfail ?? 10;
    let failures = 0;
    for (;;) {
      this.attempts++;
      const client = new PptpClient(this.opts, this.env);
      this.current = client;
      this.onClient?.(client);
      if (this.stopped) client.stop();
      const outcome = await client.run();
      this.current = undefined;
      if (this.stopped || !s.persist || !isRetryable(outcome.code)) return outcome;
      // pppd maxfail counts consecutive attempts that never came up; a session that was up starts afresh.
      failures = outcome.wasUp ? 0 : failures + 1;
      if (maxfail > 0 && failures >= maxfail) {
        this.env.log.log('warn', `giving up after ${failures} failed attempts`);
        return outcome;
      }
      const holdoff = Math.min((s.holdoff ?? 5) * 2 ** Math.max(0, failures - 1), s.maxHoldoff ?? 300);
      this.env.log.log('info', `reconnecting in ${holdoff} s`, {
        reason: outcome.reason,
        attempt: this.attempts,
      });
      this.env.print?.(`${outcome.reason}; reconnecting in ${holdoff} s`);
      await new Promise<void>((resolve) => {
        const t = this.env.clock.setTimer(holdoff * 1000, () => resolve());
        this.wakeHoldoff = () => {
          t.cancel();
          resolve();
        };
      });
      this.wakeHoldoff = undefined;
      if (this.stopped) return { code: ExitCode.Ok, reason: 'stopped on request', wasUp: false };
    }
  }

  /** Stops the current attempt (cleanly) and any further ones. */
  stop(): void {
    this.stopped = true;
    this.current?.stop();
    this.wakeHoldoff?.();
  }
}
