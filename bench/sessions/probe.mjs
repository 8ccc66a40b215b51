// Preloaded into `pptp-ts serve` by bench:sessions (`node --expose-gc --import
// probe.mjs bin/pptp-ts.js serve ...`): on SIGUSR2 it writes the process's
// memory figures to the file $PPTP_BENCH_PROBE, before and after a full
// garbage collection (and, with $PPTP_BENCH_HEAP_SNAPSHOTS, a heap snapshot).
// Nothing else: the server runs unchanged.
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';

const path = process.env.PPTP_BENCH_PROBE;
// With $PPTP_BENCH_HEAP_SNAPSHOTS (a directory), every reading also writes a heap snapshot there (profiling).
const snapshots = process.env.PPTP_BENCH_HEAP_SNAPSHOTS;
let snapshotCount = 0;
if (path) {
  process.on('SIGUSR2', () => {
    const before = process.memoryUsage();
    // V8's spaces as they are (what RSS sees), before the collection.
    const spaces = Object.fromEntries(
      getHeapSpaceStatistics().map((x) => [x.space_name, { size: x.space_size, used: x.space_used_size }]),
    );
    globalThis.gc?.();
    const after = process.memoryUsage();
    if (snapshots) writeHeapSnapshot(join(snapshots, `server-${++snapshotCount}.heapsnapshot`));
    writeFileSync(
      `${path}.tmp`,
      JSON.stringify({ before, after, spaces, gc: typeof globalThis.gc === 'function' }),
    );
    renameSync(`${path}.tmp`, path);
  });
}
