/**
 * Lines written to a stream once per turn of the event loop, not one
 * `write` per line: the server's log on stderr, and the route commands it
 * gives its `ip -batch` process (src/server/ip-batch.ts).
 *
 * Why: Node writes to a pipe or a file synchronously, one system call per
 * `write`, plus the stream's own bookkeeping around it. A server that logs
 * "session up" and adds a route for thousands of sessions a second (a
 * login storm) spent about 7 % of its CPU on those calls (docs/sessions.md).
 * Lines queued during one turn go out together from a `setImmediate`, in
 * the same turn's check phase, so a line is never held for longer than the
 * turn that wrote it.
 *
 * Bounded: once `maxBytes` are queued the queue is written at once. Nothing
 * is lost at exit: the process's `exit` event writes what is left
 * synchronously to a sink with a file descriptor (the event fires for
 * `process.exit()`, the end of the event loop and an uncaught exception;
 * only SIGKILL skips it).
 */
import { writeSync } from 'node:fs';

export interface LineWriterOptions {
  /** Queued bytes (UTF-16 code units, close enough) that force a write at once (default 64 KiB). */
  readonly maxBytes?: number;
  /** Schedules the turn's write (default `setImmediate`). */
  readonly schedule?: (fn: () => void) => void;
  /** Writes at exit, synchronously (default: `fs.writeSync` on the stream's fd, or nothing without one). */
  readonly writeAtExit?: (text: string) => void;
}

/** Writers holding lines, written out by one `exit` listener for the whole process. */
const holding = new Set<() => void>();
let exitHooked = false;

function holdUntilExit(atExit: () => void): void {
  holding.add(atExit);
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', () => {
    for (const fn of holding) fn();
    holding.clear();
  });
}

/** Where the lines go: anything with `write(text)`, e.g. `process.stderr`. */
export interface TextSink {
  write(text: string): unknown;
  readonly fd?: number;
}

export interface LineWriter {
  /** Queues one line (without its newline). */
  (line: string): void;
  /** Writes what is queued now. */
  flush(): void;
  /** Drops what is queued (the sink is gone). */
  discard(): void;
}

/** A line writer for `sink` (default: process.stderr). */
export function createLineWriter(sink: TextSink = process.stderr, o: LineWriterOptions = {}): LineWriter {
  const maxBytes = o.maxBytes ?? 65_536;
  const schedule = o.schedule ?? ((fn: () => void) => void setImmediate(fn));
  const fd = sink.fd;
  const writeAtExit =
    o.writeAtExit ??
    ((text: string) => {
      if (fd === undefined) return;
      try {
        writeSync(fd, text);
      } catch {
        // Nowhere left to report it: the process is exiting.
      }
    });
  let queued = '';
  let scheduled = false;
  const flush = (): void => {
    if (queued === '') return;
    const text = queued;
    queued = '';
    holding.delete(atExit);
    sink.write(text);
  };
  const onTurnEnd = (): void => {
    scheduled = false;
    flush();
  };
  function atExit(): void {
    if (queued === '') return;
    const text = queued;
    queued = '';
    writeAtExit(text);
  }
  const write = ((line: string): void => {
    if (queued === '') holdUntilExit(atExit);
    queued += `${line}\n`;
    if (queued.length >= maxBytes) {
      flush();
      return;
    }
    if (!scheduled) {
      scheduled = true;
      schedule(onTurnEnd);
    }
  }) as LineWriter;
  write.flush = flush;
  write.discard = () => {
    queued = '';
    holding.delete(atExit);
  };
  return write;
}
