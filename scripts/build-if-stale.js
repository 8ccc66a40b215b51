#!/usr/bin/env node
// Rebuilds dist/ (`tsc -p tsconfig.build.json`, what `npm run build` does)
// unless it is newer than every source: the tests and the benchmarks run the
// compiled `pptp-ts` command (bin/pptp-ts.js → dist/), so they must never run
// a stale one. Used by scripts/test.js and, as a command, by the benchmarks:
//   node scripts/build-if-stale.js
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from './bundle.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Newest modification time (ms) of a file or of any file below a directory. */
function newest(p) {
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(p).map((e) => newest(join(p, e))));
}

/** Builds dist/ when a source is newer than the last build; returns false when tsc or the bundle failed. */
export async function buildIfStale(log = (line) => console.log(line)) {
  const stamp = join(root, 'dist', '.tsbuildinfo');
  const inputs = ['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'scripts/bundle.js'].map(
    (f) => join(root, f),
  );
  const bundled = existsSync(join(root, 'dist', 'cli', 'connect.bundle.js'));
  if (bundled && existsSync(stamp) && statSync(stamp).mtimeMs >= Math.max(...inputs.map(newest))) return true;
  log('── build dist/ (tsc -p tsconfig.build.json) ──');
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) return false;
  try {
    await bundle(); // dist/cli/connect.bundle.js, as `npm run build` writes it
  } catch (e) {
    log(`bundle: ${e instanceof Error ? e.message : String(e)}`);
    return false;
  }
  // tsc leaves its build info untouched when no output changed; mark dist/ as current.
  const now = new Date();
  utimesSync(stamp, now, now);
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exit((await buildIfStale((line) => console.error(line))) ? 0 : 1);
}
