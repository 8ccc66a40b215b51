/**
 * `pptp-ts serve --config FILE`: the PPTP server (docs/client-server.md).
 * SIGINT/SIGTERM shut it down gracefully (every peer is told), SIGHUP
 * re-reads the secrets file, SIGUSR1 prints the live sessions and counters
 * on stdout.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Registry } from 'prom-client';
import { busyPollSettings, setBusyPoll } from '../io/busy-poll.js';
import { RealClock } from '../io/clock.js';
import { fullCollection, IdleCollector } from '../io/idle-collect.js';
import { createLineWriter } from '../io/line-writer.js';
import { createLogger, type LineLoggerOptions } from '../io/log.js';
import { errorText, setupErrorText } from '../io/os-errors.js';
import { SdNotifier } from '../io/sd-notify.js';
import type { LogLevel } from '../log/logger.js';
import { SecretsFileError } from '../server/chap-secrets.js';
import { checkServerSetup } from '../server/check.js';
import { ConfigError, parseServerConfig, type ServerConfig } from '../server/config.js';
import { convertPptpd, type PptpdConversion, pptpdOptionFile } from '../server/pptpd-conf.js';
import { RadiusAccounting, wallClock } from '../server/radius-accounting.js';
import { PptpServer } from '../server/server.js';
import { systemServerEnv } from '../server/server-env.js';
import { commandArgs } from './args.js';
import { registerBusyPollMetrics } from './busy-poll-metrics.js';
import { type ServeOperations, startServeOperations } from './serve-ops.js';

export const SERVE_USAGE = `usage: pptp-ts serve --config FILE [options]
       pptp-ts serve --pptpd-conf /etc/pptpd.conf [--secrets FILE] [--print-config] [options]

Runs a PPTP server (TCP 1723, GRE) as the JSON config file says (see
docs/client-server.md for every key). Needs root (TUN, raw GRE socket).

  --config FILE        the server's JSON config
  --pptpd-conf FILE    instead of --config: a pptpd.conf, the pppd options
                       file it names and /etc/ppp/chap-secrets (see
                       docs/migration.md); what is not honoured is named,
                       one line each, on stderr
  --secrets FILE       with --pptpd-conf: the chap-secrets file
                       (default /etc/ppp/chap-secrets)
  --print-config       with --pptpd-conf: print the equivalent JSON config
                       and exit
  --check              validate the config and the secrets file (pool, fixed
                       addresses, MPPE options, file mode), then exit
  --log-level LEVEL    debug|info|warn|error (overrides log.level)
  --log-format FORMAT  text|json (overrides log.format; docs/operations.md)
  -h, --help

signals: SIGINT/SIGTERM graceful shutdown, SIGHUP re-read the secrets file
and the config's reloadable parts (as 'pptp-ts reload'), SIGUSR1 print
sessions and counters on stdout. Management: pptp-ts sessions|kick|reload
over the control socket (default /run/pptp-ts/serve.sock).

exit codes: 0 stopped cleanly, 1 internal error, 2 bad usage or config,
4 cannot set up (TUN, raw socket, listen address; root?)
`;

export const SERVE_EXIT = { ok: 0, fatal: 1, usage: 2, setup: 4 } as const;

/**
 * Reads pptpd.conf and the options file it names, and converts them
 * (server/pptpd-conf.ts). Returns the one-line reason when it cannot.
 */
function readPptpd(file: string, secrets: string | undefined): PptpdConversion | string {
  const read = (f: string): string | Error => {
    try {
      return readFileSync(f, 'utf8');
    } catch (err) {
      return err as Error;
    }
  };
  const conf = read(file);
  if (conf instanceof Error) return `cannot read ${file}: ${conf.message}`;
  try {
    const optionFile = pptpdOptionFile(conf);
    let options: string | undefined;
    if (optionFile !== undefined) {
      const text = read(optionFile);
      if (text instanceof Error) return `${file}: option ${optionFile}: ${text.message}`;
      options = text;
    }
    return convertPptpd({
      conf,
      ...(options !== undefined ? { options, optionsName: optionFile!.split('/').pop()! } : {}),
      ...(secrets !== undefined ? { secrets } : {}),
    });
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
}
/** How often a server under systemd checks whether its STATUS= line changed. */
export const SERVE_STATUS_INTERVAL_MS = 2000;

/**
 * A compacting collection after a burst of at least `limits.compact-after-burst`
 * session set-ups and ends followed by SERVE_COLLECT_QUIET_MS without any: it
 * gives back the old-space pages the burst's dead objects left half empty,
 * which V8 would otherwise keep as RSS (src/io/idle-collect.ts, docs/sessions.md).
 */
export const SERVE_COLLECT_QUIET_MS = 5000;

function usage(msg: string): number {
  process.stderr.write(`pptp-ts serve: ${msg}\n(see pptp-ts serve --help)\n`);
  return SERVE_EXIT.usage;
}

export async function runServe(argv: readonly string[]): Promise<number> {
  const args = commandArgs(
    argv,
    {
      options: {
        config: { type: 'string' },
        'pptpd-conf': { type: 'string' },
        secrets: { type: 'string' },
        'print-config': { type: 'boolean' },
        check: { type: 'boolean' },
        'log-level': { type: 'string' },
        'log-format': { type: 'string' },
      },
    },
    SERVE_USAGE,
    usage,
  );
  if (typeof args === 'number') return args;
  const { values } = args;
  const pptpd = values['pptpd-conf'];
  if (pptpd !== undefined && values.config !== undefined)
    return usage('--config and --pptpd-conf exclude each other');
  if (pptpd === undefined && (values.secrets !== undefined || values['print-config']))
    return usage('--secrets and --print-config go with --pptpd-conf');
  if (!values.config && pptpd === undefined) return usage('--config FILE (or --pptpd-conf FILE) is required');
  const level = values['log-level'];
  if (level !== undefined && !['debug', 'info', 'warn', 'error'].includes(level)) {
    return usage(`--log-level: '${level}' is not debug, info, warn or error`);
  }
  const format = values['log-format'];
  if (format !== undefined && format !== 'text' && format !== 'json') {
    return usage(`--log-format: '${format}' is not text or json`);
  }
  let config: ServerConfig;
  const configName = pptpd ?? values.config!;
  if (pptpd !== undefined) {
    const converted = readPptpd(pptpd, values.secrets);
    if (typeof converted === 'string') return usage(converted);
    for (const w of converted.warnings) process.stderr.write(`${w}\n`);
    if (values['print-config']) {
      process.stdout.write(`${JSON.stringify(converted.json, null, 2)}\n`);
      return SERVE_EXIT.ok;
    }
    config = converted.config;
  } else {
    let text: string;
    try {
      text = readFileSync(values.config!, 'utf8');
    } catch (err) {
      return usage(`cannot read ${values.config}: ${errorText(err)}`);
    }
    try {
      config = parseServerConfig(text, values.config);
    } catch (err) {
      if (err instanceof ConfigError) return usage(err.message);
      throw err;
    }
  }
  // One write per turn of the event loop for every line logged in it (src/io/line-writer.ts).
  const logLines = createLineWriter(process.stderr);
  const logOptions: LineLoggerOptions = {
    level: (level as LogLevel | undefined) ?? config.log.level,
    format: format ?? config.log.format,
    write: logLines,
  };
  /** A line written to stderr directly, after the log lines queued before it. */
  const say = (text: string): void => {
    logLines.flush();
    process.stderr.write(text);
  };
  const log = createLogger('', logOptions);
  let env: ReturnType<typeof systemServerEnv>;
  try {
    env = systemServerEnv({ log, ...(config.secrets !== undefined ? { secretsPath: config.secrets } : {}) });
  } catch (err) {
    if (err instanceof SecretsFileError) return usage(err.message);
    return usage(`secrets: ${errorText(err)}`);
  }
  let secretsMode: number | undefined;
  try {
    secretsMode = config.secrets === undefined ? undefined : statSync(config.secrets).mode;
  } catch {
    secretsMode = undefined;
  }
  const findings = checkServerSetup({
    config,
    secrets: env.secrets(),
    secretsPath: config.secrets ?? '(no secrets file)',
    secretsMode,
  });
  const errors = findings.filter((f) => f.level === 'error');
  for (const f of findings) {
    if (f.level === 'error' || values.check) {
      say(`pptp-ts serve: ${f.level === 'error' ? '' : 'warning: '}${f.message}\n`);
    } else {
      log.log('warn', f.message);
    }
  }
  if (errors.length) return SERVE_EXIT.usage;
  if (values.check) {
    process.stdout.write(`${configName}: OK (${env.secrets().length} secrets)\n`);
    return SERVE_EXIT.ok;
  }
  // RADIUS accounting first: Accounting-On, answered before any call is accepted (a RADIUS server that
  // shares an address pool between NAS frees this NAS's old leases on it: see accountingOnAnswered).
  let accounting: RadiusAccounting | undefined;
  if (config.radius && config.radius.accounting.length > 0) {
    try {
      accounting = await RadiusAccounting.start({ config, log: log.child('radius.acct') });
    } catch (err) {
      say(`pptp-ts serve: cannot start: radius accounting: ${(err as Error).message}\n`);
      return SERVE_EXIT.setup;
    }
    // Every server tried with all its retransmissions once; then calls are accepted regardless.
    const r = config.radius;
    const waitS = r.timeout * (r.retries + 1) * r.accounting.length;
    if (await accounting.accountingOnAnswered(wallClock.now() + waitS * 1000)) {
      log.log('info', 'radius: Accounting-On answered');
    } else {
      log.log('warn', 'radius: no answer to Accounting-On: accepting calls anyway', { waited: waitS });
    }
  }
  const server = new PptpServer(config, env);
  const busy = config['busy-poll'];
  const busyPoll = busy['spin-us'] > 0;
  try {
    if (busyPoll) {
      setBusyPoll(busyPollSettings(busy['spin-us'], busy['max-us']));
      log.log('info', 'busy-poll on', { spinMicros: busy['spin-us'], maxMicros: busy['max-us'] });
    }
    await server.start();
  } catch (err) {
    say(`pptp-ts serve: cannot start: ${setupErrorText(err)}\n`);
    await accounting?.close(wallClock.now() + 500);
    return SERVE_EXIT.setup;
  }
  // Start/Interim/Stop from the session events.
  if (accounting) server.observers.push(accounting);
  let ops: ServeOperations;
  try {
    ops = await startServeOperations({
      server,
      config,
      rereadConfig: () => {
        if (pptpd === undefined)
          return parseServerConfig(readFileSync(values.config!, 'utf8'), values.config);
        const again = readPptpd(pptpd, values.secrets);
        if (typeof again === 'string') throw new ConfigError(again);
        return again.config;
      },
      env,
      log,
      logOptions,
      levelFixed: level !== undefined,
      ...(accounting || busyPoll
        ? {
            extraMetrics: (r: Registry) => {
              accounting?.registerMetrics(r);
              if (busyPoll) registerBusyPollMetrics(r);
            },
          }
        : {}),
      ...(accounting ? { acctSessionIdOf: (id: number) => accounting.acctSessionIdOf(id) } : {}),
    });
  } catch (err) {
    say(`pptp-ts serve: cannot start: ${(err as Error).message}\n`);
    await server.shutdown('start-up failed');
    await accounting?.close(wallClock.now() + config.limits['shutdown-timeout'] * 1000);
    return SERVE_EXIT.setup;
  }

  const burst = config.limits['compact-after-burst'];
  const collector =
    burst > 0
      ? new IdleCollector({
          clock: new RealClock({ unref: true }),
          quietMs: SERVE_COLLECT_QUIET_MS,
          minEvents: burst,
          collect: () => {
            const ms = fullCollection(true);
            log.log(
              'info',
              `heap compacted after a burst of session set-ups and ends, in ${ms.toFixed(0)} ms`,
            );
          },
        })
      : undefined;
  if (collector) {
    const note = () => collector.note();
    server.observers.push({ sessionUp: note, sessionEnded: note });
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
      // The shutdown bounds itself; this is the backstop should anything hang regardless.
      const boundMs = config.limits['shutdown-timeout'] * 1000;
      setTimeout(() => {
        log.log('error', 'shutdown did not finish in time: exiting');
        process.exit(SERVE_EXIT.fatal);
      }, boundMs + 2000).unref();
      notifier.stopping('shutting down: telling every peer');
      // Accounting: the sessions' Stops are queued as the server ends them, then Accounting-Off,
      // all within the same bound.
      const acctDeadline = wallClock.now() + boundMs;
      void server
        .shutdown('server shutting down')
        .then(() => accounting?.close(Math.max(acctDeadline, wallClock.now() + 500)))
        .then(resolve);
    };
  });
  process.on('SIGINT', onStop);
  process.on('SIGTERM', onStop);
  const onHup = () => {
    ops.reload();
  };
  const onUsr1 = () => {
    const c = server.counters;
    const fields = Object.entries(c)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    const gre = server.greCounters;
    const greFields = gre
      ? ` greNoCall=${gre.rxNoCall} greFiltered=${gre.rxFiltered} greBad=${gre.rxBadGre}`
      : '';
    process.stdout.write(
      `status connections=${server.connectionCount} pool-free=${server.poolAvailable} ${fields}${greFields}\n`,
    );
    for (const s of server.sessions()) {
      process.stdout.write(
        `session call=${s.callId} peer=${s.peer} user=${s.user ?? '-'} address=${s.address ?? '-'} up=${s.up} ifname=${s.ifname ?? '-'} spoofed=${s.spoofedDropped} greOutOfWindow=${s.greOutOfWindow} greResyncs=${s.greResyncs}\n`,
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
  collector?.close();
  await ops.close();
  clearInterval(statusTimer);
  notifier.close();
  process.off('SIGINT', onStop);
  process.off('SIGTERM', onStop);
  process.off('SIGHUP', onHup);
  process.off('SIGUSR1', onUsr1);
  logLines.flush();
  process.stdout.write('stopped\n');
  // Everything is closed; should a handle still hold the event loop, do not wait for it.
  setTimeout(() => process.exit(SERVE_EXIT.ok), 1000).unref();
  return SERVE_EXIT.ok;
}
