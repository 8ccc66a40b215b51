/**
 * `pptp-ts sessions|kick|reload|status`: management commands over the
 * control socket of a running `pptp-ts serve` (or, for `status`, of a
 * `pptp-ts connect --control PATH`). docs/operations.md "Management".
 */
import { controlRequest } from '../io/control-socket.js';
import { DEFAULT_CONTROL_SOCKET } from '../server/config.js';
import type { SessionRow } from '../server/management.js';
import { commandArgs } from './args.js';

export const MANAGE_USAGE = `usage: pptp-ts sessions [--json] [--socket PATH]
       pptp-ts kick ID|USER|ADDRESS [--reason TEXT] [--socket PATH]
       pptp-ts reload [--socket PATH]
       pptp-ts status [--json] [--socket PATH]

Talks to a running 'pptp-ts serve' over its control socket (root only;
default ${DEFAULT_CONTROL_SOCKET}, config key "control-socket"), or with
'status --socket PATH' to a 'pptp-ts connect --control PATH'.

  sessions   the live sessions: id, user, peer, tunnel address, uptime,
             bytes in/out, MPPE, authentication
  kick       end the sessions with that id, user name or address (tunnel
             or client address); the reason goes to the client in the LCP
             Terminate-Request and into the server's log
  reload     re-read the secrets and the config's reloadable parts (as SIGHUP)
  status     counters of the server, or the state of a client

exit codes: 0 done, 1 the command failed (or kick matched nothing),
2 bad usage, 3 no answer on the socket
`;

function usage(msg: string): number {
  process.stderr.write(`pptp-ts: ${msg}\n(see pptp-ts sessions --help)\n`);
  return 2;
}

function human(n: number): string {
  if (n < 1024) return `${n}B`;
  const u = ['K', 'M', 'G', 'T'];
  let v = n;
  let i = -1;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)}${u[i]}`;
}

function duration(s: number): string {
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s % 60}s`;
}

/** The table `pptp-ts sessions` prints. */
export function sessionsTable(rows: readonly SessionRow[]): string {
  const head = ['ID', 'USER', 'PEER', 'ADDRESS', 'UPTIME', 'IN', 'OUT', 'MPPE', 'AUTH', 'PHASE'];
  const body = rows.map((r) => [
    String(r.id),
    r.user === null ? '-' : JSON.stringify(r.user).slice(1, -1),
    r.peer,
    r.address ?? '-',
    duration(r.uptimeSeconds),
    human(r.bytesIn),
    human(r.bytesOut),
    r.mppe ?? '-',
    r.auth ?? '-',
    r.phase,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  return `${[head, ...body]
    .map((cols) =>
      cols
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

export async function runManage(cmd: string, argv: readonly string[]): Promise<number> {
  const args = commandArgs(
    argv,
    {
      positionals: true,
      options: {
        json: { type: 'boolean' },
        socket: { type: 'string' },
        reason: { type: 'string' },
      },
    },
    MANAGE_USAGE,
    usage,
  );
  if (typeof args === 'number') return args;
  const { values, positionals } = args;
  if (cmd !== 'kick' && positionals.length > 0) return usage(`${cmd} takes no arguments`);
  if (cmd !== 'kick' && values.reason !== undefined) return usage('--reason is for kick');
  if (cmd === 'kick' && positionals.length !== 1) return usage('kick needs one ID, USER or ADDRESS');
  const socket = values.socket ?? DEFAULT_CONTROL_SOCKET;
  const req =
    cmd === 'kick'
      ? { cmd, target: positionals[0]!, ...(values.reason !== undefined ? { reason: values.reason } : {}) }
      : { cmd };
  let res: Record<string, unknown>;
  try {
    res = (await controlRequest(socket, req)) as Record<string, unknown>;
  } catch (err) {
    process.stderr.write(`pptp-ts ${cmd}: ${(err as Error).message}\n`);
    return 3;
  }
  if (res.ok !== true) {
    process.stderr.write(`pptp-ts ${cmd}: ${String(res.error ?? 'failed')}\n`);
    return 1;
  }
  switch (cmd) {
    case 'sessions': {
      const rows = res.sessions as SessionRow[];
      process.stdout.write(values.json ? `${JSON.stringify(rows, null, 2)}\n` : sessionsTable(rows));
      return 0;
    }
    case 'kick': {
      const n = res.kicked as number;
      process.stdout.write(`kicked ${n} session${n === 1 ? '' : 's'} (${String(res.reason)})\n`);
      return n > 0 ? 0 : 1;
    }
    case 'reload':
      for (const line of res.reloaded as string[]) process.stdout.write(`${line}\n`);
      return 0;
    default: {
      const { ok: _ok, ...rest } = res;
      if (values.json) process.stdout.write(`${JSON.stringify(rest, null, 2)}\n`);
      else {
        for (const [k, v] of Object.entries(rest)) {
          if (v && typeof v === 'object') {
            for (const [k2, v2] of Object.entries(v)) process.stdout.write(`${k}.${k2} ${String(v2)}\n`);
          } else process.stdout.write(`${k} ${String(v)}\n`);
        }
      }
      return 0;
    }
  }
}
