/**
 * A flush that runs once at the end of the current microtask, however many
 * packets were queued during it: how the queueing ports batch their output
 * (one sendmmsg/write, or one delivery pass, per turn of the event loop
 * rather than one per packet).
 */
export class MicrotaskFlush {
  private scheduled = false;
  private readonly flush: () => void;

  constructor(flush: () => void) {
    this.flush = flush;
  }

  /** Asks for a flush at the end of this microtask; asking again before it runs changes nothing. */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.flush();
    });
  }
}

/**
 * The write queue of a memory port: each packet queued as a private copy
 * (the caller may reuse its buffer), all of them handed over together at the
 * port's flush, which runs at the end of the microtask they were queued in.
 */
export class PacketBatch {
  private packets: Uint8Array[] = [];
  private readonly autoFlush: MicrotaskFlush;

  constructor(flush: () => void) {
    this.autoFlush = new MicrotaskFlush(flush);
  }

  /** Packets queued and not yet taken. */
  get length(): number {
    return this.packets.length;
  }

  /** Queues a copy of `packet` and asks for a flush at the end of this microtask. */
  push(packet: Uint8Array): void {
    this.packets.push(packet.slice());
    this.autoFlush.schedule();
  }

  /** Drops what is queued (the port closed): a flush that still runs finds nothing. */
  clear(): void {
    this.packets = [];
  }

  /** Empties the queue and returns what it held, oldest first. */
  take(): Uint8Array[] {
    const out = this.packets;
    this.packets = [];
    return out;
  }
}
