/**
 * Network namespaces for system tests (docs/style.md §5.8): each test file makes
 * its own, with names that carry the pid, joins them with veth pairs,
 * runs commands inside (`ip netns exec`), spawns long-lived processes there
 * and kills them by PID, and removes everything even when the test fails:
 * `createLab()` registers `lab.cleanup()` with node:test's `after`, and a
 * synchronous fallback runs on process exit and on SIGINT/SIGTERM.
 *
 * Never touches the host's own interfaces or routes: veth pairs are created
 * directly inside the namespaces (`ip link add ... netns A type veth peer
 * ... netns B`), so no interface ever appears in the root namespace.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { after } from 'node:test';

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ExecOptions {
  /** Kill the command after this long (default 20 s). */
  timeoutMs?: number;
  /** Resolve with the result instead of rejecting on a non-zero exit. */
  allowFail?: boolean;
}

/** A process started inside a namespace. */
export interface Spawned {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Everything written to stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<ExecResult>;
  /** Resolves once `re` matches stdout or stderr; rejects after `timeoutMs` or if the process exits first. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it is gone. */
  kill(graceMs?: number): Promise<ExecResult>;
}

/** Runs argv (no shell) with a time-out. */
export function run(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const [cmd, ...args] = argv;
  return new Promise((resolve, reject) => {
    execFile(
      cmd!,
      args,
      { timeout: opts.timeoutMs ?? 20_000, maxBuffer: 16 << 20, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string; signal?: NodeJS.Signals }) | null;
        const res: ExecResult = {
          stdout,
          stderr,
          code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
          signal: e?.signal ?? null,
        };
        if (e && !opts.allowFail) {
          reject(
            new Error(`${argv.join(' ')} failed (${e.code ?? e.signal}): ${stderr.trim() || e.message}`),
          );
        } else {
          resolve(res);
        }
      },
    );
  });
}

let labCounter = 0;
const liveLabs = new Set<NetnsLab>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const lab of liveLabs) lab.cleanupSync();
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const lab of liveLabs) lab.cleanupSync();
      process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
    });
  }
}

export class NetnsLab {
  /** Prefix of every namespace name: `TAG-PID-N`. */
  readonly prefix: string;
  private readonly names: string[] = [];
  private readonly spawned = new Set<Spawned>();
  private cleaned = false;

  constructor(tag: string) {
    if (!/^[a-z0-9]{1,12}$/.test(tag)) throw new TypeError(`lab tag must be 1-12 of [a-z0-9]: ${tag}`);
    this.prefix = `${tag}-${process.pid}-${labCounter++}`;
    liveLabs.add(this);
    installExitHook();
  }

  /** Namespace names created so far. */
  get namespaces(): readonly string[] {
    return this.names;
  }

  /** Creates namespace `PREFIX-short` with its loopback up, and returns its name. */
  async addNamespace(short: string): Promise<string> {
    if (this.cleaned) throw new Error('lab already cleaned up');
    if (!/^[a-z0-9]{1,8}$/.test(short))
      throw new TypeError(`namespace short name must be 1-8 of [a-z0-9]: ${short}`);
    const name = `${this.prefix}-${short}`;
    await run(['ip', 'netns', 'add', name]);
    this.names.push(name);
    await run(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  /** A veth pair with one end in each namespace (created there, never in ours), both ends up. */
  async addVeth(nsA: string, ifA: string, nsB: string, ifB: string): Promise<void> {
    await run(['ip', 'link', 'add', ifA, 'netns', nsA, 'type', 'veth', 'peer', 'name', ifB, 'netns', nsB]);
    await run(['ip', '-n', nsA, 'link', 'set', ifA, 'up']);
    await run(['ip', '-n', nsB, 'link', 'set', ifB, 'up']);
  }

  /** Runs argv inside `ns`; rejects on a non-zero exit unless `allowFail`. */
  exec(ns: string, argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return run(['ip', 'netns', 'exec', ns, ...argv], opts);
  }

  /** Starts a long-lived process inside `ns` (`ip netns exec` execs it, so the PID is the process's own). */
  spawn(ns: string, argv: readonly string[]): Spawned {
    const child = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid === undefined) throw new Error(`could not spawn ${argv.join(' ')}`);
    const pid = child.pid;
    let out = '';
    let err = '';
    const listeners = new Set<() => void>();
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      for (const l of listeners) l();
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      for (const l of listeners) l();
    });
    // `done` must be true before the listeners run on close, or a waitFor()
    // whose process exited early would wait out its whole time-out.
    let done = false;
    const exited = new Promise<ExecResult>((resolve) => {
      child.on('close', (code, signal) => {
        done = true;
        for (const l of listeners) l();
        resolve({ stdout: out, stderr: err, code, signal });
      });
    });
    const spawnedSet = this.spawned;
    const s: Spawned = {
      pid,
      child,
      stdout: () => out,
      stderr: () => err,
      exited,
      waitFor(re, timeoutMs = 10_000) {
        return new Promise((resolve, reject) => {
          const check = () => {
            if (re.test(out) || re.test(err)) finish();
            else if (done) finish(new Error(`${argv[0]} exited before printing ${re}: ${err.trim()}`));
          };
          const timer = setTimeout(
            () => finish(new Error(`timed out waiting for ${re} from ${argv[0]}: ${err.trim()}`)),
            timeoutMs,
          );
          const finish = (e?: Error) => {
            clearTimeout(timer);
            listeners.delete(check);
            if (e) reject(e);
            else resolve();
          };
          listeners.add(check);
          check();
        });
      },
      async kill(graceMs = 3000) {
        if (!done) {
          try {
            process.kill(pid, 'SIGTERM');
          } catch {}
          const timer = setTimeout(() => {
            try {
              process.kill(pid, 'SIGKILL');
            } catch {}
          }, graceMs);
          await exited;
          clearTimeout(timer);
        }
        spawnedSet.delete(s);
        return exited;
      },
    };
    this.spawned.add(s);
    return s;
  }

  /** Kills every spawned process (by PID), then deletes every namespace. Idempotent. */
  async cleanup(): Promise<void> {
    if (this.cleaned) return;
    this.cleaned = true;
    await Promise.all([...this.spawned].map((s) => s.kill()));
    for (const name of this.names.splice(0)) {
      await run(['ip', 'netns', 'del', name], { allowFail: true });
    }
    liveLabs.delete(this);
  }

  /** The same, synchronously, for process exit and signals. */
  cleanupSync(): void {
    if (this.cleaned) return;
    this.cleaned = true;
    for (const s of this.spawned) {
      try {
        process.kill(s.pid, 'SIGKILL');
      } catch {}
    }
    for (const name of this.names.splice(0)) spawnSync('ip', ['netns', 'del', name], { timeout: 5000 });
    liveLabs.delete(this);
  }
}

/**
 * A lab whose cleanup runs in node:test's `after` hook of the current suite
 * (call it at the top level of a test file or inside `describe`).
 */
export function createLab(tag: string): NetnsLab {
  const lab = new NetnsLab(tag);
  after(() => lab.cleanup());
  return lab;
}

/** Names of all network namespaces on the host (to check that a lab left none behind). */
export async function listNamespaces(): Promise<string[]> {
  const r = await run(['ip', 'netns', 'list']);
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter(Boolean);
}

/** True when running as root (system tests need it). */
export const isRoot = process.getuid?.() === 0;

/**
 * `process.getActiveResourcesInfo()`, sorted, once handles that were just
 * closed (a finished child's pipes, say) have run their close callbacks.
 * Note that handles an addon opens itself (our uv_poll) are not listed: a
 * child process that must exit on its own is the test for those.
 */
export async function settledResources(): Promise<string[]> {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  return process.getActiveResourcesInfo().sort();
}
