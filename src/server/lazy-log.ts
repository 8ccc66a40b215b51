/**
 * Loggers for the server's sessions that cost almost nothing, even when
 * they write.
 *
 * Every session hands its engines a dozen child loggers (`session`,
 * `ppp`, `ppp.lcp`, `ppp.ipcp`, `ppp.ccp`, `ppp.auth`, `pptp`...). A real
 * child ({@link createLogger}) is an object with three functions, a
 * context and a merged copy of the fields: about 1 KiB each, more than a
 * whole idle session should cost (docs/sessions.md). A {@link LazyLogger}
 * only remembers its parent, its name and its fields, and answers
 * `enabled()` from the parent. When it writes, it goes through one real
 * logger per *name* (`session`, `session.ppp.lcp`...), made once and shared
 * by every session, and passes its fields (its ancestors' first) with the
 * line: the output is the same as a real child's.
 *
 * The same class does the server's *demotion* (`info` → `debug` for the
 * engines' own phase lines: with thousands of sessions the info log keeps
 * to one line per session start and end), inherited by every child.
 */
import type { LogFields, Logger, LogLevel } from '../log/logger.js';

/**
 * A logger that writes the lines of the lazy loggers below it itself (the
 * rate-limited logger of a connection or session): a lazy child of one
 * costs one object, not a lazy child plus a wrapper per child.
 */
export interface LazyRoot extends Logger {
  /** Writes a line of the lazy logger `path` below this one (dotted, non-empty); `level` is already mapped. */
  logBelow(path: string, level: LogLevel, message: string, fields: LogFields | undefined): void;
}

function isLazyRoot(l: Logger): l is LazyRoot {
  return typeof (l as Partial<LazyRoot>).logBelow === 'function';
}

/** Real loggers by dotted path below a real root logger, shared by every lazy logger under it. */
const byRoot = new WeakMap<Logger, Map<string, Logger>>();

export class LazyLogger implements Logger {
  /**
   * The nearest ancestor that is not lazy, which answers {@link enabled}
   * for the whole lazy chain: the engines ask before every packet they
   * might log, and walking a session's chain of lazy loggers each time
   * touched as many cold objects.
   */
  private readonly gate: Logger;
  /** Whether this logger or a lazy ancestor demotes `info` to `debug`. */
  private readonly demoteUp: boolean;

  /**
   * A lazy child `sub` (with `fields`) of `parent`; with `sub` undefined,
   * `parent` itself behind the lazy interface (to demote it).
   */
  constructor(
    private readonly parent: Logger,
    private readonly sub: string | undefined,
    private readonly fields: LogFields | undefined,
    /** Engines' `info` lines go out as `debug`. */
    private readonly demote: boolean,
  ) {
    const lazy = parent instanceof LazyLogger;
    this.gate = lazy ? parent.gate : parent;
    this.demoteUp = demote || (lazy && parent.demoteUp);
  }

  /** Whether this logger demotes `info` to `debug` (its children do too). */
  get demotes(): boolean {
    return this.demote;
  }

  get name(): string {
    if (this.sub === undefined) return this.parent.name;
    return this.parent.name ? `${this.parent.name}.${this.sub}` : this.sub;
  }

  enabled(level: LogLevel): boolean {
    // The same answer as asking the parent (which maps the level again, and so on up the lazy chain).
    return this.gate.enabled(this.demoteUp && level === 'info' ? 'debug' : level);
  }

  log(level: LogLevel, message: string, fields?: LogFields): void {
    const l = this.map(level);
    if (!this.enabled(l)) return;
    const own = this.chainFields();
    const merged = own ? { ...own, ...fields } : fields;
    const below = this.rootBelow();
    if (below) below.root.logBelow(below.path, l, message, merged);
    else this.target().log(l, message, merged);
  }

  child(name: string, fields?: LogFields): Logger {
    return new LazyLogger(this, name, fields, this.demote);
  }

  /** The {@link LazyRoot} this logger hangs below and its path from there, if it hangs below one. */
  private rootBelow(): { root: LazyRoot; path: string } | undefined {
    let path = '';
    let l: Logger = this;
    while (l instanceof LazyLogger) {
      if (l.sub !== undefined) path = path ? `${l.sub}.${path}` : l.sub;
      l = l.parent;
    }
    return isLazyRoot(l) && path !== '' ? { root: l, path } : undefined;
  }

  /** The shared real logger for this logger's name (made the first time any session writes there). */
  private target(): Logger {
    let root: Logger = this;
    const path: string[] = [];
    while (root instanceof LazyLogger) {
      if (root.sub !== undefined) path.push(root.sub);
      root = root.parent;
    }
    if (path.length === 0) return root;
    const key = path.reverse().join('.');
    let cache = byRoot.get(root);
    if (!cache) {
      cache = new Map();
      byRoot.set(root, cache);
    }
    let real = cache.get(key);
    if (!real) {
      real = root.child(key);
      cache.set(key, real);
    }
    return real;
  }

  /** The fields of this logger and its lazy ancestors, ancestors first (undefined when none). */
  private chainFields(): LogFields | undefined {
    const parentFields = this.parent instanceof LazyLogger ? this.parent.chainFields() : undefined;
    if (!this.fields) return parentFields;
    return parentFields ? { ...parentFields, ...this.fields } : this.fields;
  }

  private map(level: LogLevel): LogLevel {
    return this.demote && level === 'info' ? 'debug' : level;
  }
}

/** A lazy child of `parent` (see {@link LazyLogger}). */
export function lazyChild(parent: Logger, name: string, fields?: LogFields): Logger {
  return new LazyLogger(parent, name, fields, parent instanceof LazyLogger && parent.demotes);
}

/**
 * `log` with the engines' `info` lines demoted to `debug` (see the module
 * comment); its children are lazy and demoted too.
 */
export function demoteInfo(log: Logger): Logger {
  return new LazyLogger(log, undefined, undefined, true);
}
