/**
 * The server's management commands (docs/operations.md "Management"), as
 * answers to requests on the control socket (src/io/control-socket.ts):
 *
 * - `{"cmd":"sessions"}` → `{"ok":true,"sessions":[{id, user, peer, address, ...}]}`
 * - `{"cmd":"kick","target":"ID|USER|ADDRESS","reason":"..."}` → `{"ok":true,"kicked":N}`
 * - `{"cmd":"reload"}` → `{"ok":true,"reloaded":[...]}` (the SIGHUP path)
 * - `{"cmd":"status"}` → `{"ok":true,"role":"server","counters":{...}}`
 */
import type { ControlRequest } from '../io/control-socket.js';
import { parseIpv4 } from '../wire/bytes.js';
import type { ServerSessionDetail } from './observer.js';
import type { PptpServer } from './server.js';

/** Kick reasons go into an LCP Terminate-Request and the log: printable, bounded. */
export const KICK_REASON_MAX = 200;
export const DEFAULT_KICK_REASON = 'disconnected by the administrator';

/** A live session as `pptp-ts sessions --json` prints it. */
export interface SessionRow {
  readonly id: number;
  readonly user: string | null;
  readonly peer: string;
  readonly address: string | null;
  readonly ifname: string | null;
  readonly phase: string;
  readonly up: boolean;
  readonly uptimeSeconds: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly packetsIn: number;
  readonly packetsOut: number;
  readonly mppe: string | null;
  readonly auth: string | null;
}

export function sessionRow(d: ServerSessionDetail, now: number): SessionRow {
  return {
    id: d.id,
    user: d.user ?? null,
    peer: d.peer,
    address: d.address ?? null,
    ifname: d.ifname ?? null,
    phase: d.phase.toLowerCase(),
    up: d.up,
    uptimeSeconds: Math.max(0, Math.round((now - (d.upAt ?? d.startedAt)) / 1000)),
    bytesIn: d.stats.ppp.rxBytes,
    bytesOut: d.stats.ppp.txBytes,
    packetsIn: d.stats.ppp.rxPackets,
    packetsOut: d.stats.ppp.txPackets,
    mppe: d.mppe ?? null,
    auth: d.auth ?? null,
  };
}

/**
 * Which sessions `target` names: a whole number is a session id, an IPv4
 * address is a tunnel address or a client's outer address, anything else
 * a user name.
 */
export function kickSelector(target: string): (d: ServerSessionDetail) => boolean {
  if (/^\d+$/.test(target)) {
    const id = Number(target);
    return (d) => d.id === id;
  }
  if (parseIpv4(target) !== undefined) return (d) => d.address === target || d.peer === target;
  return (d) => d.user === target;
}

/** Control characters out, length bounded: the text goes on the wire and into logs. */
export function cleanReason(r: unknown): string {
  if (r === undefined) return DEFAULT_KICK_REASON;
  if (typeof r !== 'string') throw new Error('reason must be a string');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  const s = r.replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
  if (!s) return DEFAULT_KICK_REASON;
  return s.slice(0, KICK_REASON_MAX);
}

export interface ManagementContext {
  readonly server: PptpServer;
  readonly now: () => number;
  /** The SIGHUP path: re-reads the secrets and the config's reloadable parts; returns what it did. */
  readonly reload: () => string[];
}

export function serverManagementHandler(ctx: ManagementContext): (req: ControlRequest) => unknown {
  return (req) => {
    switch (req.cmd) {
      case 'sessions': {
        const now = ctx.now();
        return { ok: true, sessions: ctx.server.sessionDetails().map((d) => sessionRow(d, now)) };
      }
      case 'kick': {
        const target = req.target;
        if (typeof target !== 'string' || !target || target.length > 255) {
          throw new Error('kick needs a target: a session id, a user name or an address');
        }
        const reason = cleanReason(req.reason);
        return { ok: true, kicked: ctx.server.kick(kickSelector(target), reason), reason };
      }
      case 'reload':
        return { ok: true, reloaded: ctx.reload() };
      case 'status':
        return {
          ok: true,
          role: 'server',
          connections: ctx.server.connectionCount,
          poolFree: ctx.server.poolAvailable,
          counters: ctx.server.counters,
        };
      default:
        throw new Error(`unknown command '${req.cmd}' (sessions, kick, reload, status)`);
    }
  };
}
