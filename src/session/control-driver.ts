/**
 * The driver of one PPTP control connection (RFC 2637 §3.1): runs the
 * sans-IO {@link PptpControlConnection} engine against a TCP socket and a
 * {@link Clock}, performing its actions in order (docs/pptp-control.md,
 * "Driver contract"), and reports what matters to the client or server
 * through {@link ControlEvents}. Shared by both roles.
 *
 * ```
 *  socket 'data' ──▶ engine.receiveData ─┐
 *  timer fires   ──▶ engine.timeout      ├─▶ actions: send → socket.write
 *  'end'/'error' ──▶ engine.transportClosed┘          start/stopTimer → TimerSet
 *                                                    established/callUp/callDown → events
 *                                                    close → half-close TCP, events.closed
 * ```
 */
import type { Clock, Timer } from '../io/clock.js';
import type { TcpSocket } from '../io/tcp.js';
import { type Logger, nullLogger } from '../log/logger.js';
import type { PptpOutgoingCallOptions } from '../pptp/call.js';
import { PptpControlConnection } from '../pptp/control.js';
import type {
  PptpCallEndReason,
  PptpCallParameters,
  PptpCloseReason,
  PptpControlAction,
  PptpControlConfig,
  PptpPeerInfo,
  PptpTimerId,
} from '../pptp/control-types.js';
import { assertNever, u32 } from '../wire/bytes.js';
import { encodePptpMessage, PptpDisconnectResult, PptpStopReason } from '../wire/pptp/index.js';
import { TimerSet } from './timers.js';

/** What the driver tells its owner. Every callback is optional. */
export interface ControlEvents {
  /** SCCRQ/SCCRP exchanged: calls may be placed. */
  established?(peer: PptpPeerInfo): void;
  /** A call connected: create its session (GRE channel + PPP unit). */
  callUp?(call: PptpCallParameters): void;
  /** A call ended or never connected: drop its session. */
  callDown?(callId: number, reason: PptpCallEndReason): void;
  /** The control connection is over (TCP is being closed). Called once. */
  closed?(reason: PptpCloseReason): void;
  /**
   * The peer left too much of what we wrote unread ({@link ControlWriteLimits}):
   * the connection is dropped right after this (and `closed` follows).
   */
  overflow?(detail: string): void;
}

/**
 * Bounds on what a control connection may hold for a peer that does not
 * read (a server's defence; a client has one connection and needs none).
 * Every message we send is small and most answer one the peer sent, so a
 * peer that sends without reading would otherwise grow our write buffer
 * without end.
 */
export interface ControlWriteLimits {
  /** Above this many queued bytes, stop reading from the peer until the queue drains. */
  readonly highWaterBytes: number;
  /** Above this many queued bytes, drop the connection. */
  readonly limitBytes: number;
  /** Reading paused this long (the peer still not reading): drop the connection. */
  readonly stallTimeoutMs: number;
}

/** After our half-close, how long the peer gets to close its side before we destroy the socket. */
const CLOSE_GRACE_MS = 2000;

/** One-line text for a close reason (logs and client messages). */
export function describeCloseReason(r: PptpCloseReason): string {
  switch (r.kind) {
    case 'stopped':
      return r.by === 'local' ? 'stopped by us' : `stopped by the peer (reason ${r.reason})`;
    case 'transport-closed':
      return 'the TCP connection closed';
    case 'handshake-timeout':
      return 'no Start-Control-Connection reply in time';
    case 'echo-timeout':
      return 'no Echo-Reply in time';
    case 'stop-reply-timeout':
      return 'no Stop-Control-Connection-Reply in time';
    case 'start-refused':
      return `the peer refused the control connection (result ${r.resultCode}, error ${r.errorCode})`;
    case 'start-rejected':
      return `we refused the peer's control connection: ${r.detail}`;
    case 'collision':
      return 'control connection collision (RFC 2637 §3.1.3)';
    case 'call-timeout':
      return `call ${r.callId} made no progress in time`;
    case 'idle-timeout':
      return 'idle without calls';
    case 'protocol-error':
      return `protocol error: ${r.error.message}`;
    case 'local-close':
      return 'closed by us before it was established';
    default:
      return assertNever(r, 'close reason');
  }
}

/** One-line text for a call end reason. */
export function describeCallEndReason(r: PptpCallEndReason): string {
  switch (r.kind) {
    case 'local-clear':
      return 'cleared by us';
    case 'peer-clear':
      return 'the peer sent Call-Clear-Request';
    case 'peer-disconnect': {
      const name = PptpDisconnectResult[r.resultCode] ?? 'unknown';
      const stats = r.callStatistics ? `, ${r.callStatistics}` : '';
      return `the peer sent Call-Disconnect-Notify (result ${r.resultCode} ${name}${stats})`;
    }
    case 'rejected':
      return `the peer refused the call (result ${r.resultCode}, error ${r.errorCode})`;
    case 'connection-closed':
      return 'the control connection closed';
    default:
      return assertNever(r, 'call end reason');
  }
}

/**
 * A random integer in [0, n) from a byte source: the control engine's
 * `randomInt` (Call IDs, serial numbers) from the same seeded source the
 * PPP engines use, so that tests are reproducible. (The modulo bias is
 * below 2^-16 for the engine's n ≤ 2^16.)
 */
export function randomIntFrom(random: (n: number) => Uint8Array): (n: number) => number {
  return (n) => {
    return u32(random(4), 0) % n;
  };
}

export class ControlDriver {
  readonly engine: PptpControlConnection;
  private readonly timers: TimerSet<PptpTimerId>;
  private closeReason: PptpCloseReason | undefined;
  private graceTimer: Timer | undefined;
  private socketClosed = false;
  /** Nesting of event handling (see {@link serially}) and the input that waits meanwhile. */
  private depth = 0;
  /** Input that arrived while an event was being handled (made when first needed). */
  private backlog: (() => void)[] | undefined;
  private donePromise: Promise<PptpCloseReason> | undefined;
  private resolveDone: ((r: PptpCloseReason) => void) | undefined;
  private readonly log: Logger;
  /** Reading is paused because the peer does not read what we write; dropped when this fires. */
  private stallTimer: Timer | undefined;

  constructor(
    private readonly socket: TcpSocket,
    config: PptpControlConfig,
    private readonly clock: Clock,
    private readonly events: ControlEvents = {},
    private readonly writeLimits?: ControlWriteLimits,
  ) {
    this.log = config.log ?? nullLogger;
    this.engine = new PptpControlConnection(config);
    this.timers = new TimerSet(clock, (id) =>
      this.serially(() => this.perform(this.engine.timeout(id, this.clock.now()))),
    );
  }

  /** The TCP connection is up: attach to it and start the engine (an originator sends SCCRQ). */
  start(): void {
    const s = this.socket;
    s.on('data', (chunk: Uint8Array) =>
      this.serially(() => this.perform(this.engine.receiveData(chunk, this.clock.now()))),
    );
    s.on('end', () => this.serially(() => this.perform(this.engine.transportClosed())));
    s.on('error', (err: NodeJS.ErrnoException) => {
      this.log.log('debug', 'control connection error', { error: err.code ?? err.message });
      this.serially(() => this.perform(this.engine.transportClosed()));
    });
    s.on('close', () => {
      this.socketClosed = true;
      this.graceTimer?.cancel();
      this.graceTimer = undefined;
      this.serially(() => this.perform(this.engine.transportClosed()));
    });
    this.serially(() => this.perform(this.engine.open(this.clock.now())));
  }

  /**
   * Runs input handling one event at a time. A socket may deliver data
   * synchronously from inside our own write (the in-memory one does), and
   * an event handler may call back into the driver: input that arrives
   * meanwhile waits until the current event has been handled completely.
   */
  private serially(fn: () => void): void {
    if (this.depth > 0) {
      this.backlog ??= [];
      this.backlog.push(fn);
      return;
    }
    this.depth++;
    try {
      fn();
      const backlog = this.backlog;
      if (backlog) {
        for (let next = backlog.shift(); next; next = backlog.shift()) next();
        this.backlog = undefined;
      }
    } finally {
      this.depth--;
    }
  }

  /**
   * Resolves when the control connection is over (after `closed`). Made on
   * first use: a server, which does not wait on it, keeps no promise per
   * connection.
   */
  get done(): Promise<PptpCloseReason> {
    if (!this.donePromise) {
      const reason = this.closeReason;
      this.donePromise = reason
        ? Promise.resolve(reason)
        : new Promise((r) => {
            this.resolveDone = r;
          });
    }
    return this.donePromise;
  }

  /** Whether the control connection has ended. */
  get isClosed(): boolean {
    return this.closeReason !== undefined;
  }

  /** Why it ended, once it has. */
  get reason(): PptpCloseReason | undefined {
    return this.closeReason;
  }

  /** PNS: places an outgoing call; returns our Call ID. Throws unless established. */
  placeCall(opts?: PptpOutgoingCallOptions): number {
    const { callId, actions } = this.engine.placeCall(opts);
    this.api(() => this.perform(actions));
    return callId;
  }

  /** Clears a call (PNS: CCRQ, PAC: CDN with `resultCode`). */
  clearCall(callId: number, resultCode?: number): void {
    this.api(() => this.perform(this.engine.clearCall(callId, resultCode)));
  }

  /** Stop-Control-Connection-Request (or a plain close before establishment). */
  stop(reason: PptpStopReason = PptpStopReason.None): void {
    this.api(() => this.perform(this.engine.stop(reason)));
  }

  /** An operation called by the owner: inside an event it simply runs; outside, input arriving meanwhile waits for it. */
  private api(fn: () => void): void {
    if (this.depth > 0) fn();
    else this.serially(fn);
  }

  /** Ends everything now without a protocol exchange (the socket is destroyed). */
  destroy(): void {
    this.api(() => this.perform(this.engine.transportClosed()));
    this.timers.stopAll();
    this.unstall();
    this.graceTimer?.cancel();
    this.graceTimer = undefined;
    this.socket.destroy();
  }

  /** Running engine timers (hygiene checks). */
  get timerCount(): number {
    return this.timers.size + (this.graceTimer ? 1 : 0) + (this.stallTimer ? 1 : 0);
  }

  /** Whether reading from the peer is paused (it does not read what we write). */
  get readPaused(): boolean {
    return this.stallTimer !== undefined;
  }

  /**
   * After a write: pause reading above the high-water mark (until 'drain',
   * so the mark in effect is at least the socket's own writableHighWaterMark,
   * 16 KiB for net.Socket), drop the connection above the hard limit.
   * `below`: what write() returned (false: the socket will emit 'drain').
   */
  private checkBackpressure(limits: ControlWriteLimits, below: boolean): void {
    const queued = this.socket.writableLength;
    if (queued > limits.limitBytes) {
      this.overflow(`${queued} bytes written and not read by the peer`);
      return;
    }
    if (below || queued <= limits.highWaterBytes || this.stallTimer) return;
    this.socket.pause();
    this.onDrain ??= () => this.drained();
    this.socket.once('drain', this.onDrain);
    this.stallTimer = this.clock.setTimer(limits.stallTimeoutMs, () => {
      this.stallTimer = undefined;
      this.overflow(
        `the peer read nothing of ${this.socket.writableLength} bytes for ${limits.stallTimeoutMs} ms`,
      );
    });
  }

  /** The peer read what was queued: read from it again. */
  /** `drained` as a listener, made the first time reading pauses (a closure per connection otherwise). */
  private onDrain: (() => void) | undefined;

  private drained(): void {
    if (!this.stallTimer) return;
    this.unstall();
    if (!this.socket.destroyed) this.socket.resume();
  }

  private unstall(): void {
    this.stallTimer?.cancel();
    this.stallTimer = undefined;
    if (this.onDrain) this.socket.off('drain', this.onDrain);
  }

  private overflow(detail: string): void {
    if (this.socket.destroyed) return;
    this.events.overflow?.(detail);
    this.destroy();
  }

  private perform(actions: readonly PptpControlAction[]): void {
    for (const a of actions) {
      switch (a.kind) {
        case 'send':
          if (!this.socket.destroyed && this.socket.writable) {
            const below = this.socket.write(encodePptpMessage(a.message));
            if (this.writeLimits) this.checkBackpressure(this.writeLimits, below);
          }
          break;
        case 'startTimer':
          this.timers.start(a.id, a.ms);
          break;
        case 'stopTimer':
          this.timers.stop(a.id);
          break;
        case 'established':
          this.events.established?.(a.peer);
          break;
        case 'callUp':
          this.events.callUp?.(a.call);
          break;
        case 'callDown':
          this.events.callDown?.(a.callId, a.reason);
          break;
        case 'setLinkInfo':
          this.log.log('debug', 'Set-Link-Info', {
            callId: a.callId,
            sendAccm: a.sendAccm,
            receiveAccm: a.receiveAccm,
          });
          break;
        case 'wanError':
          this.log.log('info', 'WAN-Error-Notify', {
            callId: a.callId,
            crcErrors: a.crcErrors,
            framingErrors: a.framingErrors,
            hardwareOverruns: a.hardwareOverruns,
            bufferOverruns: a.bufferOverruns,
            timeoutErrors: a.timeoutErrors,
            alignmentErrors: a.alignmentErrors,
          });
          break;
        case 'close':
          this.onClose(a.reason);
          break;
        default:
          assertNever(a, 'control action');
      }
    }
  }

  private onClose(reason: PptpCloseReason): void {
    if (this.closeReason) return;
    this.closeReason = reason;
    this.timers.stopAll();
    this.unstall();
    // Half-close after the queued writes, so a final StopCCRP or CDN reaches the peer
    // ("the final TCP information has been 'pushed' properly", RFC 2637 §3.1.1).
    if (!this.socketClosed && !this.socket.destroyed) {
      this.socket.end();
      this.graceTimer = this.clock.setTimer(CLOSE_GRACE_MS, () => {
        this.graceTimer = undefined;
        this.socket.destroy();
      });
    }
    this.events.closed?.(reason);
    this.resolveDone?.(reason);
  }
}
