/**
 * The systemd notification protocol (sd_notify(3)), for `Type=notify`
 * services: `READY=1` once the service works, `STATUS=` lines for
 * `systemctl status`, `STOPPING=1` when it shuts down, and `WATCHDOG=1`
 * keep-alives every half `WatchdogSec` when the unit sets one.
 *
 * The service manager passes a unix datagram socket in `$NOTIFY_SOCKET`
 * (a path, or `@name` in the abstract namespace); each message is one
 * datagram of newline-separated `KEY=VALUE` lines. Node has no unix datagram
 * sockets, so the datagram goes out through the native addon's `sdNotify`.
 * `$WATCHDOG_USEC` (and `$WATCHDOG_PID`, when it names this process) asks
 * for keep-alives. Both variables are removed from the environment once
 * read, so hook scripts this process runs do not talk to systemd in its name.
 *
 * Without `$NOTIFY_SOCKET` every method does nothing. A failed send is
 * logged once and otherwise ignored: systemd's absence must not stop a VPN.
 */
import type { Logger } from '../log/logger.js';
import { loadAddon } from './native.js';

/** Sends one datagram to the socket; the default is the native addon's. */
export type NotifySend = (socketPath: string, message: string) => void;

export interface SdNotifierOptions {
  /** The environment to read (and clean); default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  readonly log?: Logger;
  readonly send?: NotifySend;
  /** This process's pid, for `$WATCHDOG_PID` (default `process.pid`). */
  readonly pid?: number;
}

/** A value for `STATUS=`: one line (the protocol is line-based). */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').slice(0, 1024);
}

export class SdNotifier {
  /** `$NOTIFY_SOCKET`, or undefined when not run by a service manager that wants notifications. */
  readonly socketPath: string | undefined;
  /** Interval of `WATCHDOG=1` keep-alives in ms (half of `$WATCHDOG_USEC`), or undefined. */
  readonly watchdogIntervalMs: number | undefined;
  private readonly send: NotifySend;
  private readonly log: Logger | undefined;
  private watchdogTimer: NodeJS.Timeout | undefined;
  private failed = false;

  constructor(opts: SdNotifierOptions = {}) {
    const env = opts.env ?? process.env;
    const socket = env.NOTIFY_SOCKET;
    this.socketPath = socket && (socket.startsWith('/') || socket.startsWith('@')) ? socket : undefined;
    const usec = Number(env.WATCHDOG_USEC);
    const pid = env.WATCHDOG_PID === undefined ? undefined : Number(env.WATCHDOG_PID);
    this.watchdogIntervalMs =
      this.socketPath &&
      Number.isSafeInteger(usec) &&
      usec > 0 &&
      (pid === undefined || pid === (opts.pid ?? process.pid))
        ? Math.max(1, Math.floor(usec / 2000))
        : undefined;
    delete env.NOTIFY_SOCKET;
    delete env.WATCHDOG_USEC;
    delete env.WATCHDOG_PID;
    this.send = opts.send ?? ((path, message) => loadAddon().sdNotify(path, message));
    this.log = opts.log;
  }

  /** Whether a service manager listens. */
  get enabled(): boolean {
    return this.socketPath !== undefined;
  }

  /** Sends raw `KEY=VALUE` lines. */
  notify(...lines: string[]): void {
    if (!this.socketPath) return;
    try {
      this.send(this.socketPath, lines.join('\n'));
    } catch (err) {
      if (!this.failed) {
        this.failed = true;
        this.log?.log('warn', 'systemd notification not sent', {
          socket: this.socketPath,
          error: (err as Error).message,
        });
      }
    }
  }

  /** `READY=1` with a status line; starts the watchdog keep-alives when the unit asked for them. */
  ready(status: string): void {
    this.notify('READY=1', `STATUS=${oneLine(status)}`);
    if (this.watchdogIntervalMs !== undefined && !this.watchdogTimer) {
      this.watchdogTimer = setInterval(() => this.notify('WATCHDOG=1'), this.watchdogIntervalMs);
      this.watchdogTimer.unref();
    }
  }

  status(text: string): void {
    this.notify(`STATUS=${oneLine(text)}`);
  }

  /** `STOPPING=1`; the watchdog keep-alives go on until {@link close}, as the shutdown may take a while. */
  stopping(status: string): void {
    this.notify('STOPPING=1', `STATUS=${oneLine(status)}`);
  }

  /** Stops the keep-alives. */
  close(): void {
    if (this.watchdogTimer) clearInterval(this.watchdogTimer);
    this.watchdogTimer = undefined;
  }
}
