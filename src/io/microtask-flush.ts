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
