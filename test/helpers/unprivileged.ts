/**
 * Running `pptp-ts` as an unprivileged user (nobody, uid 65534) from a test
 * that runs as root. The checkout may sit where nobody cannot read it: root
 * clones into /root, whose mode is 0700. So the child never runs from the
 * checkout: {@link readableCopy} copies what the command needs at run time
 * (bin/, src/, build/, prebuilds/, dist/ if present, package.json and the run-time
 * packages of node_modules/) into a fresh temp dir that everyone can read,
 * and {@link runAsNobody} runs the copy. The copy is removed by the caller.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout this test runs from. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export const NOBODY = 65534;

/** Development-only packages the command never loads (large; not copied). */
const DEV_ONLY = new Set(['@biomejs', 'typescript', 'fast-check', '@types', 'js-md4']);

function cp(from: string, to: string): void {
  const r = spawnSync('cp', ['-R', from, to], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`cp -R ${from} ${to}: ${r.stderr || r.error?.message}`);
}

/**
 * Copies what `pptp-ts` needs to run from `root` into a new temp dir that
 * every user can read (directories 0755, files a+r), and returns its path.
 */
export function readableCopy(root: string = REPO_ROOT, parent: string = tmpdir()): string {
  const dir = mkdtempSync(join(parent, 'pptp-ts-readable-'));
  try {
    for (const e of ['bin', 'src', 'build', 'prebuilds', 'dist', 'package.json']) {
      if (existsSync(join(root, e))) cp(join(root, e), join(dir, e));
    }
    const nm = join(dir, 'node_modules');
    spawnSync('mkdir', [nm]);
    for (const e of readdirSync(join(root, 'node_modules'))) {
      if (!DEV_ONLY.has(e)) cp(join(root, 'node_modules', e), join(nm, e));
    }
    chmodSync(dir, 0o755);
    const r = spawnSync('chmod', ['-R', 'a+rX', dir], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`chmod -R a+rX ${dir}: ${r.stderr}`);
    return dir;
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

export interface NobodyResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node CHECKOUT/bin/pptp-ts.js ARGS` as nobody, bounded in time. */
export function runAsNobody(checkout: string, args: readonly string[], timeoutMs = 60_000): NobodyResult {
  const r = spawnSync(process.execPath, [join(checkout, 'bin', 'pptp-ts.js'), ...args], {
    uid: NOBODY,
    gid: NOBODY,
    cwd: '/',
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent' },
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
