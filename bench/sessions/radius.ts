/**
 * `bench:sessions --radius`: the sessions authenticate through a real
 * FreeRADIUS 3.2 (Debian `freeradius`) instead of the chap-secrets file.
 * FreeRADIUS runs in the server's namespace on its loopback at 1812/1813,
 * with the bench's users (Cleartext-Password, for MS-CHAP-v2 and its MPPE
 * keys) in its `files` users file, and logs one `Login OK` line per accepted
 * Access-Request: the bench counts them, so every session is seen to have
 * come up through RADIUS. Started and stopped with the FreeRADIUS harness of
 * the tests (test/helpers/freeradius.ts), on the bench's own lab.
 */

import { type FreeRadius, requireFreeRadius, startFreeRadius } from '../../test/helpers/freeradius.js';
import type { ExecResult, Spawned } from '../../test/helpers/netns.js';
import { type Lab, type LabProcess, waitUntil } from '../lab/netns.js';

export const BENCH_RADIUS_SECRET = 'bench-sessions-radius-secret';
export const BENCH_RADIUS_ADDRESS = '127.0.0.1';

export interface BenchRadius {
  readonly freeradius: FreeRadius;
  /** `Login OK` lines FreeRADIUS has logged so far (accepted Access-Requests). */
  logins(): number;
  stop(): Promise<void>;
}

/** The harness's spawned-process view of a bench lab process. */
function asSpawned(p: LabProcess, onLine: (line: string) => void): Spawned {
  let partial = '';
  p.child.stdout!.on('data', (d: Buffer) => {
    const lines = (partial + d.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) onLine(l);
  });
  const result = (code: number | null): ExecResult => ({
    stdout: p.output(),
    stderr: '',
    code,
    signal: null,
  });
  return {
    pid: p.pid,
    child: p.child,
    stdout: () => p.output(),
    stderr: () => '',
    exited: p.done.then(result),
    waitFor: (re, timeoutMs = 10_000) =>
      waitUntil(
        `${p.label}: ${re}`,
        () => {
          if (re.test(p.output())) return true;
          if (p.exited()) throw new Error(`${p.label} exited: ${p.output().slice(-2000)}`);
          return false;
        },
        timeoutMs,
        100,
      ),
    kill: async (graceMs) => {
      await p.stop(graceMs);
      return result(p.child.exitCode);
    },
  };
}

/** The users file: `PREFIXi` with password `PASSWORD_PREFIXi`, for i in [0, n). */
export function benchUsers(n: number, userPrefix: string, passwordPrefix: string): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(`${userPrefix}${i}\tCleartext-Password := "${passwordPrefix}${i}"`);
  return `${lines.join('\n')}\n`;
}

/** Starts FreeRADIUS in `ns` of `lab` with `users`. Throws with the install line when it is missing. */
export async function startBenchRadius(lab: Lab, ns: string, users: string): Promise<BenchRadius> {
  requireFreeRadius();
  let logins = 0;
  const freeradius = await startFreeRadius({
    secret: BENCH_RADIUS_SECRET,
    users,
    logAuth: true,
    netns: {
      lab: {
        spawn: (n, argv) =>
          asSpawned(lab.spawn(n, argv, 'freeradius'), (line) => {
            if (line.includes('Login OK')) logins++;
          }),
      },
      ns,
      address: BENCH_RADIUS_ADDRESS,
    },
    readyTimeoutMs: 120_000,
  });
  return { freeradius, logins: () => logins, stop: () => freeradius.stop() };
}
