/**
 * What one client connection attempt is given: its options (pppd's, by
 * name where pppd has one) and the environment it acts through (clock,
 * sockets, interface, host configuration), so the same client runs on the
 * real system (client-env.ts) and in the in-memory test world.
 */
import type { Clock } from '../io/clock.js';
import type { HookContext, HookResult } from '../io/hooks.js';
import type { TcpTransport } from '../io/tcp.js';
import type { TunDevice } from '../io/types.js';
import type { Logger } from '../log/logger.js';
import type { AuthMethod, RandomBytes } from '../ppp/auth/index.js';
import type { PppUnitOptions } from '../ppp/unit.js';
import type { GreEndpoint } from '../session/gre-endpoint.js';
import type { GreTuning } from '../session/session.js';
import { parseIpv4 } from '../wire/bytes.js';
import type { ClientHost } from './client-host.js';

/** MPPE policy (`--mppe`): required/optional/off, allowed strengths, stateful or not. */
export interface MppePolicy {
  readonly mode: 'required' | 'optional' | 'off';
  /** Key lengths allowed (default [128]). */
  readonly bits?: readonly (40 | 56 | 128)[];
  /** Ask for stateful mode (RFC 3078 §7.2); default stateless (§7.1). */
  readonly stateful?: boolean;
}

export interface ClientOptions {
  /** Host name or IPv4 address of the server. */
  readonly server: string;
  /** TCP port (default 1723, RFC 2637 §2). */
  readonly port?: number;
  /**
   * The local IPv4 address to connect from (pptp-linux `--localbind`). The
   * GRE socket is bound to the address the control connection comes from,
   * so this chooses both. Default: the one the route to the server picks.
   * Checked with {@link localAddressProblem}.
   */
  readonly localAddress?: string;
  /** pppd `user`. */
  readonly user: string;
  /** pppd `password` (never from the command line: see cli/connect.ts). */
  readonly password: string;
  /** Interface name or pattern (default `pptp%d`). */
  readonly ifname?: string;
  /** pppd `mtu` / `mru` (capped by what the path carries). */
  readonly mtu?: number;
  readonly mru?: number;
  /** Default: required, 128-bit, stateless. */
  readonly mppe?: MppePolicy;
  /** Methods we accept to authenticate ourselves with (default MS-CHAP-v2 only, docs/architecture.md §6). */
  readonly auth?: readonly AuthMethod[];
  /** pppd `defaultroute`. */
  readonly defaultRoute?: boolean;
  /** Routes (CIDR) into the tunnel. */
  readonly routes?: readonly string[];
  /** Pin a host route to the server via the original gateway (default true). */
  readonly hostRoute?: boolean;
  /** pppd `usepeerdns`: write the peer's DNS servers to {@link resolvConfPath}. */
  readonly usePeerDns?: boolean;
  /** Where `usePeerDns` writes (default /etc/ppp/resolv.conf, as pppd). */
  readonly resolvConfPath?: string;
  /** pppd `ip-up` / `ip-down` scripts and `ipparam`. */
  readonly ipUp?: string;
  readonly ipDown?: string;
  readonly ipparam?: string;
  /** pppd `lcp-echo-interval` (s, default 30) and `lcp-echo-failure` (default 4). */
  readonly lcpEchoInterval?: number;
  readonly lcpEchoFailure?: number;
  /** PPTP Echo-Request interval (RFC 2637 §3.1.4), s (default 60). */
  readonly pptpEchoInterval?: number;
  /** TCP connect time-out, ms (default 15 s). */
  readonly connectTimeoutMs?: number;
  /** From TCP connect to the network being up, ms (default 60 s). */
  readonly setupTimeoutMs?: number;
  /** GRE data channel settings (`ignorePeerWindow`, time-outs...). */
  readonly gre?: GreTuning;
  /** The Packet Recv. Window Size we advertise (RFC 2637 §2.7; default `DEFAULT_RECEIVE_WINDOW`, pptp/gre-sequencer.ts). */
  readonly receiveWindow?: number;
  /** pppd `+ipv6`: negotiate IPv6CP and put the link-local pair on the interface. */
  readonly ipv6?: boolean;
  /** Extra PPP options (pppd names), applied last. */
  readonly ppp?: Partial<PppUnitOptions>;
}

/** A GRE endpoint the client may use, and how to give it back. */
export interface GreLease {
  readonly endpoint: GreEndpoint;
  /** Closes it (an owned endpoint) or does nothing (a shared one). */
  release(): void;
  /**
   * An owned endpoint serves our one call: its socket may take only GRE
   * for our Call ID from here on (a kernel filter, `RawGreSocket.restrictToCallId`).
   * Absent for a shared endpoint, which serves other calls too.
   */
  restrictToCallId?(callId: number): void;
}

/** Everything the client does to the outside world. */
export interface ClientEnv {
  readonly clock: Clock;
  readonly log: Logger;
  readonly tcp: TcpTransport;
  readonly host: ClientHost;
  /** Opens the network interface (name or `%d` pattern). */
  openTun(name: string): TunDevice;
  /** A GRE endpoint for GRE between `localAddress` and the server. */
  openGre(localAddress: string): GreLease;
  /** Resolves a host name to an IPv4 address (default: only dotted quads are accepted). */
  resolve?(name: string): Promise<string>;
  /** Runs an ip-up/ip-down script (default: none run). */
  runHook?(script: string, name: 'ip-up' | 'ip-down', ctx: HookContext): Promise<HookResult>;
  /** Human-readable status lines (the CLI prints them on stdout). */
  print?(line: string): void;
  readonly random?: RandomBytes;
}

/**
 * What is wrong with `address` as {@link ClientOptions.localAddress}, or
 * undefined: it must be a dotted-quad IPv4 address a host can have, so not
 * in 0.0.0.0/8 ("this network", RFC 1122 §3.2.1.3: not a source to
 * bind to) nor multicast, reserved or broadcast (224.0.0.0 and up).
 */
export function localAddressProblem(address: string): string | undefined {
  const v = parseIpv4(address);
  if (v === undefined) return `'${address}' is not an IPv4 address (a.b.c.d)`;
  if (v >>> 24 === 0) return `'${address}' is in 0.0.0.0/8, not an address to connect from`;
  if (v >>> 24 >= 224)
    return `'${address}' is multicast, reserved or broadcast, not an address to connect from`;
  return undefined;
}
