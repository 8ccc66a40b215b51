/**
 * Helpers shared by the contender modules: finding binaries, reading
 * versions, waiting for interfaces, and undoing a half-built tunnel.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { TunnelProcess } from '../contender.js';
import { type Lab, type LabProcess, run, waitUntil } from '../netns.js';

/** Full path of `name` on PATH (plus the sbin directories root has), or undefined. */
export function which(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {}
  }
  return undefined;
}

/** "X is not installed (apt-get install -y PKG)" when a binary is missing, else undefined. */
export function missing(bins: readonly [binary: string, debianPackage: string][]): string | undefined {
  const gone = bins.filter(([b]) => which(b) === undefined);
  if (gone.length === 0) return undefined;
  return `${gone.map(([b]) => b).join(', ')} not installed (npm run bench:setup, or apt-get install -y ${[...new Set(gone.map(([, p]) => p))].join(' ')})`;
}

/** The first line of `argv`'s output (stdout, else stderr) matching `re`, or its first line. */
export async function versionLine(argv: readonly string[], re?: RegExp): Promise<string> {
  const r = await run(argv, { allowFail: true, timeoutMs: 5000 });
  const lines = `${r.stdout}\n${r.stderr}`
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return (re ? lines.find((l) => re.test(l)) : undefined) ?? lines[0] ?? `${argv[0]}: no version output`;
}

/** Waits (bounded) until interface `dev` exists in `ns`. */
export function waitForLink(
  lab: Lab,
  ns: string,
  dev: string,
  timeoutMs: number,
  proc?: LabProcess,
): Promise<void> {
  return waitUntil(
    `interface ${dev} in ${ns}`,
    async () => {
      if (proc?.exited()) throw new Error(`${proc.label} exited: ${proc.output().trim().slice(-500)}`);
      return (await lab.links(ns)).includes(dev);
    },
    timeoutMs,
  );
}

/**
 * Waits (bounded) until `proc` prints something matching `re`. Fails at
 * once, with its output, if it exits first.
 */
export function waitForOutput(proc: LabProcess, re: RegExp, timeoutMs: number): Promise<void> {
  return waitUntil(
    `${proc.label} to print ${re}`,
    () => {
      if (re.test(proc.output())) return true;
      if (proc.exited()) throw new Error(`${proc.label} exited: ${proc.output().trim().slice(-500)}`);
      return false;
    },
    timeoutMs,
  ).catch((e: unknown) => {
    throw new Error(`${(e as Error).message}; its output: ${proc.output().trim().slice(-800) || '(none)'}`);
  });
}

/** Deletes interfaces in a namespace if they still exist (a tunnel's teardown). */
export async function deleteLinks(lab: Lab, ns: string, devs: readonly string[]): Promise<void> {
  const present = await lab.links(ns).catch(() => [] as string[]);
  for (const d of devs) if (present.includes(d)) await lab.ip(ns, ['link', 'del', d], { allowFail: true });
}

/** Stops processes (SIGTERM, then SIGKILL) in reverse start order. */
export async function stopAll(procs: readonly LabProcess[]): Promise<void> {
  for (const p of [...procs].reverse()) await p.stop(3000);
}

/** The {@link TunnelProcess} record of a started process. */
export function tunnelProcess(p: LabProcess, side: 'server' | 'client', name: string): TunnelProcess {
  return { pid: p.pid, side, name };
}

/**
 * Runs `build`; if it throws, runs `undo` (errors from undo are swallowed so
 * the original failure is what the caller sees) and rethrows.
 */
export async function orUndo<T>(build: () => Promise<T>, undo: () => Promise<void>): Promise<T> {
  try {
    return await build();
  } catch (e) {
    await undo().catch(() => {});
    throw e;
  }
}
