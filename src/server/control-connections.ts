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

import type { Clock } from '../io/clock.js';
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

/** Every control connection of one server. */
export class ControlConnections {
  /** Live control connections. */
  readonly connections = new Set<Connection>();
  /** Live control connections per source address. */
  private readonly perAddress = new Map<string, number>();
  private nextConnId = 1;
  /** Shutting down: new connections and calls are refused. */
  stopping = false;
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
    const cfg = this.config;
    const id = this.nextConnId++;
    const lazyLog = lazyChild(this.log, 'pptp', { conn: id, peer: remote });
    const log = new RateLimitedLogger(lazyLog, this.warnings, this.now);
    const conn: Connection = {
      id,
      socket,
      remote,
      local,
      acceptedAt: this.clock.now(),
      driver: undefined as unknown as ControlDriver,
      calls: new CallIdMap(),
      handshakeTimer: undefined,
      closed: false,
      log,
    };
    const handshakeMs = cfg.limits['handshake-timeout'] * 1000;
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
  }

  /** The connection ended (any reason): its calls end with it, and its address counts one less. */
  closed(conn: Connection, reason: PptpCloseReason): void {
    conn.closed = true;
    conn.handshakeTimer?.cancel();
    conn.handshakeTimer = undefined;
    for (const call of [...conn.calls.values()]) {
      call.endCause ??= causeOfClose(reason);
      this.calls.endCall(call, describeCloseReason(reason));
    }
    this.connections.delete(conn);
    conn.log.flush();
    const left = (this.perAddress.get(conn.remote) ?? 1) - 1;
    if (left > 0) this.perAddress.set(conn.remote, left);
    else this.perAddress.delete(conn.remote);
    conn.log.log('debug', 'control connection closed', { reason: describeCloseReason(reason) });
  }
}
