/**
 * The line logger behind {@link Logger}: `TIME LEVEL NAME message k=v ...`
 * to a writable (stderr by default), or JSON lines with `format: 'json'`.
 * Levels below the threshold cost one comparison.
 */
import type { LogFields, Logger, LogLevel } from '../log/logger.js';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LineLoggerOptions {
  level?: LogLevel;
  format?: 'text' | 'json';
  /** Where lines go (default: process.stderr). */
  write?: (line: string) => void;
  /** Clock for timestamps (default: Date.now). */
  now?: () => number;
}

/** Characters a value may have and still be written without quotes. */
const BARE = /^[\w.:/@+-]+$/;

/** A value as written after `k=`: bare when it can be (every number and boolean can), else JSON-quoted. */
function fmtValue(v: string | number | boolean): string {
  if (typeof v !== 'string') return String(v);
  return BARE.test(v) ? v : JSON.stringify(v);
}

/** Levels padded to one width. */
const PADDED: Record<LogLevel, string> = { debug: 'debug', info: 'info ', warn: 'warn ', error: 'error' };

/** The threshold of every logger made from one options object (shared, so it can change at run time). */
const thresholds = new WeakMap<LineLoggerOptions, { rank: number }>();

function thresholdOf(opts: LineLoggerOptions): { rank: number } {
  let t = thresholds.get(opts);
  if (!t) {
    t = { rank: RANK[opts.level ?? 'info'] };
    thresholds.set(opts, t);
  }
  return t;
}

/** Changes the level of every logger made from `opts` (a root and its children), e.g. on reload. */
export function setLogLevel(opts: LineLoggerOptions, level: LogLevel): void {
  thresholdOf(opts).rank = RANK[level];
}

export function createLogger(name: string, opts: LineLoggerOptions = {}, fields: LogFields = {}): Logger {
  const threshold = thresholdOf(opts);
  const write = opts.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const now = opts.now ?? Date.now;
  const json = opts.format === 'json';
  return {
    name,
    enabled: (level) => RANK[level] >= threshold.rank,
    log(level, message, extra) {
      if (RANK[level] < threshold.rank) return;
      const time = new Date(now()).toISOString();
      if (json) {
        write(JSON.stringify({ time, level, name, message, ...fields, ...extra }));
        return;
      }
      // The fields in the order of `{ ...fields, ...extra }` (a key of both: its place from
      // `fields`, its value from `extra`), without building that object: this runs for every
      // line, thousands a second in a login storm.
      let line = `${time} ${PADDED[level]} ${name} ${message}`;
      for (const k in fields) {
        if (!Object.hasOwn(fields, k)) continue;
        const v = extra !== undefined && Object.hasOwn(extra, k) ? extra[k] : fields[k];
        if (v !== undefined) line += ` ${k}=${fmtValue(v)}`;
      }
      if (extra !== undefined) {
        for (const k in extra) {
          if (!Object.hasOwn(extra, k) || Object.hasOwn(fields, k)) continue;
          const v = extra[k];
          if (v !== undefined) line += ` ${k}=${fmtValue(v)}`;
        }
      }
      write(line);
    },
    child(sub, more) {
      return createLogger(name ? `${name}.${sub}` : sub, opts, { ...fields, ...more });
    },
  };
}

/** A logger that records lines in memory (for tests). */
export function createMemoryLogger(level: LogLevel = 'debug'): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger('', { level, write: (l) => lines.push(l), now: () => 0 });
  return Object.assign(logger, { lines });
}
