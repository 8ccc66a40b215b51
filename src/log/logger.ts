/**
 * The logging interface every layer may accept (docs/style.md §6: one structured
 * logger, per-layer names such as `pptp.ctrl`, `pptp.gre`, `ppp.lcp`).
 *
 * Engines take a {@link Logger} and never format expensive strings unless
 * `enabled(level)` says the level is on. The implementation that writes
 * lines (with timestamps) lives in `io/log.ts`; tests use {@link nullLogger}
 * or a capturing logger.
 *
 * Secrets (passwords, NT hashes, MPPE keys) never go to a logger.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** Structured fields attached to a log line. Values should be short and printable. */
export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

export interface Logger {
  /** Dotted layer name, e.g. `ppp.lcp`. */
  readonly name: string;
  enabled(level: LogLevel): boolean;
  log(level: LogLevel, message: string, fields?: LogFields): void;
  /** A logger for a sub-component: `child('lcp')` of `ppp` is `ppp.lcp`; extra fields ride along. */
  child(name: string, fields?: LogFields): Logger;
}

/** A logger that drops everything. */
export const nullLogger: Logger = {
  name: '',
  enabled: () => false,
  log: () => {},
  child: () => nullLogger,
};
