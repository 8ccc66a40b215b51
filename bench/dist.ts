/**
 * The benchmarks that start the `pptp-ts` command (the tunnel lab, the
 * sessions bench, the start-up bench) run the compiled build through
 * bin/pptp-ts.js, so they first bring dist/ up to date with the sources
 * (scripts/build-if-stale.js: `tsc -p tsconfig.build.json` when a source is
 * newer than the last build).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../scripts/build-if-stale.js', import.meta.url));

/** Builds dist/ if it is stale; throws when tsc fails. */
export function ensureDist(): void {
  const r = spawnSync(process.execPath, [SCRIPT], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`building dist/ failed (${SCRIPT} exited ${r.status ?? r.signal})`);
}
