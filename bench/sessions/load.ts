/**
 * The load generator's sessions: the project's own client engines
 * (src/session, src/pptp, src/ppp: SCCRQ/OCRQ, LCP, MS-CHAP-v2, CCP/MPPE,
 * IPCP) without a TUN per session. Every session is its own PPTP control
 * connection (its own TCP connection) with one call, like real clients; with
 * `callsPerConnection > 1` one control connection carries several calls
 * (RFC 2637 §1.2: "a PPTP control connection ... may carry many sessions").
 * All calls share one {@link GreEndpoint} (one raw GRE socket), which
 * demultiplexes by Call ID as the server does.
 *
 * ```
 *  open(): a window of `concurrency` connections in flight
 *    TCP connect ─▶ SCCRQ/SCCRP ─▶ OCRQ/OCRP (×K) ─▶ PppSession ─▶ LCP, MS-CHAP-v2, CCP, IPCP ─▶ up
 *  ping(): ICMP Echo from a sample of sessions to the server's tunnel address, through the tunnel
 *  close(): LCP Terminate ─▶ Call-Clear-Request ─▶ Stop-Control-Connection-Request ─▶ TCP FIN
 * ```
 *
 * Sans-host: nothing here opens sockets itself; the TCP transport, GRE
 * endpoint and clock come in, so the same code runs on the in-memory
 * networks in the unit test and on the real ones in generator.ts.
 */
import type { Clock, Timer } from '../../src/io/clock.js';
import { plainIpv4, type TcpSocket, type TcpTransport } from '../../src/io/tcp.js';
import { type Logger, nullLogger } from '../../src/log/logger.js';
import type { PppFailure, PppUnitOptions } from '../../src/ppp/unit.js';
import type { PptpCallParameters, PptpCloseReason } from '../../src/pptp/control-types.js';
import {
  ControlDriver,
  describeCallEndReason,
  describeCloseReason,
} from '../../src/session/control-driver.js';
import type { GreEndpoint } from '../../src/session/gre-endpoint.js';
import { PppSession } from '../../src/session/session.js';
import { waitAtMost } from '../../src/session/timers.js';
import { parseIpv4 } from '../../src/wire/bytes.js';
import { IpProtocol, internetChecksum, writeIpv4Header } from '../../src/wire/ipv4.js';
import { PppProtocol } from '../../src/wire/ppp.js';
import { PptpStopReason } from '../../src/wire/pptp/index.js';

/** What every generated session uses. */
export interface LoadConfig {
  /** The server's outer IPv4 address. */
  readonly server: string;
  readonly port: number;
  /** TCP source address (default: the kernel picks). */
  readonly localAddress?: string;
  /**
   * TCP source addresses to spread the connections over, connection `i` of
   * an `open` from `localAddresses[i % K]` (overrides `localAddress`): one
   * source address gives a client at most one ephemeral port range of
   * connections to the server's port 1723.
   */
  readonly localAddresses?: readonly string[];
  /** Credentials of session `i` (the bench writes the matching chap-secrets). */
  credentials(i: number): { user: string; password: string };
  /** Calls per control connection (default 1: one TCP connection per session, as real clients). */
  readonly callsPerConnection?: number;
  /** pppd `lcp-echo-interval`, s (default 30, as `pptp-ts connect`); 0 = off. */
  readonly lcpEchoInterval?: number;
  readonly lcpEchoFailure?: number;
  /** PPTP Echo-Request interval, s (default 60, RFC 2637 §3.1.4). */
  readonly pptpEchoInterval?: number;
  /** From TCP connect to IPCP up (default 60 s): a session that takes longer counts as failed. */
  readonly setupTimeoutMs?: number;
  /** MPPE-128 stateless required (default true); false: MPPE off. */
  readonly mppe?: boolean;
  /** Path MTU towards the server (default 1500). */
  readonly pathMtu?: number;
  /** Extra PPP options, applied last. */
  readonly ppp?: Partial<PppUnitOptions>;
  /** GRE acknowledgment-only delay, ms (default 100; 0: acknowledgments ride on data only). */
  readonly ackTimeoutMs?: number;
}

/** Teardown limits, as `pptp-ts connect` (src/client/client.ts CLIENT_TEARDOWN). */
export const LOAD_TEARDOWN = { lcpTerminateMs: 3000, callClearMs: 2000, stopMs: 2000 } as const;

/** One session's fate. */
export interface SessionRecord {
  readonly index: number;
  /** Clock time the connection attempt started (TCP connect). */
  startedAt: number;
  /** Clock time IPv4 started passing (IPCP up and MPPE up), once it has. */
  upAt: number | undefined;
  /** Why it failed or ended early, once it has. */
  failure: string | undefined;
  /** The TCP connection's source address once connected (dotted quad). */
  source?: string;
  /** Tunnel addresses once up. */
  localAddress: number | undefined;
  remoteAddress: number | undefined;
  /** Whether the teardown went through every protocol step (LCP Terminate-Ack, CDN, StopCCRP). */
  cleanClose: boolean | undefined;
}

type Waiter = () => void;

/** A call on a control connection: its PPP session and what it has become. */
class LoadCall {
  session: PppSession | undefined;
  callId: number | undefined;
  callDown = false;
  dead: PppFailure | undefined;
  onDead: Waiter | undefined;
  onCallDown: Waiter | undefined;
  onUp: Waiter | undefined;
  /** ICMP echo replies seen (sequence numbers of the echo we sent). */
  echoReplies = 0;
  onEcho: ((seq: number) => void) | undefined;

  constructor(readonly record: SessionRecord) {}
}

/** Counts of how things ended, for the report. */
export type FailureTally = Record<string, number>;

/** Shortens a failure text to a stable tally key (numbers stripped). */
export function failureKey(text: string): string {
  return text.replace(/\d+/g, 'N').slice(0, 120);
}

/** One control connection with its calls. */
class LoadConnection {
  socket: TcpSocket | undefined;
  control: ControlDriver | undefined;
  readonly calls: LoadCall[];
  closed: PptpCloseReason | undefined;
  private pending = 0;
  private claimed: number[] = [];

  constructor(
    private readonly gen: LoadGenerator,
    records: SessionRecord[],
    /** Which connection of its `open` this is (picks the source address). */
    private readonly ordinal: number,
  ) {
    this.calls = records.map((r) => new LoadCall(r));
  }

  /** Connects and negotiates; resolves when every call is up or failed. */
  async open(): Promise<void> {
    const gen = this.gen;
    const cfg = gen.config;
    const clock = gen.clock;
    const serverNum = parseIpv4(cfg.server)!;
    const setupMs = cfg.setupTimeoutMs ?? 60_000;
    const settled = new Promise<void>((resolve) => {
      this.pending = this.calls.length;
      for (const c of this.calls) {
        c.onUp = () => {
          c.onUp = undefined;
          if (--this.pending === 0) resolve();
        };
      }
    });
    const fail = (c: LoadCall, why: string) => {
      if (c.record.upAt !== undefined) {
        // Up before: this is the session ending (the report counts it as lost unless we are closing).
        if (!gen.closing) c.record.failure ??= why;
        return;
      }
      if (c.record.failure !== undefined) return;
      c.record.failure = why;
      c.onUp?.();
    };
    const failAll = (why: string) => {
      for (const c of this.calls) fail(c, why);
    };
    const timer: Timer = clock.setTimer(setupMs, () =>
      failAll(`not up within ${Math.round(setupMs / 1000)} s`),
    );
    try {
      this.socket = await cfg.tcpConnect(this.ordinal);
    } catch (err) {
      timer.cancel();
      failAll(`TCP connect: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      return settled;
    }
    const socket = this.socket;
    socket.on('error', () => {}); // the control driver reports errors
    const local = plainIpv4(socket.localAddress) ?? '';
    for (const c of this.calls) c.record.source = local;
    if (parseIpv4(local) === undefined) {
      timer.cancel();
      socket.destroy();
      failAll('the connection is not over IPv4');
      return settled;
    }
    const toPlace = [...this.calls];
    const control = new ControlDriver(
      socket,
      {
        role: 'pns',
        hostName: '',
        log: gen.log,
        isCallIdAvailable: (id) => {
          if (!gen.endpoint.claimCallId(id, serverNum)) return false;
          this.claimed.push(id);
          return true;
        },
        timers: { echoIntervalMs: (cfg.pptpEchoInterval ?? 60) * 1000 },
      },
      clock,
      {
        established: () => {
          for (const c of toPlace) {
            try {
              c.callId = control.placeCall();
            } catch (err) {
              fail(c, `cannot place the call: ${(err as Error).message}`);
            }
          }
        },
        callUp: (call) => {
          const c = this.calls.find((x) => x.callId === call.callId);
          if (!c) return;
          try {
            this.startSession(c, call, local);
          } catch (err) {
            fail(c, `cannot start the session: ${(err as Error).message}`);
          }
        },
        callDown: (callId, reason) => {
          const c = this.calls.find((x) => x.callId === callId);
          if (!c) return;
          c.callDown = true;
          c.onCallDown?.();
          if (reason.kind !== 'connection-closed') fail(c, `call: ${describeCallEndReason(reason)}`);
          c.session?.lowerDown();
        },
        closed: (reason) => {
          this.closed = reason;
          for (const c of this.calls) {
            c.callDown = true;
            c.onCallDown?.();
            fail(c, `control connection: ${describeCloseReason(reason)}`);
            c.session?.lowerDown();
          }
        },
      },
    );
    this.control = control;
    control.start();
    await settled;
    timer.cancel();
    // Claims whose call never came up (refused, failed) go back.
    for (const id of this.claimed) {
      if (!this.calls.some((c) => c.callId === id && c.session)) gen.endpoint.releaseCallId(id, serverNum);
    }
    this.claimed = [];
  }

  private startSession(c: LoadCall, call: PptpCallParameters, local: string): void {
    const gen = this.gen;
    const cfg = gen.config;
    const { user, password } = cfg.credentials(c.record.index);
    const mppe: Partial<PppUnitOptions> =
      cfg.mppe === false ? { nomppe: true } : { requireMppe128: true, mppeStateful: false };
    const session = new PppSession({
      call,
      localAddress: local,
      peerAddress: cfg.server,
      pathMtu: cfg.pathMtu ?? 1500,
      ...(cfg.ackTimeoutMs !== undefined ? { gre: { ackTimeoutMs: cfg.ackTimeoutMs } } : {}),
      ppp: {
        user,
        password,
        refusePap: true,
        refuseChap: true,
        refuseMschap: true,
        lcpEchoInterval: cfg.lcpEchoInterval ?? 30,
        lcpEchoFailure: cfg.lcpEchoFailure ?? 4,
        ...mppe,
        ...cfg.ppp,
      },
      endpoint: gen.endpoint,
      clock: gen.clock,
      log: gen.log,
      ports: {
        deliver: (protocol, packet) => {
          if (protocol === PppProtocol.Ipv4) onEchoReply(c, packet);
        },
      },
      events: {
        up: (info) => {
          if (c.record.upAt !== undefined) return;
          c.record.upAt = gen.clock.now();
          c.record.localAddress = parseIpv4(info.localAddress);
          c.record.remoteAddress = parseIpv4(info.remoteAddress);
          c.onUp?.();
        },
        dead: (failure) => {
          c.dead = failure;
          if (c.record.upAt === undefined) {
            if (c.record.failure === undefined) {
              c.record.failure = `PPP: ${failure.message}`;
              c.onUp?.();
            }
          } else if (!gen.closing) {
            c.record.failure ??= `PPP ended while idle: ${failure.message}`;
          }
          c.onDead?.();
        },
      },
    });
    c.session = session;
    session.start();
  }

  /** Tears the connection down step by step, each step bounded (as `pptp-ts connect`). */
  async close(): Promise<void> {
    const clock = this.gen.clock;
    const control = this.control;
    let clean = true;
    // 1. LCP Terminate-Request → Terminate-Ack, for every live call.
    const live = this.calls.filter((c) => c.session && !c.session.isDead && !c.callDown);
    for (const c of live) c.session!.close('User request');
    await Promise.all(
      live.map((c) =>
        c.session!.isDead
          ? undefined
          : waitAtMost(clock, LOAD_TEARDOWN.lcpTerminateMs, (w) => {
              c.onDead = w;
            }),
      ),
    );
    for (const c of this.calls) {
      if (c.session && !c.session.isDead) {
        clean = false;
        c.session.lowerDown();
      }
    }
    // 2. Call-Clear-Request → Call-Disconnect-Notify.
    if (control && !control.isClosed) {
      const clearing = this.calls.filter((c) => c.callId !== undefined && !c.callDown);
      for (const c of clearing) control.clearCall(c.callId!);
      await Promise.all(
        clearing.map((c) =>
          c.callDown
            ? undefined
            : waitAtMost(clock, LOAD_TEARDOWN.callClearMs, (w) => {
                c.onCallDown = w;
              }),
        ),
      );
      if (clearing.some((c) => !c.callDown)) clean = false;
    }
    // 3. Stop-Control-Connection-Request → Reply, then TCP half-close (by the driver).
    if (control && !control.isClosed) {
      control.stop(PptpStopReason.None);
      if (!control.isClosed) {
        await waitAtMost(clock, LOAD_TEARDOWN.stopMs, (wake) => control.done.then(wake));
      }
      if (!control.isClosed || this.closed?.kind !== 'stopped') clean = false;
    }
    control?.destroy();
    if (!control) this.socket?.destroy();
    for (const c of this.calls) {
      c.session?.destroy();
      if (c.record.cleanClose === undefined) c.record.cleanClose = clean && c.record.upAt !== undefined;
    }
  }

  /**
   * Drops the connection without a word to the peer (it is gone): the TCP
   * socket, the control engine and every session, whose calls leave the
   * GRE endpoint.
   */
  drop(): void {
    this.control?.destroy();
    this.socket?.destroy();
    for (const c of this.calls) c.session?.destroy();
  }

  /** Sessions of this connection still passing IPv4. */
  upCalls(): LoadCall[] {
    return this.calls.filter((c) => c.session?.info !== undefined && !c.session.isDead);
  }

  /** Whether every call of this connection ended (nothing more will happen). */
  get finished(): boolean {
    return this.calls.every((c) => c.session === undefined || c.session.isDestroyed);
  }
}

// ─── ICMP echo through the tunnel ───────────────────────────────────────────

/** ICMP Echo identifier the generator uses (RFC 792). */
export const ECHO_IDENTIFIER = 0x7074;
const ICMP_HEADER = 8;
const ECHO_PAYLOAD = 56;

/** An IPv4 ICMP Echo Request (RFC 792) from `src` to `dst` with `seq`, checksums computed. */
export function buildEchoRequest(src: number, dst: number, seq: number): Uint8Array {
  const p = new Uint8Array(20 + ICMP_HEADER + ECHO_PAYLOAD);
  writeIpv4Header(p, 0, ICMP_HEADER + ECHO_PAYLOAD, seq, true, 64, IpProtocol.Icmp, src, dst);
  p[20] = 8; // Echo
  p[21] = 0;
  p[24] = ECHO_IDENTIFIER >>> 8;
  p[25] = ECHO_IDENTIFIER & 0xff;
  p[26] = (seq >>> 8) & 0xff;
  p[27] = seq & 0xff;
  for (let i = 0; i < ECHO_PAYLOAD; i++) p[28 + i] = (seq + i) & 0xff;
  const sum = internetChecksum(p, 20, ICMP_HEADER + ECHO_PAYLOAD);
  p[22] = sum >>> 8;
  p[23] = sum & 0xff;
  return p;
}

/**
 * Whether `p` is the ICMP Echo Reply to {@link buildEchoRequest}(src, dst,
 * seq) coming back (source and destination swapped, same identifier,
 * sequence and payload, valid ICMP checksum). Returns the sequence number, or -1.
 */
export function parseEchoReply(p: Uint8Array, expectSrc: number, expectDst: number): number {
  if (p.length < 20 || p[0]! >>> 4 !== 4) return -1;
  const ihl = (p[0]! & 0x0f) * 4;
  const total = (p[2]! << 8) | p[3]!;
  if (ihl < 20 || total > p.length || total < ihl + ICMP_HEADER + ECHO_PAYLOAD) return -1;
  if (p[9] !== IpProtocol.Icmp) return -1;
  const src = ((p[12]! << 24) | (p[13]! << 16) | (p[14]! << 8) | p[15]!) >>> 0;
  const dst = ((p[16]! << 24) | (p[17]! << 16) | (p[18]! << 8) | p[19]!) >>> 0;
  if (src !== expectSrc || dst !== expectDst) return -1;
  if (p[ihl] !== 0 || p[ihl + 1] !== 0) return -1; // Echo Reply
  if (internetChecksum(p, ihl, total - ihl) !== 0) return -1;
  if (((p[ihl + 4]! << 8) | p[ihl + 5]!) !== ECHO_IDENTIFIER) return -1;
  const seq = (p[ihl + 6]! << 8) | p[ihl + 7]!;
  for (let i = 0; i < ECHO_PAYLOAD; i++) if (p[ihl + 8 + i] !== ((seq + i) & 0xff)) return -1;
  return seq;
}

function onEchoReply(c: LoadCall, packet: Uint8Array): void {
  const r = c.record;
  if (r.localAddress === undefined || r.remoteAddress === undefined) return;
  const seq = parseEchoReply(packet, r.remoteAddress, r.localAddress);
  if (seq < 0) return;
  c.echoReplies++;
  c.onEcho?.(seq);
}

// ─── The generator ──────────────────────────────────────────────────────────

/** The environment: how to reach the server and the shared GRE endpoint. */
export interface LoadEnv {
  readonly clock: Clock;
  readonly tcp: TcpTransport;
  readonly endpoint: GreEndpoint;
  readonly log?: Logger;
}

export interface OpenProgress {
  readonly up: number;
  readonly failed: number;
  readonly started: number;
}

export interface OpenResult {
  /** Clock time the first connection attempt started, and the last session came up or failed. */
  readonly startedAt: number;
  readonly endedAt: number;
  readonly up: number;
  readonly failed: number;
  readonly failures: FailureTally;
}

export interface PingResult {
  readonly sessions: number;
  readonly replied: number;
  /** Round-trip times of the replies, ms. */
  readonly rttMs: number[];
}

export interface HoldStatus {
  /** Sessions that came up and still pass IPv4. */
  readonly up: number;
  /** Sessions that came up and ended since (echo time-outs, hang-ups...). */
  readonly lost: number;
  readonly failures: FailureTally;
}

export interface CloseResult {
  readonly closed: number;
  /** Sessions whose teardown did every protocol step. */
  readonly clean: number;
  readonly durationMs: number;
}

/** Many sessions against one server. */
export class LoadGenerator {
  readonly records: SessionRecord[] = [];
  readonly clock: Clock;
  readonly endpoint: GreEndpoint;
  readonly log: Logger;
  readonly config: LoadConfig & { tcpConnect(ordinal: number): Promise<TcpSocket> };
  private readonly connections: LoadConnection[] = [];
  closing = false;

  constructor(config: LoadConfig, env: LoadEnv) {
    this.clock = env.clock;
    this.endpoint = env.endpoint;
    this.log = env.log ?? nullLogger;
    const tcp = env.tcp;
    const sources = config.localAddresses?.length
      ? config.localAddresses
      : config.localAddress
        ? [config.localAddress]
        : [];
    this.config = {
      ...config,
      credentials: config.credentials,
      tcpConnect: (ordinal) => {
        const localAddress = sources.length ? sources[ordinal % sources.length] : undefined;
        return tcp.connect(config.server, config.port, {
          timeoutMs: 15_000,
          ...(localAddress ? { localAddress } : {}),
        });
      },
    };
  }

  /**
   * Opens `count` sessions, at most `concurrency` connections being set up
   * at once (a connection is done when its calls are up or failed).
   * `onProgress` is called after each connection settles.
   */
  async open(
    count: number,
    concurrency: number,
    onProgress?: (p: OpenProgress) => void,
  ): Promise<OpenResult> {
    const k = Math.max(1, this.config.callsPerConnection ?? 1);
    const first = this.records.length;
    const startedAt = this.clock.now();
    let next = 0;
    let up = 0;
    let failed = 0;
    const connCount = Math.ceil(count / k);
    const worker = async () => {
      for (;;) {
        const ci = next++;
        if (ci >= connCount) return;
        const recs: SessionRecord[] = [];
        for (let j = 0; j < k && ci * k + j < count; j++) {
          const r: SessionRecord = {
            index: first + ci * k + j,
            startedAt: this.clock.now(),
            upAt: undefined,
            failure: undefined,
            localAddress: undefined,
            remoteAddress: undefined,
            cleanClose: undefined,
          };
          this.records.push(r);
          recs.push(r);
        }
        const conn = new LoadConnection(this, recs, ci);
        this.connections.push(conn);
        await conn.open();
        for (const r of recs) {
          if (r.upAt !== undefined) up++;
          else failed++;
        }
        onProgress?.({ up, failed, started: Math.min(count, next * k) });
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, connCount)) }, worker));
    const failures: FailureTally = {};
    let endedAt = startedAt;
    for (const r of this.records.slice(first)) {
      if (r.failure !== undefined && r.upAt === undefined) {
        const key = failureKey(r.failure);
        failures[key] = (failures[key] ?? 0) + 1;
      }
      endedAt = Math.max(endedAt, r.upAt ?? r.startedAt);
    }
    return { startedAt, endedAt, up, failed, failures };
  }

  /**
   * Forgets every connection and session without a teardown, after the
   * server went away (a login storm's restart): sockets closed, sessions
   * destroyed, their Call IDs free again, and the records cleared so that
   * the next `open` numbers its sessions (and users) from 0 again.
   * Returns how many sessions it forgot.
   */
  forget(): number {
    for (const conn of this.connections.splice(0)) conn.drop();
    const n = this.records.length;
    this.records.length = 0;
    return n;
  }

  /** Sessions up now. */
  status(): HoldStatus {
    let upNow = 0;
    let lost = 0;
    const failures: FailureTally = {};
    for (const conn of this.connections) {
      for (const c of conn.calls) {
        if (c.record.upAt === undefined) continue;
        if (c.session?.info !== undefined && !c.session.isDead) upNow++;
        else {
          lost++;
          const key = failureKey(c.record.failure ?? c.dead?.message ?? 'ended');
          failures[key] = (failures[key] ?? 0) + 1;
        }
      }
    }
    return { up: upNow, lost, failures };
  }

  /**
   * Sends one ICMP Echo Request through the tunnel from `sample` sessions
   * (spread evenly over the live ones) to the server's tunnel address and
   * waits up to `timeoutMs` for the replies.
   */
  async ping(sample: number, timeoutMs = 5000): Promise<PingResult> {
    const live = this.connections.flatMap((c) => c.upCalls());
    const n = Math.min(sample, live.length);
    const chosen: LoadCall[] = [];
    for (let i = 0; i < n; i++) chosen.push(live[Math.floor((i * live.length) / n)]!);
    const rtt: number[] = [];
    await Promise.all(
      chosen.map(
        (c, i) =>
          new Promise<void>((resolve) => {
            const seq = (i + 1) & 0xffff;
            const sentAt = this.clock.now();
            let timer: Timer | undefined;
            const done = () => {
              timer?.cancel();
              c.onEcho = undefined;
              resolve();
            };
            c.onEcho = (s) => {
              if (s !== seq) return;
              rtt.push(this.clock.now() - sentAt);
              done();
            };
            timer = this.clock.setTimer(timeoutMs, done);
            const r = c.record;
            c.session!.sendPacket(buildEchoRequest(r.localAddress!, r.remoteAddress!, seq));
            this.endpoint.flush();
          }),
      ),
    );
    return { sessions: n, replied: rtt.length, rttMs: rtt };
  }

  /** Tears every connection down, `concurrency` at a time. */
  async close(concurrency: number): Promise<CloseResult> {
    this.closing = true;
    const t0 = this.clock.now();
    const conns = this.connections.splice(0);
    let next = 0;
    const worker = async () => {
      for (;;) {
        const i = next++;
        if (i >= conns.length) return;
        await conns[i]!.close();
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, conns.length)) }, worker));
    let closed = 0;
    let clean = 0;
    for (const conn of conns) {
      for (const c of conn.calls) {
        if (c.record.upAt === undefined) continue;
        closed++;
        if (c.record.cleanClose) clean++;
      }
    }
    return { closed, clean, durationMs: this.clock.now() - t0 };
  }
}
