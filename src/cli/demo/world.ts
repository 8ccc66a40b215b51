/**
 * The demo's small world of network namespaces (docs/demo.md has the
 * picture):
 *
 * ```
 *  client host                 server host                          DNS host
 *  inet0 203.0.113.10/24 ───── inet0 203.0.113.1/24
 *                              lan0  10.88.0.1/24 ───────────────── lan0 10.88.0.53/24, 10.88.0.80/24
 *        "internet" veth                          "LAN" veth             default via 10.88.0.1
 * ```
 *
 * Names carry the demo's PID (`pptpdemo-PID-client`...), and veth pairs are
 * created directly inside the namespaces (`ip link add ... netns A type
 * veth peer ... netns B`), so no interface ever appears in the host's own
 * namespace and nothing of the host's is touched. Everything made is
 * recorded, in memory for the normal clean-up and in `world.json` in the
 * temp dir for `pptp-ts demo clean` after `--keep`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ip } from '../../io/ip.js';
import { DEMO_DNS_ADDRESS, DEMO_WWW_ADDRESS } from './dns-server.js';
import type { Daemon } from './process.js';
import { run, runIn } from './process.js';

/** Addresses and names of one demo run. */
export interface DemoPlan {
  /** `pptpdemo-PID`: the prefix of every namespace. */
  readonly prefix: string;
  readonly clientNs: string;
  readonly serverNs: string;
  readonly dnsNs: string;
  /** The "internet" link: client and server ends. */
  readonly clientIf: string;
  readonly clientAddress: string;
  readonly serverInetIf: string;
  readonly serverAddress: string;
  readonly internetPrefix: number;
  /** The LAN behind the server. */
  readonly serverLanIf: string;
  readonly serverLanAddress: string;
  readonly dnsIf: string;
  readonly dnsAddress: string;
  readonly wwwAddress: string;
  readonly lanCidr: string;
  readonly lanPrefix: number;
  /** The tunnel: the server's end and the pool clients get addresses from. */
  readonly tunnelServerAddress: string;
  readonly tunnelPool: string;
  readonly serverIfname: string;
  readonly clientIfname: string;
  /** The account the client dials with. */
  readonly user: string;
}

/** The plan for a demo run by process `pid`. */
export function demoPlan(pid: number = process.pid): DemoPlan {
  const prefix = `pptpdemo-${pid}`;
  return {
    prefix,
    clientNs: `${prefix}-client`,
    serverNs: `${prefix}-server`,
    dnsNs: `${prefix}-dns`,
    // 203.0.113.0/24 is TEST-NET-3 (RFC 5737): it stands for "somewhere on the internet".
    clientIf: 'inet0',
    clientAddress: '203.0.113.10',
    serverInetIf: 'inet0',
    serverAddress: '203.0.113.1',
    internetPrefix: 24,
    serverLanIf: 'lan0',
    serverLanAddress: '10.88.0.1',
    dnsIf: 'lan0',
    dnsAddress: DEMO_DNS_ADDRESS,
    wwwAddress: DEMO_WWW_ADDRESS,
    lanCidr: '10.88.0.0/24',
    lanPrefix: 24,
    tunnelServerAddress: '10.99.0.1',
    tunnelPool: '10.99.0.10-10.99.0.29',
    serverIfname: 'pptps0',
    clientIfname: 'pptp0',
    user: 'demo',
  };
}

/** What `world.json` records, for `pptp-ts demo clean`. */
export interface WorldRecord {
  readonly prefix: string;
  readonly namespaces: readonly string[];
  readonly daemons: readonly { name: string; pid: number; netns: string }[];
  readonly dir: string;
}

export const WORLD_FILE = 'world.json';

/** The namespaces, daemons and temp dir of one run, and how to remove them. */
export class DemoWorld {
  readonly dir: string;
  private readonly namespaces: string[] = [];
  private readonly daemons: Daemon[] = [];
  private removed = false;

  constructor(
    readonly plan: DemoPlan,
    /** Called with every command that changes the system (for `--verbose`). */
    private readonly trace: (line: string) => void = () => {},
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'pptp-ts-demo-'));
    this.save();
  }

  get namespaceNames(): readonly string[] {
    return this.namespaces;
  }

  get daemonList(): readonly Daemon[] {
    return this.daemons;
  }

  /** A path inside the temp dir. */
  file(name: string): string {
    return join(this.dir, name);
  }

  private async ip(args: string[], netns?: string): Promise<void> {
    this.trace(`ip ${netns ? `-n ${netns} ` : ''}${args.join(' ')}`);
    await ip(args, netns ? { netns } : {});
  }

  private async addNamespace(name: string): Promise<void> {
    await this.ip(['netns', 'add', name]);
    this.namespaces.push(name);
    this.save();
    await this.ip(['link', 'set', 'lo', 'up'], name);
  }

  /**
   * Writes a sysctl of namespace `ns` (they are per namespace under
   * /proc/sys/net). With `optional`, a missing key (no IPv6 in this kernel)
   * is fine.
   */
  private async sysctl(ns: string, key: string, value: string, optional = false): Promise<void> {
    const path = `/proc/sys/${key.replaceAll('.', '/')}`;
    this.trace(`ip netns exec ${ns} sysctl ${key}=${value}`);
    // The path and value are passed as arguments, never spliced into the script.
    const script = optional ? '[ ! -e "$1" ] || echo "$2" > "$1"' : 'echo "$2" > "$1"';
    const r = await runIn(ns, ['sh', '-c', script, 'sh', path, value], 5000);
    if (r.code !== 0) throw new Error(`cannot set ${key} in ${ns}: ${r.stderr.trim()}`);
  }

  /**
   * A veth pair between two namespaces, both ends up. IPv6 is off on both
   * ends so the capture holds only the demo's own traffic (no router
   * solicitations or MLD reports).
   */
  private async addVeth(nsA: string, ifA: string, nsB: string, ifB: string): Promise<void> {
    await this.ip(['link', 'add', ifA, 'netns', nsA, 'type', 'veth', 'peer', 'name', ifB, 'netns', nsB]);
    await this.sysctl(nsA, `net.ipv6.conf.${ifA}.disable_ipv6`, '1', true);
    await this.sysctl(nsB, `net.ipv6.conf.${ifB}.disable_ipv6`, '1', true);
    await this.ip(['link', 'set', ifA, 'up'], nsA);
    await this.ip(['link', 'set', ifB, 'up'], nsB);
  }

  /** Namespaces, links, addresses, routes, and forwarding on the server host. */
  async build(): Promise<void> {
    const p = this.plan;
    for (const ns of [p.clientNs, p.serverNs, p.dnsNs]) await this.addNamespace(ns);
    await this.addVeth(p.clientNs, p.clientIf, p.serverNs, p.serverInetIf);
    await this.addVeth(p.serverNs, p.serverLanIf, p.dnsNs, p.dnsIf);
    const inet = `/${p.internetPrefix}`;
    const lan = `/${p.lanPrefix}`;
    await this.ip(['addr', 'add', `${p.clientAddress}${inet}`, 'dev', p.clientIf], p.clientNs);
    await this.ip(['addr', 'add', `${p.serverAddress}${inet}`, 'dev', p.serverInetIf], p.serverNs);
    await this.ip(['addr', 'add', `${p.serverLanAddress}${lan}`, 'dev', p.serverLanIf], p.serverNs);
    await this.ip(['addr', 'add', `${p.dnsAddress}${lan}`, 'dev', p.dnsIf], p.dnsNs);
    await this.ip(['addr', 'add', `${p.wwwAddress}${lan}`, 'dev', p.dnsIf], p.dnsNs);
    await this.ip(['route', 'add', 'default', 'via', p.serverLanAddress], p.dnsNs);
    // The server host routes between the tunnel and its LAN (its own setting: the
    // host's forwarding is untouched).
    await this.sysctl(p.serverNs, 'net.ipv4.ip_forward', '1');
  }

  /** Registers a daemon so clean-up stops it. */
  adopt(d: Daemon): Daemon {
    this.daemons.push(d);
    this.save();
    return d;
  }

  /** Writes `world.json` (best effort: it only serves `demo clean`). */
  private save(): void {
    const rec: WorldRecord = {
      prefix: this.plan.prefix,
      namespaces: this.namespaces,
      daemons: this.daemons.map((d) => ({ name: d.name, pid: d.pid, netns: d.netns })),
      dir: this.dir,
    };
    try {
      writeFileSync(join(this.dir, WORLD_FILE), `${JSON.stringify(rec, null, 2)}\n`, { mode: 0o600 });
    } catch {
      // The dir is gone (removed): nothing to record.
    }
  }

  /**
   * Stops the daemons still running (newest first, each bounded), deletes
   * the namespaces and the temp dir. Idempotent. Returns what it could not
   * remove (empty when all went).
   */
  async remove(): Promise<string[]> {
    if (this.removed) return [];
    this.removed = true;
    const problems: string[] = [];
    for (const d of [...this.daemons].reverse()) {
      if ((await d.stop(5000)) === undefined) problems.push(`${d.name} (pid ${d.pid}) did not exit`);
    }
    for (const ns of this.namespaces.splice(0).reverse()) {
      this.trace(`ip netns del ${ns}`);
      const r = await run(['ip', 'netns', 'del', ns], 10_000);
      if (r.code !== 0 && !/No such file/.test(r.stderr))
        problems.push(`namespace ${ns}: ${r.stderr.trim()}`);
    }
    try {
      rmSync(this.dir, { recursive: true, force: true });
    } catch (e) {
      problems.push(`${this.dir}: ${(e as Error).message}`);
    }
    return problems;
  }

  /** The same, synchronously and without waiting, for process exit. */
  removeNow(): void {
    if (this.removed) return;
    this.removed = true;
    for (const d of this.daemons) d.killNow();
    for (const ns of this.namespaces.splice(0).reverse()) {
      spawnSync('ip', ['netns', 'del', ns], { timeout: 5000 });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Forgets everything without removing it (`--keep`): the daemons are left running. */
  keep(): void {
    this.removed = true;
    for (const d of this.daemons) d.detach();
  }
}

/** The PIDs inside a namespace (`ip netns pids`). */
async function pidsIn(ns: string): Promise<Set<number>> {
  const r = await run(['ip', 'netns', 'pids', ns], 5000);
  return new Set(
    r.stdout
      .split('\n')
      .map((s) => Number(s.trim()))
      .filter((n) => Number.isInteger(n) && n > 0),
  );
}

/**
 * `pptp-ts demo clean DIR`: removes a world left by `--keep`, from its
 * `world.json`. A recorded PID is signalled only while `ip netns pids`
 * still lists it in the recorded namespace, so a reused PID is never hit.
 */
export async function cleanKeptWorld(dir: string, say: (line: string) => void): Promise<number> {
  let rec: WorldRecord;
  try {
    rec = JSON.parse(readFileSync(join(dir, WORLD_FILE), 'utf8')) as WorldRecord;
  } catch (e) {
    say(`pptp-ts demo clean: ${dir}: no demo world here (${(e as Error).message})`);
    return 1;
  }
  if (!/^pptpdemo-\d+$/.test(rec.prefix) || !rec.namespaces.every((n) => n.startsWith(`${rec.prefix}-`))) {
    say(`pptp-ts demo clean: ${dir}/${WORLD_FILE} does not describe a demo world`);
    return 1;
  }
  let failed = false;
  for (const d of rec.daemons) {
    if (!rec.namespaces.includes(d.netns)) continue;
    const inside = await pidsIn(d.netns);
    if (!inside.has(d.pid)) continue;
    try {
      process.kill(d.pid, 'SIGTERM');
      say(`stopped ${d.name} (pid ${d.pid})`);
    } catch {}
  }
  // Give them a moment to say goodbye to their peers, then make sure.
  for (let i = 0; i < 50; i++) {
    let alive = 0;
    for (const d of rec.daemons) if ((await pidsIn(d.netns)).has(d.pid)) alive++;
    if (alive === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const d of rec.daemons) {
    if ((await pidsIn(d.netns)).has(d.pid)) {
      try {
        process.kill(d.pid, 'SIGKILL');
      } catch {}
    }
  }
  for (const ns of [...rec.namespaces].reverse()) {
    const r = await run(['ip', 'netns', 'del', ns], 10_000);
    if (r.code === 0) say(`removed namespace ${ns}`);
    else if (!/No such file/.test(r.stderr)) {
      failed = true;
      say(`could not remove namespace ${ns}: ${r.stderr.trim()}`);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  say(`removed ${dir}`);
  return failed ? 1 : 0;
}
