/**
 * The server's config file: JSON, validated with zod so that every mistake is
 * reported with the dotted path of the bad key (`ppp.lcp-echo-interval: ...`),
 * and unknown keys are errors (a typo must not silently fall back to a
 * default). PPP options keep pppd's names.
 *
 * ```json
 * {
 *   "listen": "0.0.0.0",
 *   "name": "pptp-ts",
 *   "local-ip": "10.99.0.1",
 *   "pool": "10.99.0.10-10.99.0.250",
 *   "secrets": "/etc/ppp/chap-secrets",
 *   "ms-dns": ["10.99.0.1"],
 *   "ppp": { "require-mppe-128": true, "lcp-echo-interval": 30 }
 * }
 * ```
 */
import { z } from 'zod';
import { BUSY_POLL_MAX_SPIN_MICROS, BUSY_POLL_MAX_TOTAL_MICROS, busyPollSettings } from '../io/busy-poll.js';
import { parseListenAddress } from '../io/metrics-http.js';
import { DEFAULT_RECEIVE_WINDOW } from '../pptp/gre-sequencer.js';
import { parseIpv4 } from '../wire/bytes.js';
import { PoolSpecError, parsePoolSpec } from './ip-pool.js';

/** Where `pptp-ts serve` listens for management commands unless the config says otherwise. */
export const DEFAULT_CONTROL_SOCKET = '/run/pptp-ts/serve.sock';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const ipv4 = z
  .string()
  .refine((s) => parseIpv4(s) !== undefined, { message: 'not an IPv4 address (a.b.c.d)' });
const ifname = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,15}$/, 'interface names are 1-15 characters of letters, digits, _ . -');
const seconds = z.number().min(0).max(86400);

/** PPP options (pppd names and defaults, docs/architecture.md §4). */
const pppSchema = z.strictObject({
  /** Authentication methods we accept from clients, strongest first. */
  'require-mschap-v2': z.boolean().default(true),
  'require-mschap': z.boolean().default(false),
  'require-chap': z.boolean().default(false),
  'require-pap': z.boolean().default(false),
  /** MPPE policy: required by default; `nomppe` turns it off, `require-mppe-40` allows 40-bit. */
  'require-mppe-128': z.boolean().default(true),
  'require-mppe-40': z.boolean().default(false),
  nomppe: z.boolean().default(false),
  'mppe-stateful': z.boolean().default(false),
  'ms-ignore-domain': z.boolean().default(true),
  mtu: z.number().int().min(576).max(1500).optional(),
  mru: z.number().int().min(576).max(1500).optional(),
  'lcp-echo-interval': seconds.default(30),
  'lcp-echo-failure': z.number().int().min(0).max(100).default(4),
  ipv6: z.boolean().default(false),
  /**
   * Seconds without a data packet either way before the session ends (pppd
   * `idle`; keep-alives do not count); an Access-Accept's Idle-Timeout
   * overrides it. Absent or 0: no limit.
   */
  idle: z.number().int().min(0).max(86400).optional(),
});

/**
 * SO_RCVBUF/SO_SNDBUF of the server's one GRE socket unless the config says
 * (`limits.gre-socket-buffer`). Every session's packets share it: with the
 * kernel's default (about 200 KiB, some 300 small packets) a burst of
 * set-ups while the event loop computes MS-CHAP-v2 responses overflowed it,
 * and each lost LCP/IPCP packet cost its session a 3 s restart time-out;
 * 4 MiB (net.core.rmem_max here) still dropped 7,442 packets when 10,000
 * clients redialled at once (docs/sessions.md, "Login storm"). It is set
 * with SO_RCVBUFFORCE, so the server's CAP_NET_ADMIN takes it past
 * rmem_max; memory is charged only for packets waiting in it.
 */
export const DEFAULT_GRE_SOCKET_BUFFER_BYTES = 16 << 20;

/**
 * Resource limits (docs/client-server.md "Limits"). Names follow accel-ppp's
 * where it has the same limit (`max-sessions`, `max-starting`).
 */
const limitsSchema = z.strictObject({
  'max-sessions': z.number().int().min(1).max(100000).default(10000),
  'max-connections-per-address': z.number().int().min(1).max(100000).default(64),
  /**
   * listen(2) backlog of the control port: connections the kernel queues
   * before we accept them, capped by net.core.somaxconn. A login storm
   * meets it first (docs/sessions.md, "Login storm").
   */
  'listen-backlog': z.number().int().min(1).max(65535).default(4096),
  /**
   * Bytes of the GRE socket's receive and send buffers, shared by every
   * session (set past net.core.rmem_max when the server has CAP_NET_ADMIN).
   */
  'gre-socket-buffer': z
    .number()
    .int()
    .min(65536)
    .max(1 << 30)
    .default(DEFAULT_GRE_SOCKET_BUFFER_BYTES),
  /** Seconds from TCP accept to the PPP network phase. */
  'handshake-timeout': z.number().min(1).max(600).default(30),
  /**
   * Control connections that may be setting up at once (accepted, no
   * session up yet); more wait, unread, in arrival order, with their
   * handshake-timeout running from the accept. 0: no limit.
   */
  'setup-concurrency': z.number().int().min(0).max(100000).default(256),
  /** Calls on one control connection (Windows, pptp-linux and accel-ppp use one). */
  'max-calls-per-connection': z.number().int().min(1).max(0xffff).default(4),
  /** Calls from one source address, over all its control connections. */
  'max-calls-per-address': z.number().int().min(1).max(100000).default(64),
  /** Calls that have not authenticated yet, server-wide (accel-ppp `max-starting`). */
  'max-starting': z.number().int().min(1).max(100000).default(128),
  /** Calls that have not authenticated yet, from one source address. */
  'max-starting-per-address': z.number().int().min(1).max(100000).default(8),
  /** Seconds from a call's Outgoing-Call-Reply to its successful authentication. */
  'auth-timeout': z.number().min(1).max(600).default(15),
  /** Seconds a failed authentication waits before its Failure is sent; doubles per recent failure. */
  'auth-failure-delay': z.number().min(0).max(60).default(1),
  /** Largest such delay, seconds. */
  'auth-failure-delay-max': z.number().min(0).max(600).default(30),
  /** Seconds after which an address's or user's failure count is forgotten. */
  'auth-failure-forget': z.number().min(1).max(86400).default(600),
  /** Queued control bytes to one peer above which we stop reading from it. */
  'control-write-high-water': z
    .number()
    .int()
    .min(1024)
    .max(1 << 30)
    .default(65536),
  /** Queued control bytes to one peer above which the connection is dropped. */
  'control-write-limit': z
    .number()
    .int()
    .min(1024)
    .max(1 << 30)
    .default(262144),
  /** Seconds a peer may leave our control writes unread (reading paused) before it is dropped. */
  'control-write-stall-timeout': z.number().min(1).max(600).default(10),
  /** Seconds SIGTERM/SIGINT may take: peers are told at once, then whatever is left is dropped. */
  'shutdown-timeout': z.number().min(0.5).max(60).default(3),
  /**
   * Session set-ups and ends in a burst after which, once 5 s pass without
   * any, the server compacts its JavaScript heap once (src/io/idle-collect.ts);
   * 0 (the default): never. Off by default for its pause (docs/sessions.md).
   */
  'compact-after-burst': z.number().int().min(0).max(1_000_000).default(0),
});

/** `HOST:PORT` (or a bare IPv4 address, which takes `defaultPort`) of a RADIUS peer. */
function radiusAddress(defaultPort: number) {
  return z.string().refine((s) => parseRadiusAddress(s, defaultPort) !== undefined, {
    message: `expected an IPv4 address with an optional :PORT (default ${defaultPort})`,
  });
}

/** Parses `a.b.c.d[:port]`; `undefined` when malformed. */
export function parseRadiusAddress(
  text: string,
  defaultPort: number,
): { readonly host: string; readonly port: number } | undefined {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(text);
  if (!m || parseIpv4(m[1]!) === undefined) return undefined;
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1]!, port };
}

/** A shared secret (RFC 2865 §3: "The secret ... MUST NOT be empty"). */
const radiusSecret = z.string().min(1, 'a RADIUS shared secret must not be empty').max(128);

function radiusServer(defaultPort: number) {
  return z.strictObject({ address: radiusAddress(defaultPort), secret: radiusSecret });
}

/**
 * RADIUS (docs/radius.md): authentication and accounting servers in order of
 * preference, and the dynamic-authorization listener (RFC 5176).
 */
const radiusSchema = z.strictObject({
  /** NAS-Identifier (RFC 2865 §5.32); defaults to the server's `name`. */
  'nas-identifier': z.string().min(1).max(253).optional(),
  /** NAS-IP-Address (RFC 2865 §5.4); defaults to `listen` unless that is 0.0.0.0. */
  'nas-ip-address': ipv4.optional(),
  /** Access-Request servers, tried in order (fail-over). */
  auth: z.array(radiusServer(1812)).max(16).default([]),
  /** Accounting-Request servers, tried in order (fail-over). */
  accounting: z.array(radiusServer(1813)).max(16).default([]),
  /** Where users are looked up, in order: the first that knows the user decides. */
  order: z
    .array(z.enum(['radius', 'secrets']))
    .min(1)
    .max(2)
    .refine((a) => new Set(a).size === a.length, { message: 'each source at most once' })
    .default(['radius']),
  /** Seconds to wait for a reply before retransmitting. */
  timeout: z.number().min(0.1).max(60).default(3),
  /** Retransmissions to one server before failing over to the next. */
  retries: z.number().int().min(0).max(10).default(2),
  /** Seconds a server that timed out is skipped for new requests. */
  'dead-time': z.number().min(0).max(3600).default(30),
  /** Requests on the wire at once, all servers together. */
  'max-outstanding': z.number().int().min(1).max(4096).default(256),
  /** Acct-Interim-Interval when the Access-Accept names none, seconds; 0: no interim updates. */
  'interim-interval': z.number().int().min(0).max(86400).default(0),
  /** Accounting records waiting for a server (memory, and the spool file when given). */
  'accounting-queue': z
    .strictObject({
      /** Spool file that keeps undelivered records across restarts. */
      path: z.string().min(1).startsWith('/', 'an absolute path').optional(),
      'max-records': z.number().int().min(1).max(10_000_000).default(100_000),
      /** Seconds a record is retried before it is given up (and counted). */
      'max-age': z
        .number()
        .int()
        .min(1)
        .max(30 * 86400)
        .default(86400),
    })
    .prefault({}),
  /** Dynamic authorization (RFC 5176 Disconnect/CoA); off unless given. */
  das: z
    .strictObject({
      listen: radiusAddress(3799).default('0.0.0.0:3799'),
      /** Only these may send Disconnect/CoA-Requests, each with its own secret. */
      clients: z
        .array(z.strictObject({ address: ipv4, secret: radiusSecret }))
        .min(1)
        .max(64),
    })
    .optional(),
});

const schema = z.strictObject({
  /** Address to listen on for TCP 1723 (and GRE). */
  listen: ipv4.default('0.0.0.0'),
  port: z.number().int().min(1).max(65535).default(1723),
  /** Our name: the CHAP name we send and the chap-secrets "server" column. */
  name: z.string().min(1).max(255).default('pptp-ts'),
  /** The server's own address inside the tunnel (IPCP local address). */
  'local-ip': ipv4,
  /** Address pool for clients (ranges, CIDR; see ip-pool.ts). */
  pool: z.string().min(1),
  /** pppd-format secrets file (optional when `radius.order` leaves it out). */
  secrets: z.string().min(1).optional(),
  'ms-dns': z.array(ipv4).max(2).default([]),
  'ms-wins': z.array(ipv4).max(2).default([]),
  interface: z
    .strictObject({
      /** `shared`: one TUN for all sessions (route by inner address); `per-session`: one TUN each. */
      mode: z.enum(['shared', 'per-session']).default('shared'),
      name: ifname.default('pptps0'),
    })
    .default({ mode: 'shared', name: 'pptps0' }),
  ppp: pppSchema.default(pppSchema.parse({})),
  pptp: z
    .strictObject({
      /** Control-connection Echo-Request interval (RFC 2637 §2.6 keep-alive), seconds. */
      'echo-interval': seconds.default(60),
      /** Our advertised Packet Receive Window Size (RFC 2637 §2.8); see DEFAULT_RECEIVE_WINDOW. */
      'receive-window': z.number().int().min(1).max(65535).default(DEFAULT_RECEIVE_WINDOW),
      /** Ignore the peer's advertised window (for peers that advertise nonsense). */
      'ignore-peer-window': z.boolean().default(false),
      /**
       * Longest wait before an acknowledgment-only packet, ms. 0: acknowledgments
       * ride on data packets only, as Linux's pptp driver does (docs/data-path.md).
       */
      'ack-timeout-ms': z.number().int().min(0).max(10000).default(100),
      'reorder-timeout-ms': z.number().int().min(0).max(10000).default(300),
    })
    .default({
      'echo-interval': 60,
      'receive-window': DEFAULT_RECEIVE_WINDOW,
      'ignore-peer-window': false,
      'ack-timeout-ms': 100,
      'reorder-timeout-ms': 300,
    }),
  limits: limitsSchema.prefault({}),
  /**
   * The data path's busy-poll (src/io/busy-poll.ts, docs/performance.md
   * "Latency"): after traffic, keep polling the TUN and GRE socket without
   * sleeping until `spin-us` pass with nothing new, at most `max-us` per
   * wake-up (default 4 × `spin-us`). 0 (the default): off. Read at start.
   */
  'busy-poll': z
    .strictObject({
      'spin-us': z.number().int().min(0).max(BUSY_POLL_MAX_SPIN_MICROS).default(0),
      'max-us': z.number().int().min(0).max(BUSY_POLL_MAX_TOTAL_MICROS).optional(),
    })
    .refine((b) => b['max-us'] === undefined || b['max-us'] >= b['spin-us'], {
      message: 'max-us must be at least spin-us',
      path: ['max-us'],
    })
    .transform((b) => ({
      'spin-us': b['spin-us'],
      'max-us': busyPollSettings(b['spin-us'], b['max-us']).maxMicros,
    }))
    .prefault({}),
  radius: radiusSchema.optional(),
  /** May clients reach each other's tunnel addresses? */
  'client-to-client': z.boolean().default(false),
  hooks: z
    .strictObject({ 'ip-up': z.string().min(1).optional(), 'ip-down': z.string().min(1).optional() })
    .default({}),
  /** Prometheus metrics (docs/operations.md "Metrics"): off unless `listen` is given. */
  metrics: z
    .strictObject({
      listen: z.string().refine((s) => parseListenAddress(s) !== undefined, {
        message: 'expected HOST:PORT, e.g. 127.0.0.1:9723',
      }),
    })
    .optional(),
  /** The management socket (`pptp-ts sessions|kick|reload`); `false` turns it off. */
  'control-socket': z
    .union([z.string().min(1).max(100).startsWith('/', 'an absolute path'), z.literal(false)])
    .default(DEFAULT_CONTROL_SOCKET),
  log: z
    .strictObject({
      level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
      format: z.enum(['text', 'json']).default('text'),
      /** Warnings of one kind one connection or session may log at once, then one per `warn-interval`. */
      'warn-burst': z.number().int().min(1).max(100000).default(10),
      /** Seconds per further warning of one kind (per connection; the server as a whole gets 10 times the rate). */
      'warn-interval': z.number().min(0.001).max(3600).default(1),
    })
    .prefault({}),
});

export type ServerConfig = z.infer<typeof schema>;
/** The config as written (defaults not yet filled in). */
export type ServerConfigInput = z.input<typeof schema>;

/** The `radius` section, defaults filled in. */
export type RadiusConfig = NonNullable<ServerConfig['radius']>;

/**
 * Who this server is to its RADIUS servers and clients: `nas-ip-address`,
 * else the `listen` address unless that is 0.0.0.0 (then none), and
 * `nas-identifier`, else the server's `name`.
 */
export function nasOf(config: ServerConfig): {
  readonly ip: string | undefined;
  readonly identifier: string;
} {
  const r = config.radius;
  const listen = config.listen;
  return {
    ip: r?.['nas-ip-address'] ?? (listen === '0.0.0.0' ? undefined : listen),
    identifier: r?.['nas-identifier'] ?? config.name,
  };
}

/** The retransmission settings every RADIUS client of the server takes from `radius`. */
export function radiusRetransmission(r: RadiusConfig): {
  readonly timeoutMs: number;
  readonly retries: number;
  readonly deadTimeMs: number;
  readonly maxOutstanding: number;
} {
  return {
    timeoutMs: r.timeout * 1000,
    retries: r.retries,
    deadTimeMs: r['dead-time'] * 1000,
    maxOutstanding: r['max-outstanding'],
  };
}

function formatIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => `unknown key "${path ? `${path}.` : ''}${k}"`).join('; ');
  }
  return `${path || '(top level)'}: ${issue.message}`;
}

/** Validates a parsed JSON value. Throws {@link ConfigError} listing every problem with its key. */
export function validateServerConfig(value: unknown, fileName = 'config'): ServerConfig {
  const r = schema.safeParse(value);
  if (!r.success) {
    throw new ConfigError(`${fileName}: ${r.error.issues.map(formatIssue).join('\n  ')}`);
  }
  const c = r.data;
  try {
    parsePoolSpec(c.pool);
  } catch (e) {
    if (e instanceof PoolSpecError) throw new ConfigError(`${fileName}: pool: ${e.message}`);
    throw e;
  }
  const l = c.limits;
  if (l['control-write-limit'] <= l['control-write-high-water']) {
    throw new ConfigError(
      `${fileName}: limits.control-write-limit must be above limits.control-write-high-water`,
    );
  }
  if (l['auth-failure-delay-max'] < l['auth-failure-delay']) {
    throw new ConfigError(`${fileName}: limits.auth-failure-delay-max is below limits.auth-failure-delay`);
  }
  const sources = c.radius?.order ?? ['secrets'];
  if (sources.includes('secrets') && c.secrets === undefined) {
    throw new ConfigError(
      `${fileName}: secrets: required${c.radius ? ' when radius.order includes "secrets"' : ' (or configure radius)'}`,
    );
  }
  if (c.radius && sources.includes('radius') && c.radius.auth.length === 0) {
    throw new ConfigError(
      `${fileName}: radius.auth: at least one server when radius.order includes "radius"`,
    );
  }
  const p = c.ppp;
  if (!p['require-mschap-v2'] && !p['require-mschap'] && !p['require-chap'] && !p['require-pap']) {
    throw new ConfigError(
      `${fileName}: ppp: no authentication method enabled (set one of require-mschap-v2, ...)`,
    );
  }
  // The defaults require MPPE-128; only an explicit require-mppe-* beside nomppe is a contradiction.
  const given = (value as { ppp?: Record<string, unknown> }).ppp ?? {};
  for (const k of ['require-mppe-128', 'require-mppe-40'] as const) {
    if (p.nomppe && given[k] === true) {
      throw new ConfigError(
        `${fileName}: ppp: "nomppe": true contradicts "${k}": true (MPPE cannot be off and required)`,
      );
    }
  }
  // With RADIUS, an Access-Accept may carry MS-MPPE-Send/Recv-Key for PAP and CHAP users too.
  if (!p.nomppe && (p['require-pap'] || p['require-chap']) && !sources.includes('radius')) {
    throw new ConfigError(
      `${fileName}: ppp: MPPE keys come from MS-CHAP (or a RADIUS Access-Accept); with require-pap or require-chap set "nomppe": true`,
    );
  }
  return c;
}

/** Parses and validates config file text. */
export function parseServerConfig(text: string, fileName = 'config'): ServerConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${fileName}: not valid JSON: ${(e as Error).message}`);
  }
  return validateServerConfig(value, fileName);
}
