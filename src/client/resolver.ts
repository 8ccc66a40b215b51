/**
 * `--usepeerdns`: the DNS servers the server gave (IPCP, RFC 1877) put
 * where the host's resolver looks, and taken away at teardown.
 *
 * 1. systemd-resolved, when it runs: `resolvectl dns IF ADDR...` and
 *    `resolvectl domain IF ~.` (the tunnel's servers answer every name:
 *    pppd's usepeerdns replaces the resolver's servers too); undone with
 *    `resolvectl revert IF` (the interface's going also drops them).
 * 2. else resolvconf (Debian's resolvconf or openresolv), when installed:
 *    `resolvconf -a IF` with the resolv.conf lines on stdin; undone with
 *    `resolvconf -d IF`.
 * Ways 1 and 2 only in the host's own network namespace
 * ({@link inInitialNetworkNamespace}).
 * 3. else pppd's own way: the servers written to /etc/ppp/resolv.conf
 *    (or `--resolv-conf FILE`, which always means this way), removed at
 *    teardown while it still holds what we wrote.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readlinkSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Undo } from '../io/ip.js';

/** resolv.conf text for the peer's DNS servers, as pppd writes it. */
export function resolvConfText(dns: readonly string[]): string {
  return dns.map((d) => `nameserver ${d}\n`).join('');
}

export type DnsBackend = 'resolved' | 'resolvconf' | 'file';

/** Runs argv (no shell), with `input` on stdin; rejects with its stderr on a non-zero exit. */
export type CommandRunner = (argv: readonly string[], input?: string) => Promise<void>;

export interface DnsProbe {
  /** systemd-resolved runs (its varlink socket or bus name is there) and `resolvectl` exists. */
  resolvedRunning(): boolean;
  /** A `resolvconf` program is on PATH. */
  hasResolvconf(): boolean;
}

/** Where systemd-resolved keeps its run-time state; its sockets exist only while it runs. */
export const RESOLVED_RUN_DIR = '/run/systemd/resolve';

function onPath(cmd: string): boolean {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

/**
 * The host's resolver serves the host's network namespace: inside another
 * one (`ip netns exec`, a container sharing /run) resolved would apply our
 * interface index to one of its own interfaces and resolvconf would rewrite
 * the host's /etc/resolv.conf, so there only the file way is used.
 */
export function inInitialNetworkNamespace(): boolean {
  try {
    return readlinkSync('/proc/self/ns/net') === readlinkSync('/proc/1/ns/net');
  } catch {
    return false;
  }
}

export const systemDnsProbe: DnsProbe = {
  resolvedRunning: () =>
    inInitialNetworkNamespace() &&
    onPath('resolvectl') &&
    (existsSync(join(RESOLVED_RUN_DIR, 'io.systemd.Resolve')) ||
      (existsSync('/run/dbus/system_bus_socket') && existsSync(join(RESOLVED_RUN_DIR, 'resolv.conf')))),
  hasResolvconf: () => inInitialNetworkNamespace() && onPath('resolvconf'),
};

/** Time limit of one resolvectl/resolvconf run. */
export const DNS_COMMAND_TIMEOUT_MS = 10_000;

export const systemRunner: CommandRunner = (argv, input) =>
  new Promise((resolve, reject) => {
    const [cmd, ...args] = argv;
    const child = spawn(cmd!, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), DNS_COMMAND_TIMEOUT_MS);
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 4096) stderr += d;
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${argv.join(' ')}: ${stderr.trim() || `exit ${code ?? signal}`}`));
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });

/** Which way the DNS goes on this host (`file` when the caller named a file). */
export function chooseDnsBackend(probe: DnsProbe, explicitFile: boolean): DnsBackend {
  if (explicitFile) return 'file';
  if (probe.resolvedRunning()) return 'resolved';
  if (probe.hasResolvconf()) return 'resolvconf';
  return 'file';
}

/** The commands that set and undo the DNS of `ifname` (resolved and resolvconf ways). */
export function dnsCommands(
  backend: Exclude<DnsBackend, 'file'>,
  ifname: string,
  dns: readonly string[],
): { set: { argv: string[]; input?: string }[]; undo: { argv: string[] }[] } {
  if (backend === 'resolved') {
    return {
      set: [
        { argv: ['resolvectl', 'dns', ifname, ...dns] },
        { argv: ['resolvectl', 'domain', ifname, '~.'] },
      ],
      undo: [{ argv: ['resolvectl', 'revert', ifname] }],
    };
  }
  return {
    set: [{ argv: ['resolvconf', '-a', ifname], input: resolvConfText(dns) }],
    undo: [{ argv: ['resolvconf', '-d', ifname] }],
  };
}

/**
 * Sets the tunnel's DNS through resolved or resolvconf; returns its undo.
 * (The file way is {@link ClientHost.writeResolvConf}.)
 */
export async function setInterfaceDns(
  backend: Exclude<DnsBackend, 'file'>,
  ifname: string,
  dns: readonly string[],
  run: CommandRunner,
): Promise<Undo> {
  const c = dnsCommands(backend, ifname, dns);
  const undo = async () => {
    for (const u of c.undo) await run(u.argv);
  };
  try {
    for (const s of c.set) await run(s.argv, s.input);
  } catch (err) {
    await undo().catch(() => {});
    throw err;
  }
  let done = false;
  return {
    description: `DNS ${dns.join(' ')} on ${ifname} via ${backend}`,
    async undo() {
      if (done) return;
      done = true;
      await undo();
    },
  };
}
