/**
 * `pptp-ts connect SERVER --user NAME [options]`: the PPTP client
 * (docs/client-server.md). Options are named after pppd's where one exists.
 * The password never comes from the command line (it would show in `ps`):
 * `--password-file`, `$PPTP_PASSWORD`, or a prompt on a terminal.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { systemClientEnv } from '../client/client-env.js';
import { PPP_RESOLV_CONF } from '../client/client-host.js';
import { EXIT_CODE_TABLE, ExitCode } from '../client/exit-codes.js';
import { ClientTracker } from '../client/operations.js';
import { type ClientOptions, localAddressProblem, type MppePolicy } from '../client/options.js';
import { ClientSupervisor } from '../client/supervisor.js';
import { type BusyPollSettings, parseBusyPoll, setBusyPoll } from '../io/busy-poll.js';
import { type ControlSocket, listenControlSocket } from '../io/control-socket.js';
import { createLogger } from '../io/log.js';
import { type MetricsEndpoint, parseListenAddress } from '../io/metrics-http.js';
import { errorText } from '../io/os-errors.js';
import { SdNotifier } from '../io/sd-notify.js';
import type { LogLevel } from '../log/logger.js';
import type { AuthMethod } from '../ppp/auth/index.js';
import { parseIpv4 } from '../wire/bytes.js';

export const CONNECT_USAGE = `usage: pptp-ts connect SERVER --user NAME [options]
       pptp-ts connect --profile FILE [options]

Dials a PPTP server and keeps the tunnel up until SIGINT/SIGTERM or the
server hangs up. Needs root (TUN interface, raw GRE socket, routes).

 --profile FILE           the options from a JSON profile (docs/operations.md);
                           options after it add to or override it
authentication
  --user NAME              name to authenticate as (pppd user)
  --password-file FILE     password from the first line of FILE; otherwise
                           $PPTP_PASSWORD, otherwise a prompt on a terminal
                           (never on the command line)
  --auth LIST              methods we agree to authenticate with, comma-
                           separated: mschap-v2 (default), mschap, chap, pap
tunnel
  --port N                 TCP port (default 1723)
  --local-address ADDR     connect (and so send and receive GRE) from this
                           local IPv4 address (pptp-linux --localbind);
                           default: the one the route to SERVER picks
  --ifname NAME            interface name or pattern (default pptp%d)
  --mtu N, --mru N         pppd mtu/mru (capped by the path MTU − 40)
  --mppe SPEC              required|optional|off, key lengths 40,56,128,
                           stateless|stateful (default required,128,stateless)
  --ignore-peer-window     send without waiting for the peer's GRE window
  --ack-timeout-ms MS      longest wait before a GRE acknowledgment-only packet
                           (default 100; 0 = acknowledgments ride on data only,
                           as Linux's pptp driver)
  --ipv6                   also negotiate IPv6CP: link-local addresses (pppd +ipv6)
  --busy-poll SPIN[/MAX]   after traffic, poll for more without sleeping until
                           SPIN µs pass idle, at most MAX µs (default 4×SPIN)
                           per wake-up: lower latency for CPU (default off;
                           docs/performance.md "Latency")
routes and DNS
  --default-route          all IPv4 into the tunnel (pppd defaultroute)
  --route CIDR             a route into the tunnel (repeatable)
  --no-host-route          do not pin SERVER/32 to the current gateway
  --usepeerdns             use the server's DNS: through systemd-resolved
                           (resolvectl) when it runs, else resolvconf, else
                           written to ${PPP_RESOLV_CONF}; undone at the end
  --resolv-conf FILE       ...always written to this file instead
hooks (pppd-compatible arguments and environment)
  --ip-up SCRIPT, --ip-down SCRIPT, --ipparam TEXT
keep-alive and reconnect
  --lcp-echo-interval S    LCP Echo-Request interval (default 30, 0 = off)
  --lcp-echo-failure N     unanswered echoes before giving up (default 4)
  --pptp-echo-interval S   PPTP Echo-Request interval (default 60)
  --connect-timeout S      TCP connect time-out (default 15)
  --setup-timeout S        time for the tunnel to come up (default 60)
  --persist                reconnect after failures (pppd persist)
  --maxfail N              give up after N failed attempts (default 10, 0 = never)
  --holdoff S              first wait before reconnecting (default 5, doubles, max 300)
operations (docs/operations.md)
  --metrics HOST:PORT      Prometheus metrics at http://HOST:PORT/metrics
  --control PATH           management socket (root only) for
                           'pptp-ts status --socket PATH'
logging
  --log-level LEVEL        debug|info|warn|error (default info), to stderr
  --log-format FORMAT      text|json
  -h, --help

exit codes
${EXIT_CODE_TABLE.map((e) => `  ${String(e.code).padStart(2)}  ${e.meaning}`).join('\n')}
`;

/** A command-line error: printed with the usage hint, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface ConnectCommand {
  readonly options: Omit<ClientOptions, 'password'>;
  readonly passwordFile: string | undefined;
  readonly persist: boolean;
  readonly maxfail: number;
  readonly holdoff: number;
  readonly logLevel: LogLevel;
  readonly logFormat: 'text' | 'json';
  /** `--metrics HOST:PORT`: the Prometheus endpoint. */
  readonly metrics?: string;
  /** `--control PATH`: the management socket (`pptp-ts status --socket PATH`). */
  readonly control?: string;
  /** `--busy-poll SPIN[/MAX]` (io/busy-poll.ts); absent: off. */
  readonly busyPoll?: BusyPollSettings;
  readonly help: boolean;
}

const AUTH_NAMES: Record<string, AuthMethod> = {
  'mschap-v2': 'mschap-v2',
  mschapv2: 'mschap-v2',
  mschap: 'mschap',
  chap: 'chap-md5',
  'chap-md5': 'chap-md5',
  pap: 'pap',
};

/** Parses `--mppe required,128,stateless` and friends. */
export function parseMppeSpec(spec: string): MppePolicy {
  let mode: MppePolicy['mode'] | undefined;
  const bits: (40 | 56 | 128)[] = [];
  let stateful: boolean | undefined;
  for (const raw of spec.split(',')) {
    const t = raw.trim().toLowerCase();
    if (t === 'required' || t === 'require' || t === 'on') mode = 'required';
    else if (t === 'optional') mode = 'optional';
    else if (t === 'off' || t === 'no' || t === 'none') mode = 'off';
    else if (t === '40' || t === '56' || t === '128') bits.push(Number(t) as 40 | 56 | 128);
    else if (t === 'stateful') stateful = true;
    else if (t === 'stateless') stateful = false;
    else
      throw new UsageError(
        `--mppe: '${raw}' is not one of required, optional, off, 40, 56, 128, stateless, stateful`,
      );
  }
  if (mode === 'off' && (bits.length || stateful !== undefined)) {
    throw new UsageError('--mppe: off takes no key lengths or mode');
  }
  return {
    mode: mode ?? 'required',
    ...(mode === 'off' ? {} : { bits: bits.length ? bits : [128], stateful: stateful ?? false }),
  };
}

function int(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new UsageError(`--${name}: expected a whole number from ${min} to ${max}, got '${v}'`);
  }
  return Number(v);
}

function seconds(name: string, v: string | undefined, max = 86_400): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || n > max) throw new UsageError(`--${name}: expected seconds, got '${v}'`);
  return n;
}

function cidr(v: string): string {
  const m = /^(\d+\.\d+\.\d+\.\d+)(?:\/(\d{1,2}))?$/.exec(v);
  if (!m || parseIpv4(m[1]!) === undefined || (m[2] !== undefined && Number(m[2]) > 32)) {
    throw new UsageError(`--route: '${v}' is not an IPv4 address or a.b.c.d/n`);
  }
  return m[2] === undefined ? `${m[1]}/32` : v;
}

/** Parses the `connect` arguments (strict: unknown options are errors). Throws {@link UsageError}. */
export function parseConnectArgs(argv: readonly string[]): ConnectCommand {
  for (const a of argv) {
    if (a === '--password' || a.startsWith('--password=')) {
      throw new UsageError(
        '--password is not accepted: a password on the command line shows in ps. Use --password-file FILE or $PPTP_PASSWORD',
      );
    }
  }
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    return {
      options: { server: '', user: '' },
      passwordFile: undefined,
      persist: false,
      maxfail: 10,
      holdoff: 5,
      logLevel: 'info',
      logFormat: 'text',
      help: true,
    };
  }
  const [server, ...extra] = parsed.positionals;
  if (!server) throw new UsageError('the server (a host name or IPv4 address) is missing');
  if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`);
  if (!v.user) throw new UsageError('--user NAME is required');
  const auth = (v.auth ?? 'mschap-v2').split(',').map((a) => {
    const m = AUTH_NAMES[a.trim().toLowerCase()];
    if (!m) throw new UsageError(`--auth: unknown method '${a}' (mschap-v2, mschap, chap, pap)`);
    return m;
  });
  const level = v['log-level'] ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(level)) {
    throw new UsageError(`--log-level: '${level}' is not debug, info, warn or error`);
  }
  const format = v['log-format'] ?? 'text';
  if (format !== 'text' && format !== 'json')
    throw new UsageError(`--log-format: '${format}' is not text or json`);
  if (v.ifname !== undefined && !/^[A-Za-z0-9_.%-]{1,15}$/.test(v.ifname)) {
    throw new UsageError(`--ifname: '${v.ifname}' is not a valid interface name`);
  }
  if (v.metrics !== undefined && !parseListenAddress(v.metrics)) {
    throw new UsageError(`--metrics: '${v.metrics}' is not HOST:PORT (e.g. 127.0.0.1:9724)`);
  }
  if (v.control !== undefined && (!v.control.startsWith('/') || v.control.length > 100)) {
    throw new UsageError(`--control: '${v.control}' is not an absolute path of at most 100 characters`);
  }
  let busyPoll: BusyPollSettings | undefined;
  if (v['busy-poll'] !== undefined) {
    try {
      busyPoll = parseBusyPoll(v['busy-poll']);
    } catch (err) {
      throw new UsageError(`--${(err as Error).message}`);
    }
  }
  const mtu = int('mtu', v.mtu, 576, 65535);
  const mru = int('mru', v.mru, 576, 65535);
  const port = int('port', v.port, 1, 65535);
  const localAddress = v['local-address'];
  if (localAddress !== undefined) {
    const problem = localAddressProblem(localAddress);
    if (problem) throw new UsageError(`--local-address: ${problem}`);
  }
  const lcpEchoInterval = seconds('lcp-echo-interval', v['lcp-echo-interval']);
  const lcpEchoFailure = int('lcp-echo-failure', v['lcp-echo-failure'], 0, 1000);
  const pptpEchoInterval = seconds('pptp-echo-interval', v['pptp-echo-interval']);
  const connectTimeout = seconds('connect-timeout', v['connect-timeout'], 3600);
  const setupTimeout = seconds('setup-timeout', v['setup-timeout'], 3600);
  const ackTimeoutMs = int('ack-timeout-ms', v['ack-timeout-ms'], 0, 10_000);
  const gre = {
    ...(v['ignore-peer-window'] ? { ignorePeerWindow: true } : {}),
    ...(ackTimeoutMs !== undefined ? { ackTimeoutMs } : {}),
  };
  const options: Omit<ClientOptions, 'password'> = {
    server,
    user: v.user,
    auth,
    mppe: parseMppeSpec(v.mppe ?? 'required,128,stateless'),
    ...(port !== undefined ? { port } : {}),
    ...(localAddress !== undefined ? { localAddress } : {}),
    ...(v.ifname !== undefined ? { ifname: v.ifname } : {}),
    ...(mtu !== undefined ? { mtu } : {}),
    ...(mru !== undefined ? { mru } : {}),
    defaultRoute: v['default-route'] ?? v.defaultroute ?? false,
    routes: (v.route ?? []).map(cidr),
    hostRoute: !(v['no-host-route'] ?? false),
    usePeerDns: v.usepeerdns ?? false,
    ...(v['resolv-conf'] !== undefined ? { resolvConfPath: v['resolv-conf'] } : {}),
    ...(v['ip-up'] !== undefined ? { ipUp: v['ip-up'] } : {}),
    ...(v['ip-down'] !== undefined ? { ipDown: v['ip-down'] } : {}),
    ...(v.ipparam !== undefined ? { ipparam: v.ipparam } : {}),
    ...(lcpEchoInterval !== undefined ? { lcpEchoInterval } : {}),
    ...(lcpEchoFailure !== undefined ? { lcpEchoFailure } : {}),
    ...(pptpEchoInterval !== undefined ? { pptpEchoInterval } : {}),
    ...(connectTimeout !== undefined ? { connectTimeoutMs: connectTimeout * 1000 } : {}),
    ...(setupTimeout !== undefined ? { setupTimeoutMs: setupTimeout * 1000 } : {}),
    ...(Object.keys(gre).length > 0 ? { gre } : {}),
    ...(v.ipv6 ? { ipv6: true } : {}),
  };
  return {
    options,
    passwordFile: v['password-file'],
    persist: v.persist ?? false,
    maxfail: int('maxfail', v.maxfail, 0, 1_000_000) ?? 10,
    holdoff: seconds('holdoff', v.holdoff, 3600) ?? 5,
    logLevel: level as LogLevel,
    logFormat: format,
    ...(v.metrics !== undefined ? { metrics: v.metrics } : {}),
    ...(v.control !== undefined ? { control: v.control } : {}),
    ...(busyPoll !== undefined && busyPoll.spinMicros > 0 ? { busyPoll } : {}),
    help: false,
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: true,
    options: {
      user: { type: 'string' },
      'password-file': { type: 'string' },
      auth: { type: 'string' },
      port: { type: 'string' },
      'local-address': { type: 'string' },
      ifname: { type: 'string' },
      mtu: { type: 'string' },
      mru: { type: 'string' },
      mppe: { type: 'string' },
      'ignore-peer-window': { type: 'boolean' },
      'ack-timeout-ms': { type: 'string' },
      ipv6: { type: 'boolean' },
      'busy-poll': { type: 'string' },
      'default-route': { type: 'boolean' },
      defaultroute: { type: 'boolean' },
      route: { type: 'string', multiple: true },
      'no-host-route': { type: 'boolean' },
      usepeerdns: { type: 'boolean' },
      'resolv-conf': { type: 'string' },
      'ip-up': { type: 'string' },
      'ip-down': { type: 'string' },
      ipparam: { type: 'string' },
      'lcp-echo-interval': { type: 'string' },
      'lcp-echo-failure': { type: 'string' },
      'pptp-echo-interval': { type: 'string' },
      'connect-timeout': { type: 'string' },
      'setup-timeout': { type: 'string' },
      persist: { type: 'boolean' },
      maxfail: { type: 'string' },
      holdoff: { type: 'string' },
      'log-level': { type: 'string' },
      'log-format': { type: 'string' },
      metrics: { type: 'string' },
      control: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** The password: `--password-file`, then `$PPTP_PASSWORD`, then a prompt on a terminal. */
export async function readPassword(
  cmd: ConnectCommand,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  if (cmd.passwordFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(cmd.passwordFile, 'utf8');
    } catch (err) {
      throw new UsageError(`--password-file: cannot read ${cmd.passwordFile}: ${errorText(err)}`);
    }
    const line = (text.split('\n')[0] ?? '').replace(/\r$/, '');
    if (!line) throw new UsageError(`--password-file: ${cmd.passwordFile} is empty`);
    return line;
  }
  if (env.PPTP_PASSWORD) return env.PPTP_PASSWORD;
  if (process.stdin.isTTY && process.stderr.isTTY) return prompt(`Password for ${cmd.options.user}: `);
  throw new UsageError(
    'no password: use --password-file FILE, $PPTP_PASSWORD, or run on a terminal to be asked',
  );
}

/** Reads a line from the terminal without echoing it. */
function prompt(text: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(text);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let pw = '';
    const done = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (s: string) => {
      for (const ch of s) {
        if (ch === '\r' || ch === '\n') {
          done();
          resolve(pw);
          return;
        }
        if (ch === '\u0003' || ch === '\u0004') {
          done();
          reject(new UsageError('no password given'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') pw = pw.slice(0, -1);
        else pw += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/**
 * `--profile FILE` expanded into options. The profile reader (and zod with it)
 * is loaded only when a profile is given, and stays out of the connect bundle.
 */
async function withProfile(argv: readonly string[]): Promise<readonly string[]> {
  if (!argv.some((a) => a === '--profile' || a.startsWith('--profile='))) return argv;
  const { expandProfile, ProfileError } = await import('./profile.js');
  try {
    return expandProfile(argv);
  } catch (err) {
    if (err instanceof ProfileError) throw new UsageError(err.message);
    throw err;
  }
}

export async function runConnect(argv: readonly string[]): Promise<number> {
  let cmd: ConnectCommand;
  let password: string;
  try {
    cmd = parseConnectArgs(await withProfile(argv));
    if (cmd.help) {
      process.stdout.write(CONNECT_USAGE);
      return ExitCode.Ok;
    }
    password = await readPassword(cmd);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`pptp-ts connect: ${err.message}\n(see pptp-ts connect --help)\n`);
    return ExitCode.Usage;
  }
  const log = createLogger('', { level: cmd.logLevel, format: cmd.logFormat });
  const env = systemClientEnv({ log });
  const tracker = new ClientTracker();
  // systemd Type=notify (pptp-ts-client@.service): READY=1 once the tunnel is up.
  const notifier = new SdNotifier({ log });
  const supervisor = new ClientSupervisor(
    { ...cmd.options, password },
    env,
    { persist: cmd.persist, maxfail: cmd.maxfail, holdoff: cmd.holdoff },
    (client) => {
      tracker.onClient(client);
      notifier.status(`connecting to ${cmd.options.server} (attempt ${supervisor.attempts})`);
      const tracked = client.onUp;
      client.onUp = (info) => {
        tracked?.(info);
        notifier.ready(
          `tunnel up: ${info.ifname} ${info.localAddress} -> ${info.remoteAddress} via ${info.server}`,
        );
      };
    },
  );
  let metrics: MetricsEndpoint | undefined;
  let control: ControlSocket | undefined;
  try {
    if (cmd.busyPoll) {
      setBusyPoll(cmd.busyPoll);
      log.log('info', 'busy-poll on', { ...cmd.busyPoll });
    }
    if (cmd.metrics) {
      metrics = await (await import('./connect-metrics.js')).startClientMetrics(cmd.metrics, tracker, log, {
        busyPoll: cmd.busyPoll !== undefined,
      });
    }
    if (cmd.control) {
      control = await listenControlSocket(
        cmd.control,
        (req) => {
          if (req.cmd !== 'status') throw new Error(`unknown command '${req.cmd}' (a client answers status)`);
          return { ok: true, ...tracker.status() };
        },
        log,
      );
    }
  } catch (err) {
    await metrics?.close();
    process.stderr.write(`pptp-ts connect: ${(err as Error).message}\n`);
    return ExitCode.Setup;
  }
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      log.log('info', `${sig}: disconnecting`);
      notifier.stopping('disconnecting');
      supervisor.stop();
    } else {
      log.log('warn', `${sig} again: exiting without finishing the teardown`);
      process.exit(ExitCode.Fatal);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  try {
    const outcome = await supervisor.run();
    if (outcome.code !== ExitCode.Ok) process.stderr.write(`pptp-ts connect: ${outcome.reason}\n`);
    else process.stdout.write('disconnected\n');
    return outcome.code;
  } finally {
    await control?.close();
    await metrics?.close();
    notifier.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
  }
}
