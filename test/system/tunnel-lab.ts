/**
 * Helpers for the tunnel system tests: two hosts (network namespaces
 * joined by a veth pair), `pptp-ts serve` and `pptp-ts connect` started
 * there as real processes, their status output parsed, and small checks of
 * what they left in the namespaces. Built on test/helpers/netns.ts, which
 * removes everything even when a test fails.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ExecResult, NetnsLab, Spawned } from '../helpers/netns.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PPTP_TS = [process.execPath, join(ROOT, 'bin', 'pptp-ts.js')];
export const TOOL = [process.execPath, '--import', 'tsx', join(ROOT, 'test', 'system', 'tunnel-tool.ts')];

export const SERVER_IP = '198.51.100.1';
export const CLIENT_IP = '198.51.100.2';
export const TUNNEL_LOCAL = '10.88.0.1';

/** A temporary directory removed after the suite. */
export function tempDir(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), `pptp-ts-${tag}-`));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Two namespaces `srv` and `cli` joined by veth (198.51.100.1/24 ↔ .2/24). */
export async function twoHosts(lab: NetnsLab): Promise<{ server: string; client: string }> {
  const server = await lab.addNamespace('srv');
  const client = await lab.addNamespace('cli');
  await lab.addVeth(server, 'vsrv', client, 'vcli');
  await lab.exec(server, ['ip', 'addr', 'add', `${SERVER_IP}/24`, 'dev', 'vsrv']);
  await lab.exec(client, ['ip', 'addr', 'add', `${CLIENT_IP}/24`, 'dev', 'vcli']);
  return { server, client };
}

export const SECRETS = `# client  server  secret  addresses
alice * "correct horse" *
bob * hunter2 10.88.0.77
`;

/** Writes a server config (defaults for the tests, merged with `over`) and the secrets; returns the config path. */
export function writeServerConfig(
  dir: string,
  over: Record<string, unknown> = {},
  secrets = SECRETS,
): string {
  const secretsPath = join(dir, 'chap-secrets');
  writeFileSync(secretsPath, secrets, { mode: 0o600 });
  const ppp = (over.ppp as Record<string, unknown> | undefined) ?? {};
  const tag = Math.random().toString(36).slice(2, 8);
  const config = {
    listen: SERVER_IP,
    'local-ip': TUNNEL_LOCAL,
    pool: '10.88.0.10-10.88.0.200',
    secrets: secretsPath,
    'ms-dns': [TUNNEL_LOCAL],
    'control-socket': join(dir, `serve-${tag}.sock`),
    ...over,
    ppp: { 'lcp-echo-interval': 2, 'lcp-echo-failure': 3, ...ppp },
    log: { level: 'info' },
  };
  const path = join(dir, `server-${tag}.json`);
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

export function writePassword(dir: string, password: string): string {
  const p = join(dir, `pw-${Math.random().toString(36).slice(2, 8)}`);
  writeFileSync(p, `${password}\n`, { mode: 0o600 });
  return p;
}

/** Starts `pptp-ts serve` in `ns` and waits until it listens. */
export async function startServer(lab: NetnsLab, ns: string, configPath: string): Promise<Spawned> {
  const s = lab.spawn(ns, [...PPTP_TS, 'serve', '--config', configPath]);
  await s.waitFor(/listening on /, 30_000);
  return s;
}

/** Starts `pptp-ts connect SERVER_IP ...args` in `ns`. */
export function startClient(lab: NetnsLab, ns: string, args: readonly string[]): Spawned {
  return lab.spawn(ns, [...PPTP_TS, 'connect', SERVER_IP, ...args]);
}

/** What the client printed when the tunnel came up. */
export interface UpInfo {
  ifname: string;
  local: string;
  remote: string;
  dns: string[];
  mtu: number;
  auth: string;
  mppe: string;
}

export function parseUp(stdout: string): UpInfo {
  const field = (name: string) => {
    const m = new RegExp(`^  ${name}\\s+(.*)$`, 'm').exec(stdout);
    if (!m) throw new Error(`no '${name}' line in the client's output:\n${stdout}`);
    return m[1]!.trim();
  };
  const dns = field('dns');
  return {
    ifname: field('interface'),
    local: field('local'),
    remote: field('remote'),
    dns: dns === 'none' ? [] : dns.split(' '),
    mtu: Number(field('mtu')),
    auth: field('auth'),
    mppe: field('mppe'),
  };
}

/** Waits for the client to print its tunnel summary (the `mppe` line comes last). */
export async function waitUp(c: Spawned, timeoutMs = 30_000): Promise<UpInfo> {
  await c.waitFor(/^ {2}mppe +.+$/m, timeoutMs);
  return parseUp(c.stdout());
}

/** Waits for a process to exit on its own, at most `ms`. */
export async function waitExit(s: Spawned, ms = 20_000): Promise<ExecResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`process ${s.pid} did not exit within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([s.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Asks the server for its status (SIGUSR1) and returns the lines of that report. */
export async function serverStatus(s: Spawned, timeoutMs = 5000): Promise<string[]> {
  const before = s.stdout().length;
  process.kill(s.pid, 'SIGUSR1');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out = s.stdout().slice(before);
    const end = out.indexOf('status end');
    if (end >= 0) {
      const block = out.slice(out.indexOf('status '), end);
      return block.split('\n').filter(Boolean);
    }
    if (Date.now() > deadline) throw new Error(`no status from the server: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A counter from the server's status line. */
export function statusCounter(lines: readonly string[], name: string): number {
  const m = new RegExp(`\\b${name}=(\\d+)`).exec(lines[0] ?? '');
  if (!m) throw new Error(`no ${name} in ${lines[0]}`);
  return Number(m[1]);
}

/** Polls `check` every 100 ms until it returns true, at most `ms`. */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  ms: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Interface names and routes of a namespace (to check that nothing is left behind). */
export async function hostState(lab: NetnsLab, ns: string): Promise<{ links: string[]; routes: string[] }> {
  const links = JSON.parse((await lab.exec(ns, ['ip', '-j', 'link', 'show'])).stdout) as { ifname: string }[];
  const routes = JSON.parse((await lab.exec(ns, ['ip', '-j', '-4', 'route', 'show'])).stdout) as {
    dst: string;
    dev: string;
  }[];
  return {
    links: links.map((l) => l.ifname).sort(),
    routes: routes.map((r) => `${r.dst} dev ${r.dev}`).sort(),
  };
}
