/**
 * The TypeScript half of a native Port: a receive ring and a transmit ring,
 * both JS-owned ArrayBuffers, driven by one native `onEvent` call per
 * wake-up. Shared by {@link Tun} (tun.ts) and {@link RawGreSocket}
 * (raw-gre.ts); see docs/native-io.md.
 *
 * Receive: the addon drains the fd (recvmmsg, or read() until EAGAIN) into
 * slots 0..n-1 and calls back once; we hand each packet up as a view into
 * the ring (valid only during `onPacket`, as io/types.ts says), then call
 * `onBatchEnd` once.
 *
 * Transmit: `queue()` copies the packet into the next free slot (the caller
 * may reuse its buffer at once), and the queue goes out in one
 * sendmmsg/write batch at `flush()`, when the ring fills, or at the end of
 * the current microtask at the latest. On EAGAIN the unsent packets stay
 * queued and the port waits for POLLOUT; while it waits, a full ring drops
 * new packets and counts them (the data plane never blocks and never throws).
 */
import { closeSync } from 'node:fs';
import { getSystemErrorName } from 'node:util';
import { MicrotaskFlush } from './microtask-flush.js';
import { loadAddon, type NativePort, PortEvent } from './native.js';
import type { PacketHandlers } from './types.js';

/** Ring geometry. Slots are fixed-size; a packet longer than a slot is dropped. */
export interface RingOptions {
  /** Bytes per slot; the largest packet that can be received or sent. */
  slotSize: number;
  /** Receive slots: the most packets delivered per wake-up. */
  rxSlots: number;
  /** Transmit slots: the most packets queued (and sent per sendmmsg). */
  txSlots: number;
}

/** Counters of one port (docs/style.md §3: every drop is counted). */
export interface PortStats {
  rxPackets: number;
  rxBytes: number;
  /** Wake-ups that delivered at least one packet. */
  rxBatches: number;
  /** Packets longer than a slot, dropped on receive. */
  rxTruncated: number;
  txPackets: number;
  txBytes: number;
  /** sendmmsg/write batches issued. */
  txBatches: number;
  /** Packets refused by queue(): ring full while the fd was not writable, or too long for a slot. */
  txDropped: number;
  /** Packets the kernel refused (errno in `lastTxError`). */
  txErrors: number;
  /** Times a flush stopped on EAGAIN and waited for POLLOUT. */
  txStalls: number;
  /** errno name of the most recent refused packet, e.g. `EMSGSIZE`. */
  lastTxError: string | undefined;
}

function newStats(): PortStats {
  return {
    rxPackets: 0,
    rxBytes: 0,
    rxBatches: 0,
    rxTruncated: 0,
    txPackets: 0,
    txBytes: 0,
    txBatches: 0,
    txDropped: 0,
    txErrors: 0,
    txStalls: 0,
    lastTxError: undefined,
  };
}

/** Ring geometry: what the caller gave, the device's defaults for the rest. */
export function ringOptions(opts: Partial<RingOptions>, defaults: RingOptions): RingOptions {
  return {
    slotSize: opts.slotSize ?? defaults.slotSize,
    rxSlots: opts.rxSlots ?? defaults.rxSlots,
    txSlots: opts.txSlots ?? defaults.txSlots,
  };
}

/**
 * A device on one {@link RingPort} ({@link Tun}, {@link RawGreSocket}): what
 * they hand straight to the port (counters, fd, flush, ref/unref, close).
 */
export abstract class RingPortDevice {
  protected constructor(protected readonly port: RingPort) {}

  /** Counters: packets/bytes each way, batches, drops, kernel errors (slots as the kernel sees them). */
  get stats(): Readonly<PortStats> {
    return this.port.stats;
  }

  /** The fd, or -1 once closed (diagnostics only). */
  get fd(): number {
    return this.port.fd;
  }

  /** Sends what is queued now (it goes out at the end of the microtask anyway). */
  flush(): void {
    this.port.flush();
  }

  /** Lets the process exit while the device is open. */
  unref(): void {
    this.port.unref();
  }

  ref(): void {
    this.port.ref();
  }

  /** Closes the fd; queued packets are discarded. Idempotent. */
  close(): void {
    this.port.close();
  }
}

/** An Error for an errno from the addon, shaped like Node's system errors. */
export function errnoError(syscall: string, errno: number): NodeJS.ErrnoException {
  const code = getSystemErrorName(-errno);
  const err: NodeJS.ErrnoException = new Error(`${syscall}: ${code} (errno ${errno})`);
  err.errno = errno;
  err.code = code;
  err.syscall = syscall;
  return err;
}

export class RingPort {
  readonly stats: PortStats = newStats();
  private readonly native: NativePort;
  private readonly rxBuf: ArrayBuffer;
  private readonly rxLen: Int32Array;
  private readonly txBuf: ArrayBuffer;
  private readonly txBytes: Uint8Array;
  private readonly txLen: Int32Array;
  private readonly slotSize: number;
  private readonly minTxLength: number;
  private txCount = 0;
  private waitingWritable = false;
  private readonly autoFlush = new MicrotaskFlush(() => this.flush());
  private reading = false;
  /** {@link pauseReceive}: no more packets are delivered (and none read) until {@link resumeReceive}. */
  private rxPaused = false;
  /** Slots of the last receive batch still to deliver, `[rxNext, rxEnd)`: a pause stopped the batch there. */
  private rxNext = 0;
  private rxEnd = 0;
  /** True while `deliverPending` runs (a resume from inside it must not schedule another run). */
  private delivering = false;
  private resumeScheduled = false;
  private closed = false;
  private handlers: PacketHandlers | undefined;
  /** Runs at the start of every flush that has packets to send (see {@link RingPort.onBeforeFlush}). */
  private beforeFlush: (() => void) | undefined;

  /**
   * Takes ownership of `fd` (closed by `close()`, also if this constructor
   * throws). `datagram` selects recvmmsg/sendmmsg (raw socket) over
   * read/write (TUN); `minTxLength` is the shortest packet `queue()` accepts.
   */
  constructor(fd: number, datagram: boolean, opts: RingOptions, minTxLength: number) {
    const { slotSize, rxSlots, txSlots } = opts;
    let Port: ReturnType<typeof loadAddon>['Port'];
    try {
      for (const [k, v] of Object.entries(opts)) {
        if (!Number.isInteger(v) || v < 1 || v > 1 << 20)
          throw new RangeError(`ring option ${k} out of range: ${v}`);
      }
      Port = loadAddon().Port;
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    this.slotSize = slotSize;
    this.minTxLength = minTxLength;
    this.rxBuf = new ArrayBuffer(slotSize * rxSlots);
    this.rxLen = new Int32Array(rxSlots);
    this.txBuf = new ArrayBuffer(slotSize * txSlots);
    this.txBytes = new Uint8Array(this.txBuf);
    this.txLen = new Int32Array(txSlots);
    // From here the native Port owns the fd (it closes it if it throws).
    this.native = new Port(fd, datagram, this.rxBuf, this.rxLen, slotSize, (kind, n) =>
      this.onEvent(kind, n),
    );
  }

  /** Datagram ports: see {@link NativePort.setCallIdFilter}. */
  setCallIdFilter(filter: Uint8Array | undefined): void {
    if (!this.closed) this.native.setCallIdFilter(filter);
  }

  /** The fd, or -1 once closed (diagnostics and tests only: never close it yourself). */
  get fd(): number {
    return this.native.fd;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  start(handlers: PacketHandlers): void {
    if (this.closed) throw new Error('port is closed');
    if (this.handlers) throw new Error('port already started');
    this.handlers = handlers;
    this.reading = true;
    this.native.poll(this.wantRead, this.waitingWritable);
  }

  /** Whether the fd should be polled for reading: started, not paused, and the ring fully delivered. */
  private get wantRead(): boolean {
    return this.reading && !this.rxPaused && this.rxNext >= this.rxEnd;
  }

  /**
   * Backpressure (RFC 2637 §4.2.4: packets "are no longer accepted from the
   * packet source when the transmit buffer fills"): stops delivering. A
   * batch being delivered stops after the current packet; its remaining
   * slots stay in the ring, and the fd is not read (what the kernel has
   * queued waits there: for a TUN, in the interface's queue, where it
   * holds back the sending socket through TCP Small Queues) until
   * {@link resumeReceive}. Idempotent.
   */
  pauseReceive(): void {
    if (this.rxPaused) return;
    this.rxPaused = true;
    if (!this.closed && this.reading) this.native.poll(false, this.waitingWritable);
  }

  /**
   * Ends a {@link pauseReceive}: the rest of the interrupted batch is
   * delivered on a microtask (never from inside the caller, which may be in
   * the middle of a receive on another port), then reading resumes.
   */
  resumeReceive(): void {
    if (!this.rxPaused) return;
    this.rxPaused = false;
    if (this.closed || !this.reading) return;
    if (this.rxNext < this.rxEnd) {
      if (this.delivering || this.resumeScheduled) return;
      this.resumeScheduled = true;
      queueMicrotask(() => {
        this.resumeScheduled = false;
        if (!this.rxPaused) this.deliverPending(true);
      });
      return;
    }
    this.native.poll(true, this.waitingWritable);
  }

  /** True while {@link pauseReceive} is in force. */
  get receivePaused(): boolean {
    return this.rxPaused;
  }

  /** Queues a copy of `packet`. Returns false (and counts) when it was dropped. */
  queue(packet: Uint8Array): boolean {
    if (packet.length < this.minTxLength || packet.length > this.slotSize) {
      this.stats.txDropped++;
      return false;
    }
    const i = this.allocTx();
    if (i < 0) {
      this.stats.txDropped++;
      return false;
    }
    this.txBytes.set(packet, i * this.slotSize);
    this.txLen[i] = packet.length;
    return true;
  }

  /**
   * Low-level transmit, for writers that build packets in place (the TUN's
   * offload path): reserves the next transmit slot and returns its index,
   * or -1 when the port is closed or the ring is still full after a flush
   * attempt. The slot starts at byte `index * slotSize` of {@link txRing};
   * its length must be set with {@link setTxLength} before the flush, which
   * happens at `flush()` or at the end of the current microtask at the
   * latest. The caller counts a drop on -1.
   */
  allocTx(): number {
    if (this.closed) return -1;
    if (this.txCount === this.txLen.length) {
      this.flush();
      if (this.txCount === this.txLen.length) return -1;
    }
    const i = this.txCount++;
    this.txLen[i] = 0;
    this.autoFlush.schedule();
    return i;
  }

  /** Sets the length of slot `i` reserved with {@link allocTx} (at least the port's minimum, at most a slot). */
  setTxLength(i: number, length: number): void {
    this.txLen[i] = length;
  }

  /** The whole transmit ring (slot `i` at byte `i * slotSize`); for {@link allocTx} writers. */
  get txRing(): Uint8Array {
    return this.txBytes;
  }

  /** Bytes per slot. */
  get slotBytes(): number {
    return this.slotSize;
  }

  /**
   * Registers a function that runs at the start of every flush with packets
   * queued, before they are handed to the kernel: the TUN's coalescer
   * completes its super-packets there.
   */
  onBeforeFlush(fn: (() => void) | undefined): void {
    this.beforeFlush = fn;
  }

  /** Sends everything queued, unless the fd is not writable yet (then POLLOUT finishes the job). */
  flush(): void {
    if (this.closed || this.waitingWritable || this.txCount === 0) return;
    this.beforeFlush?.();
    const count = this.txCount;
    const done = this.native.send(this.txBuf, this.txLen, this.slotSize, 0, count);
    this.stats.txBatches++;
    for (let i = 0; i < done; i++) {
      const len = this.txLen[i]!;
      if (len < 0) {
        this.stats.txErrors++;
        this.stats.lastTxError = getSystemErrorName(len);
      } else {
        this.stats.txPackets++;
        this.stats.txBytes += len;
      }
    }
    if (done === count) {
      this.txCount = 0;
      return;
    }
    // EAGAIN: keep the rest, in order, at the front of the ring.
    this.txBytes.copyWithin(0, done * this.slotSize, count * this.slotSize);
    this.txLen.copyWithin(0, done, count);
    this.txCount = count - done;
    this.stats.txStalls++;
    this.waitingWritable = true;
    this.native.poll(this.wantRead, true);
  }

  /** Lets the process exit while this port is open (like `net.Socket.unref`). */
  unref(): void {
    if (!this.closed) this.native.unref();
  }

  ref(): void {
    if (!this.closed) this.native.ref();
  }

  /** Closes the fd; queued packets are discarded. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.reading = false;
    this.txCount = 0;
    this.native.close();
  }

  private onEvent(kind: PortEvent, n: number): void {
    switch (kind) {
      case PortEvent.Readable:
        this.deliver(n);
        return;
      case PortEvent.Writable:
        this.waitingWritable = false;
        if (!this.closed) this.native.poll(this.wantRead, false);
        this.flush();
        return;
      case PortEvent.Error:
        this.reading = false;
        this.handlers?.onError?.(errnoError('read', n));
        return;
      default:
        return;
    }
  }

  private deliver(n: number): void {
    this.rxNext = 0;
    this.rxEnd = n;
    this.deliverPending(false);
  }

  /**
   * Delivers slots `[rxNext, rxEnd)` until done or paused, then
   * `onBatchEnd`. After a resume (`resumed`), re-arms the read poll once the
   * batch is done (a batch from the poll leaves the poll as it is).
   */
  private deliverPending(resumed: boolean): void {
    const h = this.handlers;
    if (!h || this.closed) return;
    this.stats.rxBatches++;
    this.delivering = true;
    try {
      while (this.rxNext < this.rxEnd && !this.rxPaused && !this.closed) {
        const i = this.rxNext++;
        const len = this.rxLen[i]!;
        if (len < 0) {
          this.stats.rxTruncated++;
          continue;
        }
        this.stats.rxPackets++;
        this.stats.rxBytes += len;
        h.onPacket(new Uint8Array(this.rxBuf, i * this.slotSize, len));
      }
    } finally {
      this.delivering = false;
    }
    if (this.closed) return;
    h.onBatchEnd?.();
    if (resumed && !this.closed && this.wantRead) this.native.poll(true, this.waitingWritable);
  }
}
