/**
 * What the bench (bench.ts) and the load generator process (generator.ts)
 * say to each other: one JSON object per line, commands on the generator's
 * stdin, events on its stdout (its stderr carries logs only).
 */
import type { CloseResult, FailureTally, HoldStatus, PingResult } from './load.js';

/** The generator's settings (argv[2], JSON). */
export interface GeneratorSpec {
  readonly server: string;
  readonly port: number;
  /** Our outer address: TCP source and the raw GRE socket's bind address. */
  readonly localAddress: string;
  /** TCP source addresses to spread the connections over (`--client-addresses`); the first is `localAddress`. */
  readonly localAddresses: readonly string[];
  /** User `PREFIX<i>` with password `SECRET<i>` for session i (the bench writes the chap-secrets). */
  readonly userPrefix: string;
  readonly passwordPrefix: string;
  readonly callsPerConnection: number;
  readonly lcpEchoInterval: number;
  readonly pptpEchoInterval: number;
  /** GRE acknowledgment-only delay, ms (the server's `pptp.ack-timeout-ms`). */
  readonly ackTimeoutMs: number;
  readonly setupTimeoutMs: number;
  readonly mppe: boolean;
  /** Use the process-wide timer wheel (default) or one Node timer per engine timer. */
  readonly clock: 'wheel' | 'node';
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
}

export type GeneratorCommand =
  | { readonly cmd: 'open'; readonly sessions: number; readonly concurrency: number }
  | { readonly cmd: 'status' }
  | { readonly cmd: 'ping'; readonly sample: number; readonly timeoutMs: number }
  | { readonly cmd: 'close'; readonly concurrency: number }
  /** Drop every session without a teardown (the server is gone) and number the next ones from 0. */
  | { readonly cmd: 'forget' }
  | { readonly cmd: 'exit' };

/** Per-session setup figures, times in ms relative to the start of `open`. */
export interface OpenedSessions {
  /** When each session's TCP connect started (ms after the open command). */
  readonly startMs: number[];
  /** When each came up (IPCP up, MPPE up), or -1 for the failed ones. */
  readonly upMs: number[];
  readonly failures: FailureTally;
  /** Sessions up by the TCP source address their connection came from. */
  readonly sources: Readonly<Record<string, number>>;
  readonly durationMs: number;
  /** The generator's GRE endpoint counters at the end of the phase (rxNoCall: GRE for a call not attached yet). */
  readonly gre: Readonly<Record<string, number>>;
}

export type GeneratorEvent =
  | { readonly ev: 'ready'; readonly pid: number; readonly fileLimit: string }
  | { readonly ev: 'progress'; readonly up: number; readonly failed: number; readonly elapsedMs: number }
  | ({ readonly ev: 'opened' } & OpenedSessions)
  | ({ readonly ev: 'status' } & HoldStatus & { readonly rssKb: number; readonly heapUsedKb: number })
  | ({ readonly ev: 'pinged' } & PingResult)
  | ({ readonly ev: 'closed' } & CloseResult & { readonly greAttached: number })
  | { readonly ev: 'forgot'; readonly sessions: number; readonly greAttached: number }
  | { readonly ev: 'error'; readonly message: string };
