/**
 * pppd-compatible hook scripts: `ip-up` when the IPv4 network comes up and
 * `ip-down` when it goes down (docs/architecture.md §4). Same arguments and environment
 * as pppd, so existing scripts work unchanged:
 *
 *   ip-up   IFNAME DEVICE SPEED IPLOCAL IPREMOTE IPPARAM
 *
 * Environment: IFNAME, DEVICE, SPEED, IPLOCAL, IPREMOTE, PEERNAME, PPPD_PID,
 * PPPLOGNAME, ORIG_UID, LINKNAME, IPPARAM, DNS1/DNS2 and USEPEERDNS when the
 * peer gave DNS servers, and for ip-down CONNECT_TIME, BYTES_SENT, BYTES_RCVD.
 * PATH is pppd's fixed safe PATH, and nothing else of our environment leaks
 * into the script (pppd does the same: scripts run as root).
 *
 * Scripts run without a shell (execFile), with a time limit; output is
 * passed to the logger.
 */
import { execFile } from 'node:child_process';
import type { Logger } from '../log/logger.js';

export interface HookContext {
  ifname: string;
  /** pppd's "tty device": for PPTP we pass the server address or `pptp`. */
  device: string;
  localIp: string;
  remoteIp: string;
  peerName: string;
  ipparam?: string;
  linkName?: string;
  dns?: readonly string[];
  /** ip-down only. */
  connectTimeSeconds?: number;
  bytesSent?: number;
  bytesReceived?: number;
}

export const HOOK_PATH = '/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The argv and environment pppd would give the script. */
export function hookInvocation(ctx: HookContext): { args: string[]; env: Record<string, string> } {
  const env: Record<string, string> = {
    PATH: HOOK_PATH,
    IFNAME: ctx.ifname,
    DEVICE: ctx.device,
    SPEED: '0',
    IPLOCAL: ctx.localIp,
    IPREMOTE: ctx.remoteIp,
    PEERNAME: ctx.peerName,
    PPPD_PID: String(process.pid),
    PPPLOGNAME: process.env.USER ?? 'root',
    ORIG_UID: String(process.getuid?.() ?? 0),
  };
  if (ctx.ipparam !== undefined) env.IPPARAM = ctx.ipparam;
  if (ctx.linkName !== undefined) env.LINKNAME = ctx.linkName;
  if (ctx.dns?.length) {
    env.USEPEERDNS = '1';
    ctx.dns.slice(0, 2).forEach((d, i) => {
      env[`DNS${i + 1}`] = d;
    });
  }
  if (ctx.connectTimeSeconds !== undefined) env.CONNECT_TIME = String(Math.round(ctx.connectTimeSeconds));
  if (ctx.bytesSent !== undefined) env.BYTES_SENT = String(ctx.bytesSent);
  if (ctx.bytesReceived !== undefined) env.BYTES_RCVD = String(ctx.bytesReceived);
  return { args: [ctx.ifname, ctx.device, '0', ctx.localIp, ctx.remoteIp, ctx.ipparam ?? ''], env };
}

export interface HookResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
}

/**
 * Runs one hook script and resolves when it exits (never rejects: a failing
 * hook is logged, and does not take the tunnel down, as with pppd).
 */
export function runHook(
  script: string,
  name: 'ip-up' | 'ip-down',
  ctx: HookContext,
  log: Logger,
  timeoutMs = 30_000,
): Promise<HookResult> {
  const { args, env } = hookInvocation(ctx);
  return new Promise((resolve) => {
    execFile(script, args, { env, timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const out = `${stdout}${stderr}`.trim();
      if (out) log.log('info', `${name} output`, { script, output: out.slice(0, 2000) });
      if (!err) {
        log.log('info', `${name} done`, { script });
        resolve({ code: 0, signal: null, timedOut: false });
        return;
      }
      const e = err as NodeJS.ErrnoException & {
        code?: number | string;
        signal?: NodeJS.Signals;
        killed?: boolean;
      };
      const timedOut = e.killed === true && e.signal === 'SIGKILL';
      log.log('warn', `${name} failed`, { script, error: timedOut ? 'timed out' : e.message });
      resolve({ code: typeof e.code === 'number' ? e.code : null, signal: e.signal ?? null, timedOut });
    });
  });
}
