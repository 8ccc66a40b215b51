/**
 * The interop lab (docs/interop.md): Debian VMs with the real Linux
 * PPTP peers (kernel ppp_generic/ppp_async/ppp_mppe, pppd, pptp-linux,
 * pptpd), booted under qemu (TCG) and wired to a network namespace that the
 * test owns, where pptp-ts runs.
 *
 * ```
 *   namespace interop-PID-N-lab                    VM "peer" (qemu, 384 MB)
 *   ┌──────────────────────────────┐   TAP      ┌──────────────────────────┐
 *   │ br0 192.0.2.1/24             ├──tap2──────┤ eth0 192.0.2.2/24        │
 *   │  pptp-ts, tcpdump            ├──tap3──┐   │ pptpd / pppd+pptp, dnsmasq│
 *   └──────────────────────────────┘        │   │ agent on virtio-serial   │
 *                                           │   └──────────────────────────┘
 *                                           └── VM "peer2" 192.0.2.3 ...
 * ```
 *
 * The VMs reach nothing but the namespace: their TAPs are created inside it
 * and qemu runs inside it (`ip netns exec`), so no interface, address or
 * route is ever added to the host's own namespace. The host talks to each VM
 * through its command agent (scripts/interop/agent.c) over a unix socket,
 * which does not depend on the network the tests are busy breaking.
 *
 * Everything started here is killed by PID and the namespace is deleted in
 * `close()`, on process exit and on SIGINT/SIGTERM (test/helpers/netns.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ExecOptions, type ExecResult, NetnsLab, type Spawned } from '../helpers/netns.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The image build script (scripts/interop/build-image.sh). */
export const BUILD_SCRIPT = join(ROOT, 'scripts/interop/build-image.sh');

/** Addresses and names of the lab network (TEST-NET-1, RFC 5737: routed nowhere). */
export const LAB_NET = {
  /** The namespace's address on the bridge. */
  hostAddress: '192.0.2.1',
  prefixLength: 24,
  /** VM n gets `192.0.2.n` (n = 2, 3, ...). */
  vmAddress: (n: number): string => `192.0.2.${n}`,
  bridge: 'br0',
} as const;

/** Files of a built image (build-image.sh's output directory). */
export interface LabImage {
  dir: string;
  /** Uncompressed kernel with a PVH entry: qemu boots it without the decompressor (measured: 6 s faster under TCG). */
  kernel: string;
  initrd: string;
  manifest: string;
}

let imagePromise: Promise<LabImage> | undefined;

/**
 * Builds the VM image if the cache has none for the current build files,
 * else reuses it (scripts/interop/build-image.sh does the caching and
 * locking). Progress goes to stderr. Memoised per process.
 */
export function ensureImage(opts: { timeoutMs?: number } = {}): Promise<LabImage> {
  imagePromise ??= new Promise<LabImage>((resolvePromise, reject) => {
    const child = spawn('bash', [BUILD_SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      process.stderr.write(d);
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), opts.timeoutMs ?? 15 * 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const dir = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !dir) {
        reject(
          new Error(
            `build-image.sh failed (${code ?? signal}):\n${err.trim().split('\n').slice(-15).join('\n')}`,
          ),
        );
        return;
      }
      const image = {
        dir,
        kernel: join(dir, 'vmlinux'),
        initrd: join(dir, 'initrd.cpio'),
        manifest: join(dir, 'manifest.txt'),
      };
      for (const f of [image.kernel, image.initrd, image.manifest]) {
        if (!existsSync(f)) {
          reject(new Error(`build-image.sh reported ${dir}, but ${f} is missing`));
          return;
        }
      }
      resolvePromise(image);
    });
  });
  // A failed build may be retried by the next caller.
  imagePromise.catch(() => {
    imagePromise = undefined;
  });
  return imagePromise;
}

/** What a command run in a VM did. */
export interface VmExecResult {
  /** The agent's status: `exit:N`, `signal:N`, `timeout` or `error`. */
  status: string;
  /** Exit code, or null when it was killed by a signal, timed out or never ran. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout as bytes (for binary output). */
  stdoutBytes: Buffer;
  timedOut: boolean;
}

export interface VmExecOptions {
  /** The agent kills the command's process group after this long (default 30 s). */
  timeoutMs?: number;
  /** Bytes for the command's stdin (default: /dev/null). */
  stdin?: string | Uint8Array;
}

/** Quotes a string for bash (single quotes). */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The host end of the agent protocol (scripts/interop/agent.c): requests
 * `ID TIMEOUT_S B64(script) [B64(stdin)]`, responses
 * `ID STATUS B64(stdout) B64(stderr)`, one per line, matched by ID.
 */
class AgentClient {
  private socket: net.Socket | undefined;
  private chunks: Buffer[] = [];
  private readonly pending = new Map<string, (r: VmExecResult) => void>();
  private nextId = 0;
  /** Makes IDs unique across connections: a late answer meant for an earlier client can never match. */
  private readonly idPrefix = randomBytes(4).toString('hex');
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly label: string,
  ) {}

  /** Connects to qemu's socket (it appears when qemu starts), retrying until `deadline`. */
  async connect(deadline: number, alive: () => boolean): Promise<void> {
    for (;;) {
      if (!alive()) throw new Error(`${this.label}: qemu exited before its agent socket opened`);
      try {
        this.socket = await new Promise<net.Socket>((res, rej) => {
          const s = net.connect(this.path);
          s.once('connect', () => res(s));
          s.once('error', rej);
        });
        break;
      } catch {
        if (Date.now() > deadline) throw new Error(`${this.label}: no agent socket at ${this.path}`);
        await sleep(100);
      }
    }
    this.socket.on('data', (d: Buffer) => this.onData(d));
    this.socket.on('error', () => {});
    this.socket.on('close', () => this.failAll('agent connection closed'));
  }

  private onData(d: Buffer): void {
    let start = 0;
    for (let nl = d.indexOf(0x0a); nl >= 0; nl = d.indexOf(0x0a, start)) {
      this.chunks.push(d.subarray(start, nl));
      const line = Buffer.concat(this.chunks).toString('latin1');
      this.chunks = [];
      start = nl + 1;
      this.onLine(line);
    }
    if (start < d.length) this.chunks.push(d.subarray(start));
  }

  private onLine(line: string): void {
    const [id, status, out, err] = line.split(' ');
    const done = id === undefined ? undefined : this.pending.get(id);
    if (!done || status === undefined) return; // a late answer to a boot probe, or noise
    this.pending.delete(id!);
    const exit = /^exit:(\d+)$/.exec(status);
    const stdoutBytes = Buffer.from(out ?? '', 'base64');
    done({
      status,
      code: exit ? Number(exit[1]) : null,
      stdout: stdoutBytes.toString('utf8'),
      stderr: Buffer.from(err ?? '', 'base64').toString('utf8'),
      stdoutBytes,
      timedOut: status === 'timeout',
    });
  }

  private failAll(why: string): void {
    this.closed = true;
    for (const [, done] of this.pending) {
      done({
        status: 'error',
        code: null,
        stdout: '',
        stderr: why,
        stdoutBytes: Buffer.alloc(0),
        timedOut: false,
      });
    }
    this.pending.clear();
  }

  /** Sends one request; resolves with the agent's answer, or with status `error` if none comes in time. */
  request(script: string, opts: VmExecOptions = {}): Promise<VmExecResult> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const id = `${this.idPrefix}-${this.nextId++}`;
    if (this.closed || !this.socket) {
      return Promise.resolve({
        status: 'error',
        code: null,
        stdout: '',
        stderr: 'agent not connected',
        stdoutBytes: Buffer.alloc(0),
        timedOut: false,
      });
    }
    const timeoutS = Math.max(1, Math.ceil(timeoutMs / 1000));
    let line = `${id} ${timeoutS} ${Buffer.from(script).toString('base64')}`;
    if (opts.stdin !== undefined) line += ` ${Buffer.from(opts.stdin).toString('base64')}`;
    return new Promise((res) => {
      // The agent answers `timeout` itself; this only catches a dead agent.
      const timer = setTimeout(
        () => {
          this.pending.delete(id);
          res({
            status: 'error',
            code: null,
            stdout: '',
            stderr: `${this.label}: the agent did not answer within ${timeoutS + 10} s`,
            stdoutBytes: Buffer.alloc(0),
            timedOut: true,
          });
        },
        (timeoutS + 10) * 1000,
      );
      this.pending.set(id, (r) => {
        clearTimeout(timer);
        res(r);
      });
      this.socket!.write(`${line}\n`);
    });
  }

  close(): void {
    this.socket?.destroy();
    this.failAll('agent connection closed');
  }
}

/**
 * Runs one script through the agent socket of a VM that someone else booted
 * (test/interop/cli.ts exec), then disconnects.
 */
export async function agentExec(
  socketPath: string,
  script: string,
  opts: VmExecOptions = {},
): Promise<VmExecResult> {
  const agent = new AgentClient(socketPath, socketPath);
  await agent.connect(Date.now() + 5000, () => true);
  try {
    return await agent.request(script, opts);
  } finally {
    agent.close();
  }
}

export interface VmOptions {
  /** Short name, 1-8 of [a-z0-9]; also the VM's host name. */
  name: string;
  /** n in the VM's address 192.0.2.n (2-254); default: the next free one. */
  hostId?: number;
  /** Guest memory (default 384 MB). */
  memoryMb?: number;
  /** Bound on boot, from qemu's start to the agent's first answer (default 120 s). */
  bootTimeoutMs?: number;
  /** Show kernel messages on the console log (default: `quiet`). */
  verboseKernel?: boolean;
}

/** One VM of the lab. */
export class Vm {
  /** Milliseconds from qemu's start to the agent's first answer. */
  bootMs = 0;
  private exitedEarly = false;

  constructor(
    readonly lab: Lab,
    readonly name: string,
    /** Address on the lab bridge. */
    readonly address: string,
    readonly mac: string,
    /** TAP interface in the lab namespace. */
    readonly tap: string,
    /** Everything the serial console printed, as a file on the host. */
    readonly consoleLog: string,
    /** The serial console as a unix socket (a root shell runs there). */
    readonly consoleSocket: string,
    /** The agent's unix socket (for {@link agentExec}). */
    readonly agentSocket: string,
    private readonly qemu: Spawned,
    private readonly agent: AgentClient,
  ) {
    void qemu.exited.then(() => {
      this.exitedEarly = true;
    });
  }

  /** PID of the qemu process (in the lab namespace). */
  get pid(): number {
    return this.qemu.pid;
  }

  /** True while qemu runs. */
  get running(): boolean {
    return !this.exitedEarly;
  }

  /** Waits for the agent's first answer (called by `Lab.bootVm`). */
  async waitForAgent(deadline: number): Promise<void> {
    const started = Date.now();
    await this.agent.connect(deadline, () => this.running);
    for (;;) {
      // Requests sent before the guest opens its port wait in qemu; a probe
      // is re-sent every few seconds in case one was lost.
      const left = deadline - Date.now();
      if (left <= 0 || !this.running) break;
      const r = await Promise.race([
        this.agent.request('echo ready', { timeoutMs: 1000 }),
        sleep(Math.min(left, 3000)).then(() => undefined),
        this.qemu.exited.then(() => undefined),
      ]);
      if (r?.stdout === 'ready\n') {
        this.bootMs = Date.now() - started;
        return;
      }
    }
    throw new Error(
      `${this.name}: ${this.running ? 'the agent did not answer in time' : 'qemu exited'} during boot\n` +
        `--- console (${this.consoleLog}) ---\n${this.consoleTail(40)}\n--- qemu ---\n${this.qemu.stderr().trim()}`,
    );
  }

  /**
   * Lets go of the agent socket, so another client (test/interop/cli.ts exec)
   * can connect: qemu serves one client at a time. `exec` fails afterwards.
   */
  releaseAgent(): void {
    this.agent.close();
  }

  /** Runs a bash script in the VM; resolves with whatever it did (never rejects). */
  exec(script: string, opts: VmExecOptions = {}): Promise<VmExecResult> {
    return this.agent.request(script, opts);
  }

  /** Runs a bash script in the VM and returns its stdout; rejects unless it exits 0. */
  async run(script: string, opts: VmExecOptions = {}): Promise<string> {
    const r = await this.exec(script, opts);
    if (r.code !== 0) {
      throw new Error(`${this.name}: \`${script.trim().slice(0, 200)}\` → ${r.status}\n${r.stderr.trim()}`);
    }
    return r.stdout;
  }

  /** Writes a file in the VM (parent directories are created). */
  async writeFile(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
    await this.run(
      `mkdir -p ${shq(dirname(path))} && cat > ${shq(path)} && chmod ${mode.toString(8)} ${shq(path)}`,
      {
        stdin: data,
      },
    );
  }

  /** Reads a file from the VM. */
  async readFile(path: string): Promise<Buffer> {
    const r = await this.exec(`cat ${shq(path)}`);
    if (r.code !== 0) throw new Error(`${this.name}: cannot read ${path}: ${r.stderr.trim()}`);
    return r.stdoutBytes;
  }

  /**
   * Polls a bash condition inside the VM (every 0.2 s, in one agent call) until
   * it succeeds; rejects with `what` after `timeoutMs`.
   */
  async waitFor(condition: string, what: string, timeoutMs = 30_000): Promise<void> {
    const r = await this.exec(`until ${condition}; do sleep 0.2; done`, { timeoutMs });
    if (r.code !== 0) throw new Error(`${this.name}: timed out after ${timeoutMs} ms waiting for ${what}`);
  }

  /**
   * Starts `command` (bash) as a daemon in its own session, with stdout and
   * stderr in /var/log/lab/NAME.log. Its PID goes to /run/lab/NAME.pid and,
   * when it exits, its exit status to /run/lab/NAME.exit (written by a small
   * wrapper that leads the session; its PID, the session ID, is in NAME.sid).
   * Returns the daemon's PID.
   */
  async startDaemon(name: string, command: string): Promise<number> {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new TypeError(`bad daemon name: ${name}`);
    const f = `/run/lab/${name}`;
    const wrapper = `echo $$ > ${f}.sid; ${command} & echo $! > ${f}.pid; wait $!; echo $? > ${f}.exit`;
    const out = await this.run(
      `mkdir -p /run/lab /var/log/lab && rm -f ${f}.pid ${f}.exit ${f}.sid && ` +
        `(setsid bash -c ${shq(wrapper)} > /var/log/lab/${name}.log 2>&1 < /dev/null &) && ` +
        `for i in $(seq 100); do [ -s ${f}.pid ] && break; sleep 0.05; done; cat ${f}.pid`,
    );
    const pid = Number(out.trim());
    if (!Number.isInteger(pid) || pid <= 1) throw new Error(`${this.name}: daemon ${name} did not start`);
    return pid;
  }

  /** The daemon's exit status, or null while it runs. Throws if it was never started. */
  async daemonExit(name: string): Promise<number | null> {
    const f = `/run/lab/${name}`;
    const r = await this.exec(`[ -e ${f}.pid ] || exit 3; cat ${f}.exit 2>/dev/null; exit 0`);
    if (r.code === 3) throw new Error(`${this.name}: no daemon ${name}`);
    return r.stdout.trim() === '' ? null : Number(r.stdout.trim());
  }

  /** Waits until the daemon exits by itself; resolves with its exit status. */
  async waitDaemonExit(name: string, timeoutMs = 30_000): Promise<number> {
    await this.waitFor(`[ -s /run/lab/${name}.exit ]`, `daemon ${name} to exit`, timeoutMs);
    return (await this.daemonExit(name))!;
  }

  /**
   * Stops a daemon: SIG`signal` to it; after `graceMs`, SIGKILL to whatever
   * is left in its session (it and its children). Resolves with its exit
   * status (128 + signal number when a signal ended it).
   */
  async stopDaemon(name: string, signal = 'TERM', graceMs = 5000): Promise<number | null> {
    if (!/^[A-Z0-9]+$/.test(signal)) throw new TypeError(`bad signal: ${signal}`);
    const f = `/run/lab/${name}`;
    const r = await this.exec(
      `[ -s ${f}.pid ] || exit 3
      kill -${signal} "$(cat ${f}.pid)" 2>/dev/null
      end=$(( $(date +%s%N) + ${Math.round(graceMs * 1e6)} ))
      while [ ! -s ${f}.exit ] && [ "$(date +%s%N)" -lt $end ]; do sleep 0.1; done
      sid=$(cat ${f}.sid)
      for p in $(pgrep -s "$sid"); do [ "$p" = "$sid" ] || kill -KILL "$p" 2>/dev/null; done
      for i in $(seq 50); do [ -s ${f}.exit ] && break; sleep 0.1; done
      cat ${f}.exit`,
      { timeoutMs: graceMs + 15_000 },
    );
    if (r.code === 3) throw new Error(`${this.name}: no daemon ${name}`);
    return r.stdout.trim() === '' ? null : Number(r.stdout.trim());
  }

  /** The daemon's log (its stdout and stderr). */
  async daemonLog(name: string): Promise<string> {
    return (await this.exec(`cat /var/log/lab/${name}.log 2>/dev/null`)).stdout;
  }

  /** The VM's syslog (pptpd and pppd log there). */
  async syslog(): Promise<string> {
    return (await this.exec('cat /var/log/messages 2>/dev/null')).stdout;
  }

  /** The last `lines` lines of the serial console. */
  consoleTail(lines = 30): string {
    try {
      return readFileSync(this.consoleLog, 'latin1').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no console log)';
    }
  }

  /** Pulls the plug: SIGKILL to qemu (the peer vanishes mid-session). Resolves when it is gone. */
  async kill(): Promise<void> {
    try {
      process.kill(this.qemu.pid, 'SIGKILL');
    } catch {}
    await this.qemu.exited;
  }

  /** Stops the VM (SIGTERM to qemu, then SIGKILL) and closes the agent connection. */
  async close(): Promise<void> {
    this.agent.close();
    await this.qemu.kill(2000);
  }
}

/** A running tcpdump in the lab namespace. */
export interface Capture {
  /** The pcap file on the host. */
  readonly file: string;
  /** Stops tcpdump (SIGTERM: it flushes the file) and returns the file. */
  stop(): Promise<string>;
}

let qemuBinary: string | undefined;

/** Work directories of open labs, removed on process exit (NetnsLab's exit hook kills the processes and namespaces). */
const openWorkDirs = new Set<string>();
let exitHookInstalled = false;
function keepArtifacts(): boolean {
  return process.env.PPTP_TS_INTEROP_KEEP === '1';
}

/**
 * A lab: one network namespace with a bridge, VMs attached to it by TAPs,
 * and the processes the test runs there. `Lab.create()` in a `before` hook,
 * `lab.close()` in the suite's `after` hook (node:test runs an `after`
 * registered inside `before` right away).
 */
export class Lab {
  /** Directory on the host for console logs, agent sockets and captures. */
  readonly workDir: string;
  private readonly vms: Vm[] = [];
  private readonly captures: Spawned[] = [];
  private usedHostIds = new Set<number>([1]);
  private closed = false;

  private constructor(
    readonly image: LabImage,
    private readonly netns: NetnsLab,
    /** The lab namespace, where pptp-ts runs. */
    readonly ns: string,
  ) {
    this.workDir = mkdtempSync(join(tmpdir(), `${ns}-`));
    openWorkDirs.add(this.workDir);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', () => {
        if (keepArtifacts()) return;
        for (const dir of openWorkDirs) rmSync(dir, { recursive: true, force: true });
      });
    }
  }

  /** Builds or reuses the image, then creates the namespace and its bridge. */
  static async create(): Promise<Lab> {
    const missing = ['qemu-system-x86_64', 'tcpdump', 'ip'].filter(
      (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0,
    );
    if (missing.length) {
      throw new Error(
        `the interop lab needs ${missing.join(', ')}: apt-get install --no-install-recommends qemu-system-x86 debootstrap cpio tcpdump iproute2`,
      );
    }
    const image = await ensureImage();
    const netns = new NetnsLab('interop');
    try {
      const ns = await netns.addNamespace('lab');
      const lab = new Lab(image, netns, ns);
      await lab.ip(['link', 'add', LAB_NET.bridge, 'type', 'bridge']);
      await lab.ip(['addr', 'add', `${LAB_NET.hostAddress}/${LAB_NET.prefixLength}`, 'dev', LAB_NET.bridge]);
      await lab.ip(['link', 'set', LAB_NET.bridge, 'up']);
      return lab;
    } catch (e) {
      await netns.cleanup();
      throw e;
    }
  }

  /** The namespaces behind the lab, for helpers that take a NetnsLab and a namespace (e.g. startFreeRadius with `ns`). */
  get namespaces(): NetnsLab {
    return this.netns;
  }

  /** The lab's VMs, in boot order. */
  get machines(): readonly Vm[] {
    return this.vms;
  }

  /** Runs `ip ARGS` inside the lab namespace. */
  ip(args: readonly string[]): Promise<ExecResult> {
    return this.netns.exec(this.ns, ['ip', ...args]);
  }

  /** Runs argv inside the lab namespace; rejects on a non-zero exit unless `allowFail`. */
  exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return this.netns.exec(this.ns, argv, opts);
  }

  /** Starts a long-lived process inside the lab namespace (killed by PID in `close()`). */
  spawn(argv: readonly string[]): Spawned {
    return this.netns.spawn(this.ns, argv);
  }

  /** Writes a file in the work directory (a pptp-ts config, a secrets file); returns its path. */
  writeFile(name: string, data: string | Uint8Array, mode = 0o600): string {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new TypeError(`bad file name: ${name}`);
    const path = join(this.workDir, name);
    writeFileSync(path, data, { mode });
    return path;
  }

  /** Starts `pptp-ts ARGS...` (this checkout's bin/pptp-ts.js, this Node) in the lab namespace. */
  spawnPptpTs(args: readonly string[]): Spawned {
    return this.spawn([process.execPath, join(ROOT, 'bin/pptp-ts.js'), ...args]);
  }

  /** Boots a VM on the lab bridge and waits for its agent. */
  async bootVm(opts: VmOptions): Promise<Vm> {
    if (this.closed) throw new Error('lab closed');
    if (!/^[a-z0-9]{1,8}$/.test(opts.name))
      throw new TypeError(`VM name must be 1-8 of [a-z0-9]: ${opts.name}`);
    if (this.vms.some((v) => v.name === opts.name)) throw new Error(`VM ${opts.name} exists`);
    let hostId = opts.hostId;
    if (hostId === undefined) {
      hostId = 2;
      while (this.usedHostIds.has(hostId)) hostId++;
    }
    if (!Number.isInteger(hostId) || hostId < 2 || hostId > 254 || this.usedHostIds.has(hostId)) {
      throw new RangeError(`VM host id ${hostId} is taken or outside 2-254`);
    }
    this.usedHostIds.add(hostId);
    const address = LAB_NET.vmAddress(hostId);
    const mac = `52:54:00:00:00:${hostId.toString(16).padStart(2, '0')}`;
    const tap = `tap${hostId}`;
    await this.ip(['tuntap', 'add', 'dev', tap, 'mode', 'tap']);
    await this.ip(['link', 'set', tap, 'master', LAB_NET.bridge, 'up']);

    const consoleLog = join(this.workDir, `${opts.name}.console.log`);
    const consoleSocket = join(this.workDir, `${opts.name}.console.sock`);
    const socketPath = join(this.workDir, `${opts.name}.agent.sock`);
    const cmdline = [
      'console=ttyS0',
      'panic=-1',
      ...(opts.verboseKernel ? [] : ['quiet']),
      // Faster boot under TCG; none of these matter to PPP.
      'mitigations=off',
      'cryptomgr.notests',
      'tsc=reliable',
      'no_timer_check',
      `lab.name=${opts.name}`,
      `lab.ip=${address}/${LAB_NET.prefixLength}`,
    ].join(' ');
    qemuBinary ??= process.env.PPTP_TS_INTEROP_QEMU ?? 'qemu-system-x86_64';
    const accel = process.env.PPTP_TS_INTEROP_ACCEL ?? 'tcg';
    const argv = [
      qemuBinary,
      '-name',
      `${this.ns}-${opts.name}`,
      '-machine',
      'pc',
      '-accel',
      accel,
      '-cpu',
      'max',
      '-smp',
      '1',
      '-m',
      String(opts.memoryMb ?? 384),
      '-nodefaults',
      '-no-user-config',
      '-display',
      'none',
      '-no-reboot',
      '-kernel',
      this.image.kernel,
      '-initrd',
      this.image.initrd,
      '-append',
      cmdline,
      // The console is a socket a person can attach to (test/interop/cli.ts
      // console), and everything it prints also goes to the log file.
      '-chardev',
      `socket,id=con,path=${consoleSocket},server=on,wait=off,logfile=${consoleLog}`,
      '-serial',
      'chardev:con',
      '-device',
      'virtio-rng-pci',
      '-chardev',
      `socket,id=agent,path=${socketPath},server=on,wait=off`,
      '-device',
      'virtio-serial-pci',
      '-device',
      'virtserialport,chardev=agent,name=lab.agent',
      '-netdev',
      `tap,id=net0,ifname=${tap},script=no,downscript=no`,
      // No checksum offload and so no GSO: frames on the TAP are what a wire
      // would carry (full checksums, no 64 KB TCP super-frames in captures).
      '-device',
      `virtio-net-pci,netdev=net0,mac=${mac},csum=off,guest_csum=off`,
    ];
    const deadline = Date.now() + (opts.bootTimeoutMs ?? 120_000);
    const qemu = this.spawn(argv);
    const vm = new Vm(
      this,
      opts.name,
      address,
      mac,
      tap,
      consoleLog,
      consoleSocket,
      socketPath,
      qemu,
      new AgentClient(socketPath, opts.name),
    );
    this.vms.push(vm);
    await vm.waitForAgent(deadline);
    return vm;
  }

  /**
   * Starts tcpdump writing `NAME.pcap` in the work directory; resolves once
   * it listens. Where: `vm` captures on that VM's TAP (all of its traffic,
   * VM-to-VM frames included, with correct checksums: the preferred place);
   * `iface` on any interface of the namespace; the default is the bridge,
   * where packets the namespace sends still carry offloaded (unfinished)
   * TCP/UDP checksums and frames forwarded between two VMs do not appear.
   */
  async capture(name: string, opts: { vm?: Vm; iface?: string; filter?: string } = {}): Promise<Capture> {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new TypeError(`bad capture name: ${name}`);
    const file = join(this.workDir, `${name}.pcap`);
    const iface = opts.vm?.tap ?? opts.iface ?? LAB_NET.bridge;
    // --immediate-mode: libpcap's default TPACKET_V3 ring hands packets over a block at a time,
    // and tcpdump stopped by SIGTERM does not drain the block being filled: a short case lost
    // everything after its first milliseconds ("8 packets captured, 35 received by filter").
    // -B: a 32 MiB kernel buffer (the default is 2 MiB), so a burst of a megabyte through the tunnel
    // on a busy machine is not dropped before tcpdump reads it (a stateful MPPE flow with one packet
    // missing from the capture cannot be decrypted past it).
    const argv = ['tcpdump', '-i', iface, '--immediate-mode', '-U', '-B', '32768', '-s', '0', '-w', file];
    if (opts.filter) argv.push(opts.filter);
    const proc = this.spawn(argv);
    this.captures.push(proc);
    await proc.waitFor(/listening on/, 10_000);
    return {
      file,
      async stop() {
        await proc.kill(3000);
        // tcpdump's closing counts (captured, received by filter, dropped by kernel), for a failing test's message.
        writeFileSync(`${file}.tcpdump.txt`, proc.stderr());
        return file;
      },
    };
  }

  /** Console tails and logs of every VM, for a failing test's message. */
  async diagnostics(): Promise<string> {
    const parts: string[] = [`lab ${this.ns}, work directory ${this.workDir}`];
    for (const vm of this.vms) {
      parts.push(`--- ${vm.name} console ---\n${vm.consoleTail(20)}`);
      if (vm.running) {
        const r = await vm.exec(
          'for f in /var/log/lab/*.log /var/log/messages; do [ -f "$f" ] && { echo "== $f"; tail -n 40 "$f"; }; done',
          { timeoutMs: 10_000 },
        );
        parts.push(`--- ${vm.name} logs ---\n${r.stdout}`);
      }
    }
    return parts.join('\n');
  }

  /**
   * Stops every VM and capture, kills every process started here, deletes
   * the namespace (with its bridge and TAPs) and, unless `keep` (or
   * PPTP_TS_INTEROP_KEEP=1), the work directory. Idempotent.
   */
  async close(opts: { keep?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.vms.map((vm) => vm.close()));
    await Promise.all(this.captures.map((c) => c.kill(3000)));
    await this.netns.cleanup();
    openWorkDirs.delete(this.workDir);
    if (!(opts.keep ?? keepArtifacts())) rmSync(this.workDir, { recursive: true, force: true });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
