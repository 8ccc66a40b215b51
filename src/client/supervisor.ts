/**
 * pppd's `persist`, `maxfail` and `holdoff` on top of {@link PptpClient}:
 * reconnection with back-off.
 */
import { PptpClient } from './client.js';
import { ExitCode, isRetryable } from './exit-codes.js';
import type { ClientEnv, ClientOptions } from './options.js';
import type { ClientOutcome } from './outcome.js';

export interface SupervisorOptions {
  /** pppd `persist`: reconnect after the link ends. */
  readonly persist?: boolean;
  /** pppd `maxfail`: give up after this many consecutive failed attempts (0 = never; default 10). */
  readonly maxfail?: number;
  /** pppd `holdoff`: the first wait before reconnecting, s (default 5; doubles per failure up to `maxHoldoff`). */
  readonly holdoff?: number;
  /** Longest wait between attempts, s (default 300). */
  readonly maxHoldoff?: number;
}

/**
 * Runs {@link PptpClient} attempts: once, or with `persist` again after a
 * back-off (holdoff × 2^(failures−1), capped), until `stop()`, a failure
 * that cannot get better ({@link isRetryable}), or `maxfail` consecutive
 * attempts that never came up. An attempt that came up resets the count.
 */
export class ClientSupervisor {
  private stopped = false;
  private current: PptpClient | undefined;
  private wakeHoldoff: (() => void) | undefined;
  /** Attempts made so far. */
  attempts = 0;

  constructor(
    private readonly opts: ClientOptions,
    private readonly env: ClientEnv,
    private readonly supervise: SupervisorOptions = {},
    private readonly onClient?: (c: PptpClient) => void,
  ) {}

  async run(): Promise<ClientOutcome> {
    const s = this.supervise;
    const maxfail = s.maxfail ?? 10;
    let failures = 0;
    for (;;) {
      this.attempts++;
      const client = new PptpClient(this.opts, this.env);
      this.current = client;
      this.onClient?.(client);
      if (this.stopped) client.stop();
      const outcome = await client.run();
      this.current = undefined;
      if (this.stopped || !s.persist || !isRetryable(outcome.code)) return outcome;
      // pppd maxfail counts consecutive attempts that never came up; a session that was up starts afresh.
      failures = outcome.wasUp ? 0 : failures + 1;
      if (maxfail > 0 && failures >= maxfail) {
        this.env.log.log('warn', `giving up after ${failures} failed attempts`);
        return outcome;
      }
      const holdoff = Math.min((s.holdoff ?? 5) * 2 ** Math.max(0, failures - 1), s.maxHoldoff ?? 300);
      this.env.log.log('info', `reconnecting in ${holdoff} s`, {
        reason: outcome.reason,
        attempt: this.attempts,
      });
      this.env.print?.(`${outcome.reason}; reconnecting in ${holdoff} s`);
      await new Promise<void>((resolve) => {
        const t = this.env.clock.setTimer(holdoff * 1000, () => resolve());
        this.wakeHoldoff = () => {
          t.cancel();
          resolve();
        };
      });
      this.wakeHoldoff = undefined;
      if (this.stopped) return { code: ExitCode.Ok, reason: 'stopped on request', wasUp: false };
    }
  }

  /** Stops the current attempt (cleanly) and any further ones. */
  stop(): void {
    this.stopped = true;
    this.current?.stop();
    this.wakeHoldoff?.();
  }
}
