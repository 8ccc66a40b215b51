/**
 * Loggers for the server's sessions that cost almost nothing until they
 * write a line.
 *
 * Every session hands its engines a dozen child loggers (`session`,
 * `ppp`, `ppp.lcp`, `ppp.ipcp`, `ppp.ccp`, `ppp.auth`, `pptp`...). A real
 * child ({@link createLogger}) is an object with three functions, a
 * context and a merged copy of the fields: about 1 KiB each, more than a
 * whole idle session should cost (docs/sessions.md). At the server's
 * default level almost none of them ever writes (the engines log at debug),
 * so a {@link LazyLogger} only remembers its parent, its name and its
 * fields, answers `enabled()` from the parent, and makes the real child the
 * first time a line at an enabled level comes.
 *
 * The same class does the server's *demotion* (`info` → `debug` for the
 * engines' own phase lines: with thousands of sessions the info log keeps
 * to one line per session start and end), inherited by every child.
 */
import type { LogFields, Logger, LogLevel } from '../wire/log.js';

export class LazyLogger implements Logger {
  private real: Logger | undefined;

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
  ) {}

  /** Whether this logger demotes `info` to `debug` (its children do too). */
  get demotes(): boolean {
    return this.demote;
  }

  get name(): string {
    if (this.sub === undefined) return this.parent.name;
    return this.parent.name ? `${this.parent.name}.${this.sub}` : this.sub;
  }

  enabled(level: LogLevel): boolean {
    return this.parent.enabled(this.map(level));
  }

  log(level: LogLevel, message: string, fields?: LogFields): void {
    const l = this.map(level);
    if (!this.parent.enabled(l)) return;
    this.materialize().log(l, message, fields);
  }

  child(name: string, fields?: LogFields): Logger {
    return new LazyLogger(this, name, fields, this.demote);
  }

  /** The real logger behind this one (made now if need be). */
  materialize(): Logger {
    if (this.real === undefined) {
      const p = this.parent instanceof LazyLogger ? this.parent.materialize() : this.parent;
      this.real = this.sub === undefined ? p : p.child(this.sub, this.fields);
    }
    return this.real;
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
