/**
 * One long-lived `ip -force -batch -` process that runs iproute2 commands
 * for the server, instead of one `ip` process per command.
 *
 * Why: a server adds and removes one route per session (shared mode,
 * docs/client-server.md), and starting a process from a Node server with
 * thousands of sessions costs about 5 ms of the server's own CPU (fork of
 * a large process): at 300 sessions/s that alone was more than the CPU the
 * whole set-up needs (docs/sessions.md). Commands written to the batch
 * process cost a line on a pipe.
 *
 * Protocol. The process reads commands, one per line; with `-force` it goes
 * on after a failure and reports it as `Command failed -:N` (N = the line).
 * Its stdout and stderr share one pipe (`2>&1`), and iproute2 flushes its
 * output after every command, so what a command prints arrives in order.
 * After every command we write a marker line, an object iproute2 does not
 * know (`pptp-ts-done`): it fails at once, touching nothing, and its
 * `Command failed -:M` tells us the command on line M − 1 is complete, with
 * everything printed since the previous marker as its output — or, when a
 * `Command failed -:(M − 1)` came first, as its error.
 *
 * A command that gets no answer within its time-out, or a process that
 * dies, fails every pending command with an {@link IpError}; the next
 * command starts a new process.
 *
 * Cost per command, for a login storm's thousands of routes a second: the
 * commands of one turn of the event loop go to the pipe in one write (a
 * {@link createLineWriter} on the process's stdin), and one timer watches
 * the oldest command (answers come in order, so no later one can be older).
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { IpError, type IpOptions } from '../io/ip.js';
import { createLineWriter, type LineWriter } from '../io/line-writer.js';

/** The line that marks the end of the previous command. */
const MARKER = 'pptp-ts-done';
const FAILED = /^Command failed -:(\d+)\s*$/;

interface Pending {
  readonly args: readonly string[];
  /** Line number of the command (the marker follows on the next line). */
  readonly line: number;
  readonly resolve: (out: string) => void;
  readonly reject: (err: Error) => void;
  failed: boolean;
  /** When it was queued (performance.now(), ms). */
  readonly at: number;
}

export interface IpBatchOptions extends IpOptions {
  /** Global options for the process, before `-force -batch -` (e.g. `['-4']`). */
  readonly globalArgs?: readonly string[];
}

/** Throws unless every argument is one batch-file word (no spaces, quotes, comments or line breaks). */
function checkWord(a: string): void {
  if (a === '' || /[\s"'\\#]/.test(a)) throw new TypeError(`ip batch: unsafe argument ${JSON.stringify(a)}`);
}

export class IpBatch {
  private child: ChildProcessWithoutNullStreams | undefined;
  private line = 0;
  private readonly pending: Pending[] = [];
  /** Output since the last marker. */
  private text: string[] = [];
  private partial = '';
  private closed = false;
  private referenced = true;
  private readonly timeoutMs: number;
  /** The running process's stdin, one write per turn (commands with their markers). */
  private input: LineWriter | undefined;
  /** The time-out of the oldest pending command. */
  private deadline: NodeJS.Timeout | undefined;

  constructor(private readonly opts: IpBatchOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /** Commands written and not answered yet. */
  get inFlight(): number {
    return this.pending.length;
  }

  /** Whether the batch process is running. */
  get running(): boolean {
    return this.child !== undefined;
  }

  /**
   * Runs one command (`args` as for `ip`, without global options) and
   * resolves with what it printed; rejects with an {@link IpError} carrying
   * its error text.
   */
  run(args: readonly string[]): Promise<string> {
    if (this.closed) return Promise.reject(new IpError([...args], 'ip batch closed', null));
    for (const a of args) checkWord(a);
    if (!this.child) this.start();
    return new Promise((resolve, reject) => {
      const p: Pending = { args, line: this.line + 1, resolve, reject, failed: false, at: performance.now() };
      this.line += 2;
      this.pending.push(p);
      this.reference();
      this.armDeadline();
      this.input!(`${args.join(' ')}\n${MARKER}`);
    });
  }

  /** Watches the oldest pending command (none pending: no timer). */
  private armDeadline(): void {
    const head = this.pending[0];
    if (this.deadline !== undefined || head === undefined) return;
    const left = Math.max(0, head.at + this.timeoutMs - performance.now());
    this.deadline = setTimeout(() => {
      this.deadline = undefined;
      const oldest = this.pending[0];
      if (oldest === undefined) return;
      if (performance.now() - oldest.at >= this.timeoutMs)
        this.abort(`no answer within ${this.timeoutMs} ms`);
      else this.armDeadline();
    }, left);
  }

  private disarmDeadline(): void {
    if (this.deadline === undefined) return;
    clearTimeout(this.deadline);
    this.deadline = undefined;
  }

  /** Ends the process (pending commands fail). Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    if (!child) return;
    const exited = new Promise<void>((r) => child.once('close', () => r()));
    this.input?.flush();
    child.stdin.end();
    const t = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(t);
  }

  private start(): ChildProcessWithoutNullStreams {
    const o = this.opts;
    const argv = [...(o.netns ? ['-n', o.netns] : []), ...(o.globalArgs ?? []), '-force', '-batch', '-'];
    // `sh -c 'exec "$0" "$@" 2>&1' ip ARGS...`: stdout and stderr on one pipe, in order; no word of ours is parsed by the shell.
    const child = spawn('sh', ['-c', 'exec "$0" "$@" 2>&1', o.ipPath ?? 'ip', ...argv], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child = child;
    this.input = createLineWriter(child.stdin);
    this.line = 0;
    this.text = [];
    this.partial = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => this.onData(d));
    child.stdin.on('error', () => {}); // reported by 'close'
    child.on('error', (err) => this.onExit(child, `cannot run ip: ${err.message}`));
    child.on('close', (code, signal) => this.onExit(child, `ip batch exited (${code ?? signal})`));
    this.referenced = true;
    this.reference();
    return child;
  }

  /** The idle process keeps no event loop alive; one with commands in flight does (their answers are awaited). */
  private reference(): void {
    const child = this.child;
    const want = this.pending.length > 0;
    if (!child || want === this.referenced) return;
    this.referenced = want;
    // A closed pipe (stderr, whose descriptor the shell replaces with stdout's before exec) has no
    // handle: net.Socket's ref()/unref() would then add a 'connect' listener per call, forever.
    for (const h of [child, child.stdin, child.stdout, child.stderr] as unknown as {
      destroyed?: boolean;
      ref?(): void;
      unref?(): void;
    }[]) {
      if (h.destroyed === true) continue;
      if (want) h.ref?.();
      else h.unref?.();
    }
  }

  private onData(d: string): void {
    const lines = (this.partial + d).split('\n');
    this.partial = lines.pop()!;
    for (const l of lines) {
      const m = FAILED.exec(l);
      if (!m) {
        this.text.push(l);
        continue;
      }
      const n = Number(m[1]);
      const head = this.pending[0];
      if (head && n === head.line) {
        head.failed = true; // the command itself failed; its marker follows
        continue;
      }
      if (head && n === head.line + 1) {
        // The marker: the command is complete.
        this.pending.shift();
        if (this.pending.length === 0) this.disarmDeadline();
        this.reference();
        // What the marker itself printed (its "unknown object" line) is not the command's.
        const out = this.text.filter((x) => !x.includes(`"${MARKER}"`)).join('\n');
        this.text = [];
        if (head.failed) head.reject(new IpError([...head.args], out, 1));
        else head.resolve(out);
      }
    }
  }

  private onExit(child: ChildProcessWithoutNullStreams, why: string): void {
    if (this.child !== child) return;
    this.child = undefined;
    this.failAll(why);
  }

  private abort(why: string): void {
    const child = this.child;
    this.child = undefined;
    child?.kill('SIGKILL');
    this.failAll(why);
  }

  private failAll(why: string): void {
    this.disarmDeadline();
    this.input?.discard();
    this.input = undefined;
    for (const p of this.pending.splice(0)) p.reject(new IpError([...p.args], why, null));
    this.text = [];
    this.partial = '';
  }
}
