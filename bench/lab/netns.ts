/**
 * The lab's world: two network namespaces, `server` and `client`, joined by
 * one veth pair (the underlay), with names unique to this process
 * (`pptpbench-PID-N-srv` / `-cli`). The veth is created directly inside the
 * namespaces, so nothing ever appears in the host's own namespace, and the
 * host's interfaces and routes are never touched.
 *
 * ```
 *   ns pptpbench-PID-N-srv                 ns pptpbench-PID-N-cli
 *   ┌───────────────────────┐              ┌───────────────────────┐
 *   │ veth0 198.18.0.1/24   ├──── veth ────┤ veth0 198.18.0.2/24   │
 *   │ (tunnel server end)   │              │ (tunnel client end)   │
 *   └───────────────────────┘              └───────────────────────┘
 * ```
 *
 * Addresses come from 198.18.0.0/15, the range RFC 2544 reserves for
 * benchmarking: the underlay is 198.18.0.0/24 and each contender's tunnel
 * gets its own 198.19.N.0/24.
 *
 * Every process the lab starts is tracked by PID and stopped by PID; the
 * namespaces are deleted by {@link Lab.close}, and, should the run die, by a
 * synchronous fallback on process exit, SIGINT and SIGTERM. All commands run
 * with a time-out.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
  /** Exit code, or null when killed by a signal (time-out included). */
  readonly code: number | null;
}

export interface ExecOptions {
  /** Kill the command after this long (default 20 s). */
  timeoutMs?: number;
  /** Resolve with the result instead of rejecting on failure. */
  allowFail?: boolean;
}

/** Runs argv (no shell) with a time-out. */
export function run(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const [cmd, ...args] = argv;
  return new Promise((resolve, reject) => {
    execFile(
      cmd!,
      args,
      { timeout: opts.timeoutMs ?? 20_000, killSignal: 'SIGKILL', maxBuffer: 64 << 20, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const e = err as
          | (NodeJS.ErrnoException & { code?: number | string; killed?: boolean; signal?: string })
          | null;
        const code = e ? (typeof e.code === 'number' ? e.code : null) : 0;
        if (e && !opts.allowFail) {
          const why = e.killed
            ? `timed out after ${opts.timeoutMs ?? 20_000} ms`
            : `exit ${e.code ?? e.signal}`;
          reject(new Error(`${argv.join(' ')}: ${why}: ${(stderr || e.message).trim().slice(0, 500)}`));
        } else {
          resolve({ stdout, stderr, code });
        }
      },
    );
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Whether `pid` is still a running process (a zombie has finished: only its parent's wait is missing). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX] /s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Waits until every PID in `pids` has finished (bounded). A SIGKILL only
 * starts the end of a process: one that holds a TUN or a socket in a
 * namespace can spend a while in the kernel tearing it down (state D), and
 * the lab must not report the namespace clean, or exit, before it is gone.
 */
async function waitFinished(pids: Iterable<number>, timeoutMs: number): Promise<void> {
  const left = new Set(pids);
  const deadline = performance.now() + timeoutMs;
  while (left.size > 0 && performance.now() < deadline) {
    for (const pid of left) if (!running(pid)) left.delete(pid);
    if (left.size > 0) await sleep(10);
  }
}

/** {@link waitFinished} for the synchronous exit and signal path (sleeps with Atomics.wait). */
function waitFinishedSync(pids: Iterable<number>, timeoutMs: number): void {
  const left = new Set(pids);
  const deadline = performance.now() + timeoutMs;
  const cell = new Int32Array(new SharedArrayBuffer(4));
  while (left.size > 0 && performance.now() < deadline) {
    for (const pid of left) if (!running(pid)) left.delete(pid);
    if (left.size > 0) Atomics.wait(cell, 0, 0, 10);
  }
}

/**
 * Polls `check` every `intervalMs` until it returns true; throws after
 * `timeoutMs` with `what` in the message. Errors from `check` count as false.
 */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  intervalMs = 50,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (performance.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** A long-lived process started in one of the lab's namespaces. */
export interface LabProcess {
  readonly pid: number;
  /** Short name for messages (`openvpn server`). */
  readonly label: string;
  readonly child: ChildProcess;
  /** The last 64 KiB of stdout and stderr, interleaved. */
  output(): string;
  /** True once it has exited. */
  exited(): boolean;
  /** Resolves with the exit code (null on a signal) once it has exited. */
  readonly done: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it is gone. */
  stop(graceMs?: number): Promise<void>;
}

const OUTPUT_KEEP = 64 << 10;

let labCounter = 0;
const liveLabs = new Set<Lab>();
const onExit = () => {
  for (const lab of liveLabs) lab.closeSync();
};
const onSignal = (sig: NodeJS.Signals) => {
  for (const lab of liveLabs) lab.closeSync();
  process.stderr.write(`\nbench lab: ${sig}: namespaces and processes removed\n`);
  process.exit(sig === 'SIGINT' ? 130 : 143);
};

/** Signal handlers exist only while a lab is live, so a caller's own SIGINT handling comes back afterwards. */
function track(lab: Lab, live: boolean): void {
  if (live) {
    if (liveLabs.size === 0) {
      process.on('exit', onExit);
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    }
    liveLabs.add(lab);
  } else if (liveLabs.delete(lab) && liveLabs.size === 0) {
    process.off('exit', onExit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The two namespaces and their veth pair; see the module comment. */
export class Lab {
  /** `pptpbench-PID-N`: the prefix of both namespace names. */
  readonly name: string;
  readonly serverNs: string;
  readonly clientNs: string;
  /** Digits unique to this lab on this host (PID + counter), for names outside the namespaces. */
  readonly unique: string;
  /** The underlay interface's name in both namespaces. */
  readonly underlayDevice = 'veth0';
  readonly serverUnderlay = '198.18.0.1';
  readonly clientUnderlay = '198.18.0.2';
  /** A private directory for keys and configs, removed on close. */
  readonly tmpDir: string;
  private readonly created: string[] = [];
  private readonly processes = new Set<LabProcess>();
  private closed = false;

  private constructor() {
    const n = labCounter++;
    this.name = `pptpbench-${process.pid}-${n}`;
    this.unique = `${process.pid}${n}`;
    this.serverNs = `${this.name}-srv`;
    this.clientNs = `${this.name}-cli`;
    this.tmpDir = mkdtempSync(join(tmpdir(), `${this.name}-`));
    track(this, true);
  }

  /** Builds the namespaces and the veth underlay. Removes what it made if that fails. */
  static async create(): Promise<Lab> {
    const lab = new Lab();
    try {
      for (const ns of [lab.serverNs, lab.clientNs]) {
        await run(['ip', 'netns', 'add', ns]);
        lab.created.push(ns);
        await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      }
      const dev = lab.underlayDevice;
      await run([
        'ip',
        'link',
        'add',
        dev,
        'netns',
        lab.serverNs,
        'type',
        'veth',
        'peer',
        'name',
        dev,
        'netns',
        lab.clientNs,
      ]);
      await run(['ip', '-n', lab.serverNs, 'addr', 'add', `${lab.serverUnderlay}/24`, 'dev', dev]);
      await run(['ip', '-n', lab.clientNs, 'addr', 'add', `${lab.clientUnderlay}/24`, 'dev', dev]);
      await run(['ip', '-n', lab.serverNs, 'link', 'set', dev, 'up']);
      await run(['ip', '-n', lab.clientNs, 'link', 'set', dev, 'up']);
      await waitUntil(
        'the veth underlay to pass a ping',
        async () =>
          (
            await lab.exec(lab.clientNs, ['ping', '-c', '1', '-W', '1', lab.serverUnderlay], {
              allowFail: true,
            })
          ).code === 0,
        10_000,
        100,
      );
    } catch (e) {
      await lab.close();
      throw e;
    }
    return lab;
  }

  /** Runs argv inside `ns` (`ip netns exec`). */
  exec(ns: string, argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return run(['ip', 'netns', 'exec', ns, ...argv], opts);
  }

  /** Runs `ip -n ns ARGS`. */
  ip(ns: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return run(['ip', '-n', ns, ...args], opts);
  }

  /**
   * Starts a long-lived process inside `ns`. `ip netns exec` execs the
   * command, so the PID is the command's own.
   */
  spawn(
    ns: string,
    argv: readonly string[],
    label: string,
    env?: NodeJS.ProcessEnv,
    /** Give it a stdin pipe (`child.stdin`) instead of none. */
    input = false,
  ): LabProcess {
    if (this.closed) throw new Error('lab is closed');
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], {
      stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      env: env ? { ...process.env, ...env } : process.env,
    });
    if (child.pid === undefined) throw new Error(`could not start ${argv[0]}`);
    const pid = child.pid;
    let out = '';
    const keep = (d: Buffer) => {
      out += d.toString('utf8');
      if (out.length > OUTPUT_KEEP * 2) out = out.slice(-OUTPUT_KEEP);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    let isDone = false;
    const done = new Promise<number | null>((resolve) => {
      child.on('error', (e) => {
        out += `\n${e.message}`;
      });
      child.on('close', (code) => {
        isDone = true;
        resolve(code);
      });
    });
    const processes = this.processes;
    const p: LabProcess = {
      pid,
      label,
      child,
      output: () => out.slice(-OUTPUT_KEEP),
      exited: () => isDone,
      done,
      async stop(graceMs = 3000) {
        if (!isDone) {
          try {
            process.kill(pid, 'SIGTERM');
          } catch {}
          const t = setTimeout(() => {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {}
          }, graceMs);
          // 'close' waits for the pipes too; a grandchild holding them must not hang us.
          await Promise.race([done, sleep(graceMs + 2000)]);
          clearTimeout(t);
        }
        processes.delete(p);
      },
    };
    this.processes.add(p);
    return p;
  }

  /** Interface names in `ns` (from `ip -j link`). */
  async links(ns: string): Promise<string[]> {
    const r = await this.ip(ns, ['-j', 'link', 'show']);
    return (JSON.parse(r.stdout) as { ifname: string }[]).map((l) => l.ifname);
  }

  /** PIDs of processes whose network namespace is `ns` (`ip netns pids`). */
  async pids(ns: string): Promise<number[]> {
    const r = await run(['ip', 'netns', 'pids', ns], { allowFail: true });
    return r.stdout
      .split(/\s+/)
      .filter((s) => /^\d+$/.test(s))
      .map(Number);
  }

  /**
   * What a contender left behind: interfaces other than lo and the underlay,
   * and processes in the namespaces. Empty when the lab is back to its
   * initial state.
   */
  async residue(): Promise<string[]> {
    const out: string[] = [];
    for (const ns of [this.serverNs, this.clientNs]) {
      for (const l of await this.links(ns)) {
        if (l !== 'lo' && l !== this.underlayDevice) out.push(`interface ${l} in ${ns}`);
      }
      for (const pid of await this.pids(ns)) out.push(`process ${pid} in ${ns}`);
    }
    return out;
  }

  /**
   * Puts the lab back to its initial state after a contender that did not
   * clean up: kills the processes inside our namespaces (ours by
   * construction) by PID and deletes extra interfaces.
   */
  async scrub(): Promise<void> {
    for (const p of [...this.processes]) await p.stop(1000);
    for (const ns of [this.serverNs, this.clientNs]) {
      const pids = await this.pids(ns);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      }
      await waitFinished(pids, 5000);
      for (const l of await this.links(ns)) {
        if (l !== 'lo' && l !== this.underlayDevice)
          await this.ip(ns, ['link', 'del', l], { allowFail: true });
      }
    }
  }

  /** Stops every process, deletes both namespaces and the temp directory. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.processes].map((p) => p.stop(2000)));
    for (const ns of this.created.splice(0)) {
      const pids = await this.pids(ns);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      }
      await waitFinished(pids, 5000);
      await run(['ip', 'netns', 'del', ns], { allowFail: true, timeoutMs: 10_000 });
    }
    rmSync(this.tmpDir, { recursive: true, force: true });
    track(this, false);
  }

  /** The same, synchronously, for process exit and signals. */
  closeSync(): void {
    if (this.closed) return;
    this.closed = true;
    const killed: number[] = [];
    for (const p of this.processes) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {}
      killed.push(p.pid);
    }
    for (const ns of this.created.splice(0)) {
      const r = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', timeout: 5000 });
      for (const pid of (r.stdout ?? '').split(/\s+/).filter((s) => /^\d+$/.test(s))) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {}
        killed.push(Number(pid));
      }
      spawnSync('ip', ['netns', 'del', ns], { timeout: 5000 });
    }
    // Before this process exits (Ctrl-C), every one of them must really be gone.
    waitFinishedSync(killed, 5000);
    rmSync(this.tmpDir, { recursive: true, force: true });
    track(this, false);
  }
}
