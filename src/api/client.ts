/**
 * `connect(options)`: the PPTP client as a library. It drives the same
 * {@link PptpClient} as `pptp-ts connect` (src/cli/connect.ts), without the
 * command line, the status lines on stdout or the signal handling: the
 * caller gets events, a promise and `close()` instead.
 */
import { EventEmitter } from 'node:events';
import { type ClientUpInfo, PptpClient } from '../client/client.js';
import { systemClientEnv } from '../client/client-env.js';
import { ExitCode } from '../client/exit-codes.js';
import {
  type ClientEnv,
  type ClientOptions,
  localAddressProblem,
  type MppePolicy,
} from '../client/options.js';
import type { ClientOutcome } from '../client/outcome.js';
import type { AuthMethod } from '../ppp/auth/index.js';
import {
  authOf,
  type LogOptions,
  type MppeInfo,
  makeLogger,
  mppeInfo,
  type TunnelStats,
  tunnelStats,
} from './common.js';
import {
  AbortError,
  AuthError,
  ConfigError,
  ConnectError,
  HangUpError,
  InternalError,
  NegotiationError,
  PermissionError,
  type PptpError,
  TimeoutError,
} from './errors.js';

export type { MppePolicy } from '../client/options.js';

/** Options of {@link connect}. Names follow pppd's where one exists. */
export interface ConnectOptions {
  /** Host name or IPv4 address of the server. */
  readonly server: string;
  /** TCP port (default 1723). */
  readonly port?: number;
  /**
   * The local IPv4 address to connect from (`--local-address`); the GRE
   * socket is bound to it too. Not the tunnel's address, which is
   * {@link TunnelUp.localAddress}. Default: the one the route picks.
   */
  readonly localAddress?: string;
  readonly user: string;
  /** The password (a Buffer is read as UTF-8). Never logged. */
  readonly password: string | Uint8Array;
  /** Interface name or pattern (default `pptp%d`). */
  readonly interface?: string;
  readonly mtu?: number;
  readonly mru?: number;
  /** MPPE: `'required'` (default, 128-bit stateless), `'optional'`, `'off'`, or a full policy. */
  readonly mppe?: MppePolicy | MppePolicy['mode'];
  /** Methods we agree to authenticate with (default `['mschap-v2']`). */
  readonly auth?: readonly AuthMethod[];
  /** Send all IPv4 into the tunnel (pppd `defaultroute`). */
  readonly defaultRoute?: boolean;
  /** Routes (CIDR) into the tunnel. */
  readonly routes?: readonly string[];
  /** Pin a host route to the server via the current gateway (default true). */
  readonly hostRoute?: boolean;
  /** Write the server's DNS servers to `resolvConfPath` (pppd `usepeerdns`); they are in the `up` data anyway. */
  readonly usePeerDns?: boolean;
  readonly resolvConfPath?: string;
  /** Also negotiate IPv6CP (link-local addresses). */
  readonly ipv6?: boolean;
  /** LCP echo interval, s (default 30; 0 = off) and failures before giving up (default 4). */
  readonly lcpEchoInterval?: number;
  readonly lcpEchoFailure?: number;
  /** TCP connect time-out, ms (default 15 000). */
  readonly connectTimeoutMs?: number;
  /** From TCP connect to the tunnel being up, ms (default 60 000). */
  readonly setupTimeoutMs?: number;
  /** Aborting it cancels a connect in progress (`ready` rejects with {@link AbortError}) or closes the tunnel. */
  readonly signal?: AbortSignal;
  readonly log?: LogOptions;
}

/** The negotiated tunnel, given with the `up` event. */
export interface TunnelUp {
  /** The network interface, e.g. `pptp0`. */
  readonly interface: string;
  /** The server's IPv4 address (resolved). */
  readonly server: string;
  readonly localAddress: string;
  readonly remoteAddress: string;
  /** DNS servers the server gave (RFC 1877), primary first. */
  readonly dns: readonly string[];
  /** Interface MTU (MPPE overhead taken off). */
  readonly mtu: number;
  /** How we authenticated ourselves. */
  readonly auth: AuthMethod | 'none';
  /** MPPE, or `undefined` when the tunnel is not encrypted. */
  readonly mppe: MppeInfo | undefined;
}

/** Why the tunnel ended, given with the `down` event. */
export interface TunnelDown {
  /** One line for people. */
  readonly reason: string;
  /** `undefined` when closed on request (`close()`); otherwise what went wrong. */
  readonly error: PptpError | undefined;
  /** The `pptp-ts connect` exit code for the same outcome (pppd's numbers). */
  readonly exitCode: number;
  /** Whether the tunnel was up at some point. */
  readonly wasUp: boolean;
}

/** The events of {@link PptpClientHandle}. */
export interface ClientEvents {
  up: [tunnel: TunnelUp];
  down: [down: TunnelDown];
}

/** The error class for an outcome (undefined: a clean, requested stop). */
export function errorOfOutcome(o: { code: ExitCode; reason: string }): PptpError | undefined {
  switch (o.code) {
    case ExitCode.Ok:
      return undefined;
    case ExitCode.Fatal:
      return new InternalError(o.reason);
    case ExitCode.Usage:
      return new ConfigError(o.reason);
    case ExitCode.Setup:
      return new PermissionError(o.reason);
    case ExitCode.ConnectFailed:
      return new ConnectError(o.reason);
    case ExitCode.PeerAuthFailed:
    case ExitCode.AuthFailed:
      return new AuthError(o.reason);
    case ExitCode.NegotiationFailed:
    case ExitCode.Loopback:
    case ExitCode.MppeRefused:
      return new NegotiationError(o.reason);
    case ExitCode.PeerSilent:
      return new TimeoutError(o.reason);
    case ExitCode.HangUp:
      return new HangUpError(o.reason);
  }
}

function mppePolicy(m: ConnectOptions['mppe']): MppePolicy | undefined {
  if (m === undefined) return undefined;
  if (typeof m === 'string') return m === 'off' ? { mode: 'off' } : { mode: m, bits: [128] };
  return m;
}

function checkOptions(o: ConnectOptions): void {
  if (typeof o?.server !== 'string' || o.server === '') throw new ConfigError('server: required');
  if (typeof o.user !== 'string' || o.user === '') throw new ConfigError('user: required');
  if (typeof o.password !== 'string' && !(o.password instanceof Uint8Array)) {
    throw new ConfigError('password: a string or a Buffer is required');
  }
  const int = (name: string, v: unknown, min: number, max: number) => {
    if (v !== undefined && (!Number.isInteger(v) || (v as number) < min || (v as number) > max)) {
      throw new ConfigError(`${name}: expected a whole number from ${min} to ${max}`);
    }
  };
  int('port', o.port, 1, 65535);
  if (o.localAddress !== undefined) {
    const problem = typeof o.localAddress === 'string' ? localAddressProblem(o.localAddress) : 'not a string';
    if (problem) throw new ConfigError(`localAddress: ${problem}`);
  }
  int('mtu', o.mtu, 576, 65535);
  int('mru', o.mru, 576, 65535);
  if (o.interface !== undefined && !/^[A-Za-z0-9_.%-]{1,15}$/.test(o.interface)) {
    throw new ConfigError(`interface: '${o.interface}' is not a valid interface name`);
  }
  const mode = typeof o.mppe === 'string' ? o.mppe : o.mppe?.mode;
  if (mode !== undefined && !['required', 'optional', 'off'].includes(mode)) {
    throw new ConfigError(`mppe: '${mode}' is not required, optional or off`);
  }
  for (const a of o.auth ?? []) {
    if (!['pap', 'chap-md5', 'mschap', 'mschap-v2'].includes(a)) {
      throw new ConfigError(`auth: unknown method '${a}' (pap, chap-md5, mschap, mschap-v2)`);
    }
  }
}

/** The internal client options from the public ones (the password only here, never logged). */
function clientOptions(o: ConnectOptions): ClientOptions {
  const mppe = mppePolicy(o.mppe);
  return {
    server: o.server,
    user: o.user,
    password: typeof o.password === 'string' ? o.password : Buffer.from(o.password).toString('utf8'),
    ...(o.port !== undefined ? { port: o.port } : {}),
    ...(o.localAddress !== undefined ? { localAddress: o.localAddress } : {}),
    ...(o.interface !== undefined ? { ifname: o.interface } : {}),
    ...(o.mtu !== undefined ? { mtu: o.mtu } : {}),
    ...(o.mru !== undefined ? { mru: o.mru } : {}),
    ...(mppe ? { mppe } : {}),
    ...(o.auth ? { auth: o.auth } : {}),
    ...(o.defaultRoute !== undefined ? { defaultRoute: o.defaultRoute } : {}),
    ...(o.routes ? { routes: o.routes } : {}),
    ...(o.hostRoute !== undefined ? { hostRoute: o.hostRoute } : {}),
    ...(o.usePeerDns !== undefined ? { usePeerDns: o.usePeerDns } : {}),
    ...(o.resolvConfPath !== undefined ? { resolvConfPath: o.resolvConfPath } : {}),
    ...(o.ipv6 !== undefined ? { ipv6: o.ipv6 } : {}),
    ...(o.lcpEchoInterval !== undefined ? { lcpEchoInterval: o.lcpEchoInterval } : {}),
    ...(o.lcpEchoFailure !== undefined ? { lcpEchoFailure: o.lcpEchoFailure } : {}),
    ...(o.connectTimeoutMs !== undefined ? { connectTimeoutMs: o.connectTimeoutMs } : {}),
    ...(o.setupTimeoutMs !== undefined ? { setupTimeoutMs: o.setupTimeoutMs } : {}),
  };
}

/**
 * One tunnel. Events: `up` once it is up (with {@link TunnelUp}), `down`
 * once it has ended and everything is torn down (with {@link TunnelDown});
 * `down` comes exactly once, also when it never came up.
 */
export class PptpClientHandle extends EventEmitter<ClientEvents> {
  /** Resolves when the tunnel is up; rejects with a {@link PptpError} if it ends first. */
  readonly ready: Promise<TunnelUp>;
  /** Resolves once the tunnel has ended and been torn down (never rejects). */
  readonly closed: Promise<TunnelDown>;
  private readonly client: PptpClient;
  private upValue: TunnelUp | undefined;
  private downValue: TunnelDown | undefined;
  private aborted = false;

  /** @internal Use {@link connect}. */
  constructor(options: ConnectOptions, env: ClientEnv) {
    super();
    checkOptions(options);
    const client = new PptpClient(clientOptions(options), env);
    this.client = client;
    let resolveReady!: (u: TunnelUp) => void;
    let rejectReady!: (e: PptpError) => void;
    this.ready = new Promise<TunnelUp>((res, rej) => {
      resolveReady = res;
      rejectReady = rej;
    });
    // A caller that only listens to events must not get an unhandled rejection.
    this.ready.catch(() => {});
    client.onUp = (info: ClientUpInfo) => {
      const up: TunnelUp = {
        interface: info.ifname,
        server: info.server,
        localAddress: info.localAddress,
        remoteAddress: info.remoteAddress,
        dns: [...info.dns],
        mtu: info.mtu,
        auth: authOf(info.auth, 'peer'),
        mppe: mppeInfo(info.mppe),
      };
      this.upValue = up;
      resolveReady(up);
      this.emit('up', up);
    };
    const signal = options.signal;
    const onAbort = () => {
      this.aborted = true;
      client.stop('aborted');
    };
    if (signal?.aborted) {
      // Nothing started: no socket is opened. `down` still comes, after the caller could listen.
      this.aborted = true;
      this.closed = Promise.resolve().then(() =>
        this.ended({ code: ExitCode.Ok, reason: 'aborted', wasUp: false }, rejectReady, undefined, onAbort),
      );
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    this.closed = client.run().then(
      (outcome) => this.ended(outcome, rejectReady, signal, onAbort),
      (err: unknown) =>
        this.ended(
          { code: ExitCode.Fatal, reason: `internal error: ${(err as Error)?.message}`, wasUp: false },
          rejectReady,
          signal,
          onAbort,
        ),
    );
  }

  private ended(
    outcome: ClientOutcome,
    rejectReady: (e: PptpError) => void,
    signal: AbortSignal | undefined,
    onAbort: () => void,
  ): TunnelDown {
    signal?.removeEventListener('abort', onAbort);
    let error = errorOfOutcome(outcome);
    if (this.aborted && !outcome.wasUp && outcome.code === ExitCode.Ok) {
      error = new AbortError('the connect was aborted', { cause: signal?.reason });
    }
    const down: TunnelDown = {
      reason: outcome.reason,
      error,
      exitCode: error instanceof AbortError ? ExitCode.Ok : outcome.code,
      wasUp: outcome.wasUp,
    };
    this.upValue = undefined;
    this.downValue = down;
    if (!outcome.wasUp) rejectReady(error ?? new AbortError(outcome.reason));
    this.emit('down', down);
    return down;
  }

  /** The tunnel while it is up. */
  get tunnel(): TunnelUp | undefined {
    return this.upValue;
  }

  /** How it ended, once it has. */
  get down(): TunnelDown | undefined {
    return this.downValue;
  }

  /** Traffic counters (`undefined` before the call is set up). */
  stats(): TunnelStats | undefined {
    const s = this.client.stats;
    return s && tunnelStats(s);
  }

  /**
   * Closes the tunnel cleanly (LCP Terminate, Call-Clear, Stop-Control-
   * Connection, routes and interface removed, each step bounded). Resolves
   * with the `down` data. Safe to call more than once.
   */
  close(reason = 'closed by the application'): Promise<TunnelDown> {
    if (!this.downValue) this.client.stop(reason);
    return this.closed;
  }
}

/**
 * Dials a PPTP server and brings up a tunnel on this host (needs root, or
 * CAP_NET_ADMIN + CAP_NET_RAW). Returns at once; wait for `ready` or the
 * `up` event. Throws {@link ConfigError} for bad options.
 */
export function connect(options: ConnectOptions): PptpClientHandle {
  checkOptions(options);
  const log = makeLogger(options.log);
  return new PptpClientHandle(options, systemClientEnv({ log, print: () => {} }));
}
