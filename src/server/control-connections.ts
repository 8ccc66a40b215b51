/**
 * The server's control connections (RFC 2637 §1.2, docs/client-server.md
 * "Limits"): accepting a TCP connection (limits per source address), the
 * PAC engine's configuration and events, the handshake time-out, the
 * admission of each Outgoing-Call-Request, and the end of the connection.
 *
 * Memory: a server holds thousands of connections. Each has one record
 * ({@link Connection}) and one {@link ConnectionHooks} (engine configuration
 * and event handlers, methods on the prototype), not a dozen closures.
 */

import type { Clock, Timer } from '../io/clock.js';
import { plainIpv4, type TcpSocket } from '../io/tcp.js';
import type { Logger } from '../log/logger.js';
import type { RandomBytes } from '../ppp/auth/index.js';
import { CallIdMap } from '../pptp/call-id-map.js';
import type {
  PptpAdmission,
  PptpCallEndReason,
  PptpCallParameters,
  PptpCloseReason,
  PptpControlConfig,
  PptpControlLimits,
  PptpControlTimers,
} from '../pptp/control-types.js';
import {
  ControlDriver,
  type ControlEvents,
  type ControlWriteLimits,
  describeCallEndReason,
  describeCloseReason,
  randomIntFrom,
} from '../session/control-driver.js';
import { parseIpv4 } from '../wire/bytes.js';
import { PptpStopReason } from '../wire/pptp/index.js';
import {
  type CallRefusal,
  countRefusal,
  RateLimitedLogger,
  refusalAnswer,
  type WarnBuckets,
} from './admission.js';
import type { CallLifecycle } from './call-lifecycle.js';
import type { ServerConfig } from './config.js';
import { causeOfCallEnd, causeOfClose } from './end-cause.js';
import { demoteInfo, lazyChild } from './lazy-log.js';
import type { Connection, ServerCounters } from './server-types.js';

/** One control connection's engine configuration and event handlers. */
class ConnectionHooks implements PptpControlConfig, ControlEvents {
  readonly role = 'pac' as const;
  readonly log: Logger;
  readonly hostName: string;
  readonly packetRecvWindowSize: number;
  readonly maximumChannels: number;
  readonly timers: Partial<PptpControlTimers>;
  readonly limits: Partial<PptpControlLimits>;
  readonly randomInt: ((n: number) => number) | undefined;

  constructor(
    private readonly conns: ControlConnections,
    private readonly conn: Connection,
    /** The peer's address (uint32): Call IDs are unique per peer address. */
    private readonly peer: number,
  ) {
    const cfg = conns.config;
    this.log = conn.log.wrap(demoteInfo(conn.log.inner));
    this.hostName = cfg.name;
    this.packetRecvWindowSize = cfg.pptp['receive-window'];
    this.maximumChannels = Math.min(cfg.limits['max-sessions'], 0xffff);
    this.timers = conns.controlTimers;
    this.limits = conns.controlLimits;
    this.randomInt = conns.randomInt;
  }

  isCallIdAvailable(callId: number): boolean {
    return !this.conns.calls.endpoint!.isCallIdTaken(callId, this.peer);
  }

  admitOutgoingCall(): PptpAdmission {
    const conns = this.conns;
    const calls = conns.calls;
    const limits = conns.config.limits;
    const refusal: CallRefusal | undefined = conns.stopping
      ? 'shutting down'
      : calls.callCount >= limits['max-sessions']
        ? 'max-sessions'
        : this.conn.driver.engine.callCount >= limits['max-calls-per-connection']
          ? 'max-calls-per-connection'
          : calls.admission.check(this.conn.remote);
    if (refusal === undefined) return { accept: true };
    countRefusal(conns.counters, refusal);
    this.conn.log.log('warn', 'call refused', { reason: refusal });
    return refusalAnswer(refusal);
  }

  overflow(detail: string): void {
    this.conns.counters.controlWriteOverflows++;
    this.conn.log.log('warn', 'control connection dropped: the peer does not read what we send', {
      detail,
    });
  }

  callUp(call: PptpCallParameters): void {
    this.conns.calls.startCall(this.conn, call);
  }

  callDown(callId: number, reason: PptpCallEndReason): void {
    // The end of the whole connection is reported by `closed`, with its reason.
    if (reason.kind === 'connection-closed') return;
    const call = this.conn.calls.get(callId);
    if (!call) return;
    call.endCause ??= causeOfCallEnd(reason);
    this.conns.calls.endCall(call, describeCallEndReason(reason));
  }

  closed(reason: PptpCloseReason): void {
    this.conns.closed(this.conn, reason);
  }
}

/**
 * The longest a connection holds a set-up slot (`limits.setup-concurrency`)
 * without a session coming up: a peer that stalls its set-up (or a slow
 * RADIUS answer) holds up the connections waiting behind it for at most
 * this long; it then goes on without the slot.
 */
export const SETUP_SLOT_HOLD_MS = 5000;

/** An accepted connection waiting, unread, for a set-up slot. */
interface WaitingConnection {
  readonly socket: TcpSocket;
  readonly remote: string;
  readonly local: string;
  readonly acceptedAt: number;
  /** Its handshake time-out, from the accept. */
  timer: Timer | undefined;
  /** Closed while waiting (its slot in the queue is skipped). */
  dropped: boolean;
  /** Swallows a socket error while nothing reads it (the driver reports them once it runs). */
  readonly onError: () => void;
}

/** Every control connection of one server. */
export class ControlConnections {
  /** Live control connections. */
  readonly connections = new Set<Connection>();
  /** Live control connections per source address. */
  private readonly perAddress = new Map<string, number>();
  private nextConnId = 1;
  /** Shutting down: new connections and calls are refused. */
  stopping = false;
  /** Connections holding a set-up slot (`limits.setup-concurrency`). */
  private settingUp = 0;
  /** Connections waiting for a slot, oldest first from `waitingHead` (slots before it are spent). */
  private waiting: (WaitingConnection | undefined)[] = [];
  private waitingHead = 0;
  readonly controlTimers: Partial<PptpControlTimers>;
  readonly controlLimits: Partial<PptpControlLimits>;
  readonly randomInt: ((n: number) => number) | undefined;
  private readonly writeLimits: ControlWriteLimits;
  private readonly now = (): number => this.clock.now();

  constructor(
    /** Read at each connection: a reload changes its limits. */
    readonly config: ServerConfig,
    private readonly clock: Clock,
    private readonly log: Logger,
    readonly counters: ServerCounters,
    /** Server-wide warning buckets (each connection also has its own). */
    private readonly warnings: WarnBuckets,
    readonly calls: CallLifecycle,
    random: RandomBytes | undefined,
  ) {
    const limits = config.limits;
    this.writeLimits = {
      highWaterBytes: limits['control-write-high-water'],
      limitBytes: limits['control-write-limit'],
      stallTimeoutMs: limits['control-write-stall-timeout'] * 1000,
    };
    // The engine's own per-connection cap stays one above ours as a backstop, so that our
    // refusal (counted and logged) is the one a peer meets.
    this.controlLimits = { maxCalls: Math.min(limits['max-calls-per-connection'] + 1, 0xffff) };
    const handshakeMs = limits['handshake-timeout'] * 1000;
    const echoMs = config.pptp['echo-interval'] * 1000;
    this.controlTimers = {
      handshakeTimeoutMs: handshakeMs,
      echoIntervalMs: echoMs,
      echoReplyTimeoutMs: echoMs > 0 ? echoMs : 60_000,
      idleTimeoutMs: handshakeMs,
    };
    this.randomInt = random ? randomIntFrom(random) : undefined;
    calls.connectionSetUp = (conn) => this.releaseSetupSlot(conn);
  }

  /** A TCP connection came in: refused (too many from its address, shutting down, not IPv4) or started. */
  accept(socket: TcpSocket): void {
    const remote = plainIpv4(socket.remoteAddress) ?? '';
    const local = plainIpv4(socket.localAddress) ?? '';
    const limit = this.config.limits['max-connections-per-address'];
    const n = this.perAddress.get(remote) ?? 0;
    if (this.stopping || n >= limit || parseIpv4(remote) === undefined || parseIpv4(local) === undefined) {
      this.counters.connectionsRefused++;
      this.log.log('warn', 'connection refused', {
        peer: remote,
        reason: this.stopping
          ? 'shutting down'
          : n >= limit
            ? `${n} connections from this address`
            : 'not IPv4',
      });
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    this.perAddress.set(remote, n + 1);
    this.counters.connectionsAccepted++;
    const acceptedAt = this.clock.now();
    const slots = this.config.limits['setup-concurrency'];
    if (slots > 0 && this.settingUp >= slots) {
      this.wait(socket, remote, local, acceptedAt);
      return;
    }
    this.begin(socket, remote, local, acceptedAt, false);
  }

  /** Connections waiting for a set-up slot. */
  get waitingCount(): number {
    let n = 0;
    for (let i = this.waitingHead; i < this.waiting.length; i++) if (this.waiting[i]?.dropped === false) n++;
    return n;
  }

  /**
   * Every set-up slot is taken: the connection waits, unread (what the
   * peer sent stays in the kernel), until one frees. Its handshake
   * time-out runs from the accept, so a connection that waits too long
   * is closed as one that took too long.
   */
  private wait(socket: TcpSocket, remote: string, local: string, acceptedAt: number): void {
    this.counters.connectionsQueued++;
    socket.pause();
    const w: WaitingConnection = {
      socket,
      remote,
      local,
      acceptedAt,
      timer: undefined,
      dropped: false,
      onError: () => {},
    };
    socket.on('error', w.onError);
    w.timer = this.clock.setTimer(this.config.limits['handshake-timeout'] * 1000, () => {
      w.timer = undefined;
      this.counters.handshakeTimeouts++;
      this.log.log('warn', 'no set-up slot in time: closing', { peer: remote });
      this.dropWaiting(w);
    });
    this.waiting.push(w);
  }

  /** Ends a waiting connection (time-out, shutdown): the socket goes, its address counts one less. */
  private dropWaiting(w: WaitingConnection): void {
    if (w.dropped) return;
    w.dropped = true;
    w.timer?.cancel();
    w.timer = undefined;
    w.socket.destroy();
    this.forgetAddress(w.remote);
  }

  /** Closes every connection still waiting for a slot (the server is shutting down). */
  dropAllWaiting(): void {
    for (let i = this.waitingHead; i < this.waiting.length; i++) {
      const w = this.waiting[i];
      if (w) this.dropWaiting(w);
    }
    this.waiting = [];
    this.waitingHead = 0;
  }

  /**
   * The connection's set-up is over for pacing: its first session came up,
   * it closed, or it held its slot for {@link SETUP_SLOT_HOLD_MS}. The
   * oldest waiting connections start in the freed slots.
   */
  releaseSetupSlot(conn: Connection): void {
    const hold = conn.setupSlotTimer;
    if (hold === undefined) return;
    conn.setupSlotTimer = undefined;
    hold.cancel();
    this.settingUp--;
    this.startWaiting();
  }

  private startWaiting(): void {
    const slots = this.config.limits['setup-concurrency'];
    while (this.waitingHead < this.waiting.length && (slots === 0 || this.settingUp < slots)) {
      const w = this.waiting[this.waitingHead];
      this.waiting[this.waitingHead++] = undefined;
      if (w === undefined || w.dropped) continue;
      if (this.stopping || w.socket.destroyed) {
        this.dropWaiting(w);
        continue;
      }
      w.timer?.cancel();
      w.timer = undefined;
      w.socket.off('error', w.onError);
      this.begin(w.socket, w.remote, w.local, w.acceptedAt, true);
    }
    // Spent slots go once they are most of the array (amortised O(1) per connection).
    if (this.waitingHead >= this.waiting.length) {
      this.waiting = [];
      this.waitingHead = 0;
    } else if (this.waitingHead > 1024 && this.waitingHead * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.waitingHead);
      this.waitingHead = 0;
    }
  }

  /** One connection from `remote` less (the per-address limit). */
  private forgetAddress(remote: string): void {
    const left = (this.perAddress.get(remote) ?? 1) - 1;
    if (left > 0) this.perAddress.set(remote, left);
    else this.perAddress.delete(remote);
  }

  /** Starts the PPTP engine on an accepted connection, in a set-up slot when they are limited. */
  private begin(socket: TcpSocket, remote: string, local: string, acceptedAt: number, waited: boolean): void {
    const cfg = this.config;
    const id = this.nextConnId++;
    const lazyLog = lazyChild(this.log, 'pptp', { conn: id, peer: remote });
    const log = new RateLimitedLogger(lazyLog, this.warnings, this.now);
    const conn: Connection = {
      id,
      socket,
      remote,
      local,
      acceptedAt,
      driver: undefined as unknown as ControlDriver,
      calls: new CallIdMap(),
      handshakeTimer: undefined,
      setupSlotTimer: undefined,
      closed: false,
      log,
    };
    if (cfg.limits['setup-concurrency'] > 0) {
      this.settingUp++;
      conn.setupSlotTimer = this.clock.setTimer(SETUP_SLOT_HOLD_MS, () => this.releaseSetupSlot(conn));
    }
    // From the accept: the time spent waiting for a slot counts.
    const handshakeMs = Math.max(0, cfg.limits['handshake-timeout'] * 1000 - (this.clock.now() - acceptedAt));
    const hooks = new ConnectionHooks(this, conn, parseIpv4(remote)!);
    conn.driver = new ControlDriver(socket, hooks, this.clock, hooks, this.writeLimits);
    this.connections.add(conn);
    conn.handshakeTimer = this.clock.setTimer(handshakeMs, () => {
      conn.handshakeTimer = undefined;
      if (conn.closed) return;
      this.counters.handshakeTimeouts++;
      log.log('warn', 'no session came up in time: closing', { seconds: cfg.limits['handshake-timeout'] });
      for (const call of [...conn.calls.values()]) {
        call.endCause ??= 'lost-carrier';
        this.calls.endCall(call, 'handshake time-out');
      }
      conn.driver.stop(PptpStopReason.None);
    });
    log.log('debug', 'control connection accepted', { local });
    conn.driver.start();
    if (waited) socket.resume();
  }

  /** The connection ended (any reason): its calls end with it, and its address counts one less. */
  closed(conn: Connection, reason: PptpCloseReason): void {
    conn.closed = true;
    conn.handshakeTimer?.cancel();
    conn.handshakeTimer = undefined;
    this.releaseSetupSlot(conn);
    for (const call of [...conn.calls.values()]) {
      call.endCause ??= causeOfClose(reason);
      this.calls.endCall(call, describeCloseReason(reason));
    }
    this.connections.delete(conn);
    conn.log.flush();
    this.forgetAddress(conn.remote);
    conn.log.log('debug', 'control connection closed', { reason: describeCloseReason(reason) });
  }
}
