/**
 * `pptp-ts serve --config FILE`: the PPTP server (docs/client-server.md).
 * SIGINT/SIGTERM shut it down gracefully (every peer is told), SIGHUP
 * re-reads the secrets file, SIGUSR1 prints the live sessions and counters
 * on stdout.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createLogger } from '../io/log.js';
import { SdNotifier } from '../io/sd-notify.js';
import { SecretsFileError } from '../server/chap-secrets.js';
import { ConfigError, parseServerConfig, type ServerConfig } from '../server/config.js';
import { PptpServer } from '../server/server.js';
import { systemServerEnv } from '../server/system.js';
import type { LogLevel } from '../wire/log.js';

export const SERVE_USAGE = `usage: pptp-ts serve --config FILE [options]

Runs a PPTP server (TCP 1723, GRE) as the JSON config file says (see
docs/client-server.md for every key). Needs root (TUN, raw GRE socket).

  --config FILE        the server's JSON config (required)
  --check              validate the config and the secrets file, then exit
  --log-level LEVEL    debug|info|warn|error (overrides log.level)
  -h, --help

signals: SIGINT/SIGTERM graceful shutdown, SIGHUP re-read the secrets file,
SIGUSR1 print sessions and counters on stdout.

exit codes: 0 stopped cleanly, 1 internal error, 2 bad usage or config,
4 cannot set up (TUN, raw socket, listen address; root?)
`;

export const SERVE_EXIT = { ok: 0, fatal: 1, usage: 2, setup: 4 } as const;

/** How often a server under systemd checks whether its STATUS= line changed. */
export const SERVE_STATUS_INTERVAL_MS = 2000;

function usage(msg: string): number {
  process.stderr.write(`pptp-ts serve: ${msg}\n(see pptp-ts serve --help)\n`);
  return SERVE_EXIT.usage;
}

export async function runServe(argv: readonly string[]): Promise<number> {
  let values: { config?: string; check?: boolean; 'log-level'?: string; help?: boolean };
  try {
    const parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: 'string' },
        check: { type: 'boolean' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    values = parsed.values;
  } catch (err) {
    return usage((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(SERVE_USAGE);
    return SERVE_EXIT.ok;
  }
  if (!values.config) return usage('--config FILE is required');
  const level = values['log-level'];
  if (level !== undefined && !['debug', 'info', 'warn', 'error'].includes(level)) {
    return usage(`--log-level: '${level}' is not debug, info, warn or error`);
  }
  let config: ServerConfig;
  let text: string;
  try {
    text = readFileSync(values.config, 'utf8');
  } catch (err) {
    return usage(`cannot read ${values.config}: ${(err as Error).message}`);
  }
  try {
    config = parseServerConfig(text, values.config);
  } catch (err) {
    if (err instanceof ConfigError) return usage(err.message);
    throw err;
  }
  const log = createLogger('', {
    level: (level as LogLevel | undefined) ?? config.log.level,
    format: config.log.format,
  });
  let env: ReturnType<typeof systemServerEnv>;
  try {
    env = systemServerEnv({ log, secretsPath: config.secrets });
  } catch (err) {
    if (err instanceof SecretsFileError) return usage(err.message);
    return usage(`secrets: ${(err as Error).message}`);
  }
  if (values.check) {
    process.stdout.write(`${values.config}: OK (${env.secrets().length} secrets)\n`);
    return SERVE_EXIT.ok;
  }
  const server = new PptpServer(config, env);
  try {
    await server.start();
  } catch (err) {
    process.stderr.write(`pptp-ts serve: cannot start: ${(err as Error).message}\n`);
    return SERVE_EXIT.setup;
  }

  // systemd Type=notify (pptp-ts-server.service): READY=1 once listening, then STATUS= on every change.
  const notifier = new SdNotifier({ log });
  let lastStatus = '';
  const statusLine = (): string => {
    const sessions = server.sessions();
    const up = sessions.filter((x) => x.up).length;
    return `${sessions.length} sessions (${up} up), ${server.connectionCount} connections, ${server.poolAvailable} addresses free`;
  };
  const statusTimer = notifier.enabled
    ? setInterval(() => {
        const line = statusLine();
        if (line !== lastStatus) notifier.status(line);
        lastStatus = line;
      }, SERVE_STATUS_INTERVAL_MS).unref()
    : undefined;

  let signals = 0;
  let onStop: (sig: NodeJS.Signals) => void = () => {};
  const done = new Promise<void>((resolve) => {
    onStop = (sig) => {
      signals++;
      if (signals > 1) {
        log.log('warn', `${sig} again: exiting without finishing the shutdown`);
        process.exit(SERVE_EXIT.fatal);
      }
      log.log('info', `${sig}: shutting down`);
      notifier.stopping('shutting down: telling every peer');
      void server.shutdown('server shutting down').then(resolve);
    };
  });
  process.on('SIGINT', onStop);
  process.on('SIGTERM', onStop);
  const onHup = () => {
    try {
      env.reloadSecrets();
      log.log('info', 'secrets re-read', { entries: env.secrets().length });
    } catch (err) {
      log.log('error', 'secrets not re-read (the old ones stay)', { error: (err as Error).message });
    }
  };
  const onUsr1 = () => {
    const c = server.counters;
    const fields = Object.entries(c)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    process.stdout.write(
      `status connections=${server.connectionCount} pool-free=${server.poolAvailable} ${fields}\n`,
    );
    for (const s of server.sessions()) {
      process.stdout.write(
        `session call=${s.callId} peer=${s.peer} user=${s.user ?? '-'} address=${s.address ?? '-'} up=${s.up} ifname=${s.ifname ?? '-'} spoofed=${s.spoofedDropped}\n`,
      );
    }
    process.stdout.write('status end\n');
  };
  process.on('SIGHUP', onHup);
  process.on('SIGUSR1', onUsr1);
  // Only now, with every signal handled, say that we are ready.
  const a = server.address!;
  process.stdout.write(`listening on ${a.address}:${a.port}\n`);
  lastStatus = statusLine();
  notifier.ready(`listening on ${a.address}:${a.port}; ${lastStatus}`);
  await done;
  clearInterval(statusTimer);
  notifier.close();
  process.off('SIGINT', onStop);
  process.off('SIGTERM', onStop);
  process.off('SIGHUP', onHup);
  process.off('SIGUSR1', onUsr1);
  process.stdout.write('stopped\n');
  return SERVE_EXIT.ok;
}
