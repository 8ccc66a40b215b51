/**
 * Shapes shared by the client and the server side of the library: traffic
 * counters, the MPPE summary, logging options.
 */
import { createLogger } from '../io/log.js';
import type { Logger, LogLevel } from '../log/logger.js';
import type { AuthSuccess } from '../ppp/auth/index.js';
import type { CcpNegotiated } from '../ppp/ccp.js';
import type { SessionStats } from '../session/session.js';

export type { LogLevel } from '../log/logger.js';
export type { AuthMethod } from '../ppp/auth/index.js';

/** Where the library's log lines go. Default: `warn` and above, as text, to stderr. */
export interface LogOptions {
  readonly level?: LogLevel;
  readonly format?: 'text' | 'json';
  /** Receives each line (without its newline). Secrets are never in it. */
  readonly write?: (line: string) => void;
}

/** MPPE as negotiated (RFC 3078): what we encrypt with; `undefined` in the `up` data when MPPE is off. */
export interface MppeInfo {
  readonly keyBits: 40 | 56 | 128;
  /** Stateless (a new key every packet, RFC 3078 §7.1) or stateful (§7.2). */
  readonly stateless: boolean;
}

/** Traffic counters of one tunnel (a snapshot). */
export interface TunnelStats {
  /** IP packets and their bytes, after decryption / before encryption. */
  readonly rxPackets: number;
  readonly rxBytes: number;
  readonly txPackets: number;
  readonly txBytes: number;
  /** Received frames that could not be used (undecryptable, bad protocol). */
  readonly rxErrors: number;
  /** Packets that could not be sent. */
  readonly txErrors: number;
  /** Received packets dropped on purpose (network not up yet, unencrypted while MPPE runs). */
  readonly rxDropped: number;
  /** Packets dropped on transmit (network not up, queue full). */
  readonly txDropped: number;
  /** GRE packets the peer sent that never arrived (sequence gaps). */
  readonly greLost: number;
  /** GRE packets that arrived out of order and were put back in order. */
  readonly greReordered: number;
  /** Packets dropped because the peer's receive window stayed closed. */
  readonly greQueueDrops: number;
}

/** A snapshot of a session's counters. */
export function tunnelStats(s: SessionStats): TunnelStats {
  const p = s.ppp;
  const g = s.gre;
  return {
    rxPackets: p.rxPackets,
    rxBytes: p.rxBytes,
    txPackets: p.txPackets,
    txBytes: p.txBytes,
    rxErrors: p.rxErrors,
    txErrors: p.txErrors,
    rxDropped: p.rxDropped,
    txDropped: p.txDropped,
    greLost: g.rxLost,
    greReordered: g.rxReordered,
    greQueueDrops: g.txDroppedQueueFull,
  };
}

export function mppeInfo(m: CcpNegotiated | undefined): MppeInfo | undefined {
  const p = m?.tx ?? m?.rx;
  return p ? { keyBits: p.keyBits, stateless: p.stateless } : undefined;
}

/** The method of the authentication in `role`, or `'none'`. */
export function authOf(auth: readonly AuthSuccess[], role: 'peer' | 'authenticator') {
  return auth.find((a) => a.role === role)?.method ?? ('none' as const);
}

export function makeLogger(o: LogOptions | undefined): Logger {
  return createLogger('', {
    level: o?.level ?? 'warn',
    format: o?.format ?? 'text',
    ...(o?.write ? { write: o.write } : {}),
  });
}
