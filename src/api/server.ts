/**
 * `createServer(options)`: the PPTP server as a library. It runs the same
 * {@link PptpServer} as `pptp-ts serve` (src/cli/serve.ts), configured with
 * the config file's keys, and adds session events, per-session counters,
 * `kick()` and a pluggable {@link Authenticator} in place of the
 * chap-secrets file.
 */
import { EventEmitter } from 'node:events';
import type { Clock, Timer } from '../io/clock.js';
import type { Logger } from '../log/logger.js';
import { SecretsFileError } from '../server/chap-secrets.js';
import {
  type ServerConfig,
  ConfigError as ServerConfigError,
  type ServerConfigInput,
  validateServerConfig,
} from '../server/config.js';
import {
  PptpServer,
  type ServerCounters,
  type ServerEnv,
  type ServerSessionStatus,
} from '../server/server.js';
import { systemServerEnv } from '../server/server-env.js';
import { type Authenticator, ExternalCallAuth } from './authenticator.js';
import {
  type AuthMethod,
  authOf,
  type LogOptions,
  type MppeInfo,
  makeLogger,
  mppeInfo,
  type TunnelStats,
  tunnelStats,
} from './common.js';
import { ConfigError, PermissionError, type PptpError, PptpError as PptpErrorClass } from './errors.js';

export type { ServerCounters } from '../server/server.js';

/**
 * Options of {@link createServer}: the keys of `pptp-ts serve`'s config file
 * (docs/client-server.md, e.g. `'local-ip'`, `pool`, `ppp`), where
 * `secrets` (a chap-secrets file) is replaced by `authenticator` if you
 * give one; exactly one of the two is required.
 */
export type ServerOptions = Omit<ServerConfigInput, 'secrets' | 'log'> & {
  /** A pppd chap-secrets file. */
  readonly secrets?: string;
  /** Authenticates users from your own store (see {@link Authenticator}). */
  readonly authenticator?: Authenticator;
  /** Longest wait for one answer of the authenticator, ms (default 10 000); then the user is refused. */
  readonly authenticatorTimeoutMs?: number;
  readonly log?: LogOptions;
};

/** A session as the server sees it (a snapshot). */
export interface ServerSession {
  /** Unique for the server's lifetime: pass it (or this object) to `kick()` and `stats()`. */
  readonly id: number;
  /** The PPTP Call ID (unique per client address while the call lives). */
  readonly callId: number;
  /** The client's outer IPv4 address. */
  readonly peerAddress: string;
  /** The user name it authenticated as, once known. */
  readonly user: string | undefined;
  /** Its tunnel address, once assigned. */
  readonly address: string | undefined;
  /** The server-side interface carrying it. */
  readonly interface: string | undefined;
  /** Whether IPv4 passes now. */
  readonly up: boolean;
}

/** `session-up`: a session's network is up (route/interface configured). */
export interface SessionUpEvent {
  readonly session: ServerSession;
  readonly auth: AuthMethod | 'none';
  readonly mppe: MppeInfo | undefined;
  readonly mtu: number;
}

/** `session-down`: a session ended (also one that never came up: `wasUp` false, e.g. a failed login). */
export interface SessionDownEvent {
  readonly session: ServerSession;
  /** One line: the LCP Terminate text of a `kick()`, an authentication failure, a hang-up... */
  readonly reason: string;
  readonly wasUp: boolean;
  /** Its final counters. */
  readonly stats: TunnelStats;
}

/** A pluggable authenticator with the time-out it gets per decision. */
type ExternalAuth = { readonly authenticator: Authenticator; readonly timeoutMs: number };

/** The events of {@link PptpServerHandle}. */
export interface ServerEvents {
  'session-up': [event: SessionUpEvent];
  'session-down': [event: SessionDownEvent];
}

function sessionOf(s: ServerSessionStatus): ServerSession {
  return {
    id: s.id,
    callId: s.callId,
    peerAddress: s.peer,
    user: s.user,
    address: s.address,
    interface: s.ifname,
    up: s.up,
  };
}

/** Validates the options into the server's config. Throws {@link ConfigError}. */
export function serverConfigOf(options: ServerOptions): ServerConfig {
  if (typeof options !== 'object' || options === null)
    throw new ConfigError('options: an object is required');
  const { authenticator, authenticatorTimeoutMs, log, secrets, ...rest } = options;
  if (authenticator !== undefined && typeof authenticator !== 'function') {
    throw new ConfigError('authenticator: must be a function');
  }
  if ((authenticator === undefined) === (secrets === undefined)) {
    throw new ConfigError('give either secrets (a chap-secrets file) or authenticator, not both or neither');
  }
  const t = authenticatorTimeoutMs;
  if (t !== undefined && (!Number.isInteger(t) || t < 1 || t > 600_000)) {
    throw new ConfigError('authenticatorTimeoutMs: expected a whole number of ms from 1 to 600000');
  }
  try {
    return validateServerConfig(
      { ...rest, secrets: secrets ?? '(authenticator)', log: { level: log?.level, format: log?.format } },
      'options',
    );
  } catch (err) {
    if (err instanceof ServerConfigError) throw new ConfigError(err.message, { cause: err });
    throw err;
  }
}

function setupError(err: unknown): PptpError {
  if (err instanceof PptpErrorClass) return err;
  const code = (err as NodeJS.ErrnoException)?.code;
  const message = (err as Error)?.message ?? String(err);
  if (code === 'EPERM' || code === 'EACCES') {
    return new PermissionError(`needs root or CAP_NET_ADMIN + CAP_NET_RAW: ${message}`, { cause: err });
  }
  return new ConfigError(`cannot start: ${message}`, { cause: err });
}

/**
 * A PPTP server. Call `listen()`, then `close()` to shut down (every peer is
 * told, each step bounded).
 */
export class PptpServerHandle extends EventEmitter<ServerEvents> {
  private readonly server: PptpServer;
  private readonly clock: Clock;
  /** Outside authentication of the live calls, by `peer/callId`. */
  private readonly auths = new Map<string, ExternalCallAuth>();
  private readonly timeouts = new Map<number, Timer>();
  private listening = false;
  private closing: Promise<void> | undefined;

  /** @internal Use {@link createServer}. */
  constructor(config: ServerConfig, env: ServerEnv, auth: ExternalAuth | undefined) {
    super();
    this.clock = env.clock;
    const log: Logger = env.log;
    const auths = this.auths;
    const callAuth = auth
      ? (call: { peer: string; callId: number }) => {
          const key = `${call.peer}/${call.callId}`;
          const a = new ExternalCallAuth(
            {
              authenticator: auth.authenticator,
              clock: env.clock,
              log: log.child('auth'),
              timeoutMs: auth.timeoutMs,
              ignoreDomain: config.ppp['ms-ignore-domain'],
            },
            call.peer,
            call.callId,
            () => {
              if (auths.get(key) === a) auths.delete(key);
            },
          );
          auths.set(key, a);
          return a;
        }
      : undefined;
    this.server = new PptpServer(config, {
      ...env,
      ...(callAuth ? { callAuth } : {}),
      sessionEvents: {
        up: (s, info) => this.onUp(s, info.mtu, authOf(info.auth, 'authenticator'), mppeInfo(info.mppe)),
        down: (s, reason, stats, wasUp) => {
          this.timeouts.get(s.id)?.cancel();
          this.timeouts.delete(s.id);
          this.emit('session-down', { session: sessionOf(s), reason, wasUp, stats: tunnelStats(stats) });
        },
      },
    });
  }

  private onUp(s: ServerSessionStatus, mtu: number, auth: AuthMethod | 'none', mppe: MppeInfo | undefined) {
    const limit = this.auths.get(`${s.peer}/${s.callId}`)?.sessionTimeout;
    if (limit !== undefined && !this.timeouts.has(s.id)) {
      this.timeouts.set(
        s.id,
        this.clock.setTimer(limit * 1000, () => {
          this.timeouts.delete(s.id);
          this.server.kickById(s.id, 'session timeout');
        }),
      );
    }
    this.emit('session-up', { session: sessionOf(s), auth, mppe, mtu });
  }

  /**
   * Opens the GRE socket and the interface, then listens on TCP. Rejects
   * with {@link PermissionError} without root (or CAP_NET_ADMIN + CAP_NET_RAW).
   */
  async listen(): Promise<{ address: string; port: number }> {
    if (this.listening) throw new ConfigError('listen(): already listening');
    this.listening = true;
    try {
      await this.server.start();
    } catch (err) {
      this.listening = false;
      throw setupError(err);
    }
    return this.server.address!;
  }

  /** Where it listens, once listening. */
  get address(): { address: string; port: number } | undefined {
    return this.server.address;
  }

  /** Live sessions (snapshots). */
  sessions(): ServerSession[] {
    return this.server.sessions().map(sessionOf);
  }

  /** A session's counters now, or `undefined` once it has ended. */
  stats(session: ServerSession | number): TunnelStats | undefined {
    const s = this.server.sessionStats(typeof session === 'number' ? session : session.id);
    return s && tunnelStats(s);
  }

  /**
   * Ends a session: the client gets an LCP Terminate-Request carrying
   * `reason`, and `session-down` follows with that reason. False when the
   * session has already ended.
   */
  kick(session: ServerSession | number, reason = 'disconnected by the administrator'): boolean {
    return this.server.kickById(typeof session === 'number' ? session : session.id, reason);
  }

  /** Server-wide counters (connections, sessions, drops). */
  get counters(): Readonly<ServerCounters> {
    return { ...this.server.counters };
  }

  /** Graceful shutdown; resolves when everything is freed. Safe to call more than once. */
  close(reason = 'server shutting down'): Promise<void> {
    this.closing ??= this.server.shutdown(reason).finally(() => {
      for (const t of this.timeouts.values()) t.cancel();
      this.timeouts.clear();
    });
    return this.closing;
  }
}

/** The `authenticator` option and its time-out (default 10 s), as the handle takes them. */
function externalAuth(options: ServerOptions): ExternalAuth | undefined {
  return options.authenticator
    ? { authenticator: options.authenticator, timeoutMs: options.authenticatorTimeoutMs ?? 10_000 }
    : undefined;
}

/** @internal {@link createServer} on a given environment (tests use the in-memory one). */
export function createServerWith(options: ServerOptions, env: ServerEnv): PptpServerHandle {
  const config = serverConfigOf(options);
  return new PptpServerHandle(config, env, externalAuth(options));
}

/**
 * A PPTP server on this host (needs root, or CAP_NET_ADMIN + CAP_NET_RAW,
 * at `listen()`). Throws {@link ConfigError} for bad options or an
 * unreadable secrets file.
 */
export function createServer(options: ServerOptions): PptpServerHandle {
  const config = serverConfigOf(options);
  const log = makeLogger(options.log);
  let env: ServerEnv;
  try {
    env = systemServerEnv({ log, ...(options.secrets !== undefined ? { secretsPath: config.secrets } : {}) });
  } catch (err) {
    if (err instanceof SecretsFileError) throw new ConfigError(err.message, { cause: err });
    throw new ConfigError(`secrets: ${(err as Error).message}`, { cause: err });
  }
  return new PptpServerHandle(config, env, externalAuth(options));
}
