/**
 * Processes for the demo: long-running daemons started inside a network
 * namespace (`ip netns exec NS ...`, which execs the command, so the PID we
 * get is the daemon's own), their output sent to a log file, stopped by PID
 * (SIGTERM, then SIGKILL after a grace period); short commands run there
 * with a time-out; and bounded waits. Nothing here waits without a limit.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

/** A failure with a one-line reason (what the demo prints before exiting non-zero). */
export class DemoError extends Error {
  override readonly name = 'DemoError';
  constructor(
    message: string,
    /** Extra lines shown under the reason (daemon log tails). */
    readonly details: readonly string[] = [],
  ) {
    super(message);
  }
}

/** The wait was cut short by Ctrl-C (or another abort). */
export class DemoAborted extends Error {
  override readonly name = 'DemoAborted';
}

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export function describeExit(s: ExitStatus): string {
  return s.signal ? `killed by ${s.signal}` : `exit code ${s.code}`;
}

/** A daemon started inside a namespace. */
export class Daemon {
  readonly pid: number;
  readonly exited: Promise<ExitStatus>;
  private status: ExitStatus | undefined;

  private constructor(
    /** Short name for messages (`serve`, `connect`, `dns-server`). */
    readonly name: string,
    readonly netns: string,
    readonly argv: readonly string[],
    /** Where its stdout goes. */
    readonly outFile: string,
    /** Where its stderr (its log) goes. */
    readonly logFile: string,
    private readonly child: ChildProcess,
  ) {
    if (child.pid === undefined) throw new DemoError(`could not start ${name}`);
    this.pid = child.pid;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.status = { code, signal };
        resolve(this.status);
      });
    });
  }

  /**
   * Starts `argv` in `netns` with stdout appended to `outFile` and stderr
   * to `logFile`. The daemon gets its own process group (`detached`), so a
   * Ctrl-C in the terminal reaches only the demo, which then stops the
   * daemons in order.
   */
  static start(
    name: string,
    netns: string,
    argv: readonly string[],
    outFile: string,
    logFile: string,
  ): Promise<Daemon> {
    const out = openSync(outFile, 'a', 0o600);
    const err = openSync(logFile, 'a', 0o600);
    let child: ChildProcess;
    try {
      child = spawn('ip', ['netns', 'exec', netns, ...argv], {
        detached: true,
        stdio: ['ignore', out, err],
      });
    } finally {
      // The child has its own copies.
      closeSync(out);
      closeSync(err);
    }
    return new Promise((resolve, reject) => {
      child.once('error', (e) => reject(new DemoError(`could not start ${name}: ${e.message}`)));
      child.once('spawn', () => resolve(new Daemon(name, netns, argv, outFile, logFile, child)));
    });
  }

  get running(): boolean {
    return this.status === undefined;
  }

  get exitStatus(): ExitStatus | undefined {
    return this.status;
  }

  /** Lets the demo exit while the daemon runs on (`--keep`). */
  detach(): void {
    this.child.unref();
  }

  /**
   * SIGTERM, then SIGKILL after `graceMs`; resolves with the exit status
   * once it has exited, or `undefined` if even SIGKILL did not end it
   * within 5 s more (a process stuck in the kernel).
   */
  async stop(graceMs = 8000): Promise<ExitStatus | undefined> {
    if (this.status) return this.status;
    this.signal('SIGTERM');
    let kill: NodeJS.Timeout | undefined;
    let giveUp: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<undefined>((resolve) => {
      kill = setTimeout(() => {
        this.signal('SIGKILL');
        giveUp = setTimeout(() => resolve(undefined), 5000);
      }, graceMs);
    });
    try {
      return await Promise.race([this.exited, gaveUp]);
    } finally {
      clearTimeout(kill);
      clearTimeout(giveUp);
    }
  }

  /** For process exit: SIGKILL, no waiting. */
  killNow(): void {
    if (this.status === undefined) this.signal('SIGKILL');
  }

  private signal(sig: NodeJS.Signals): void {
    try {
      process.kill(this.pid, sig);
    } catch {
      // Already gone (ESRCH): nothing to do.
    }
  }

  /** Its stdout so far ('' when unreadable). */
  output(): string {
    return readOrEmpty(this.outFile);
  }

  /** Its log (stderr) so far. */
  log(): string {
    return readOrEmpty(this.logFile);
  }

  /** The last `n` non-empty lines of its stdout and then its log, each line prefixed with the daemon's name. */
  tail(n = 10): string[] {
    const last = (s: string) =>
      s
        .split('\n')
        .filter((l) => l.trim() !== '')
        .slice(-n);
    return [...last(this.output()), ...last(this.log())].map((l) => `${this.name}: ${l}`);
  }
}

function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * Runs argv (no shell) with a time-out (and killed early when `signal`
 * aborts); resolves with the result whatever the exit code.
 */
export function run(argv: readonly string[], timeoutMs = 15_000, signal?: AbortSignal): Promise<RunResult> {
  const [cmd, ...args] = argv;
  return new Promise((resolve) => {
    execFile(
      cmd!,
      args,
      {
        timeout: timeoutMs,
        maxBuffer: 8 << 20,
        encoding: 'utf8',
        killSignal: 'SIGKILL',
        ...(signal ? { signal } : {}),
      },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string; signal?: NodeJS.Signals }) | null;
        resolve({
          stdout,
          stderr: e && typeof e.code === 'string' ? `${stderr}${e.message}` : stderr,
          code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
          signal: e?.signal ?? null,
        });
      },
    );
  });
}

/** Runs argv inside `netns`. */
export function runIn(
  netns: string,
  argv: readonly string[],
  timeoutMs = 15_000,
  signal?: AbortSignal,
): Promise<RunResult> {
  return run(['ip', 'netns', 'exec', netns, ...argv], timeoutMs, signal);
}

export interface WaitOptions {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  readonly signal?: AbortSignal;
}

/** Resolves after `ms`, or rejects with {@link DemoAborted} when `signal` fires first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new DemoAborted('interrupted'));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new DemoAborted('interrupted'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Polls `check` until it returns a value other than `undefined`, and
 * returns that value. Throws {@link DemoError} `timed out after N s waiting
 * for WHAT` after `timeoutMs`, {@link DemoAborted} on abort, and whatever
 * `check` throws (a daemon that died, say).
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  opts: WaitOptions,
): Promise<T> {
  const deadline = performance.now() + opts.timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (performance.now() >= deadline) {
      throw new DemoError(`timed out after ${(opts.timeoutMs / 1000).toFixed(0)} s waiting for ${what}`);
    }
    await sleep(opts.intervalMs ?? 100, opts.signal);
  }
}

/**
 * Whether a process's network namespace has a socket bound to `port`:
 * a TCP listener (state 0A) or a bound UDP socket, read from
 * `/proc/PID/net/{tcp,udp}` (the table of the namespace the process is in).
 * A readiness check that needs no tool and no knowledge of the daemon's log.
 */
export function hasSocketOnPort(pid: number, proto: 'tcp' | 'udp', port: number): boolean {
  let table: string;
  try {
    table = readFileSync(`/proc/${pid}/net/${proto}`, 'utf8');
  } catch {
    return false;
  }
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const line of table.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 4) continue;
    const local = cols[1]!;
    const state = cols[3]!;
    if (!local.endsWith(`:${portHex}`)) continue;
    if (proto === 'udp' || state === '0A') return true;
  }
  return false;
}
