/**
 * `npm run fuzz [-- ITERATIONS [SEED]]`: millions of mutated inputs per
 * decoder (default 2,000,000), with a report of how many decoded and how
 * many were rejected.
 */
import { loadFuzzTargets } from './load.js';
import { fuzzDecoder } from './mutate.js';

const iterations = Number(process.argv[2] ?? 2_000_000);
const seed = Number(process.argv[3] ?? Date.now() % 1_000_000);
if (!Number.isSafeInteger(iterations) || iterations <= 0) {
  console.error(`fuzz: bad iteration count ${process.argv[2]}`);
  process.exit(2);
}
const targets = await loadFuzzTargets();
console.log(`fuzz: ${targets.length} targets × ${iterations} iterations, seed ${seed}`);
let failed = 0;
for (const [i, t] of targets.entries()) {
  const t0 = process.hrtime.bigint();
  try {
    const r = fuzzDecoder(t.decode, t.corpus, iterations, seed + i);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    console.log(`  ${t.name.padEnd(40)} decoded ${r.decoded} rejected ${r.rejected} (${ms.toFixed(0)} ms)`);
  } catch (e) {
    failed++;
    console.error(`  ${t.name}: FAILED ${(e as Error).message}`);
  }
}
process.exit(failed ? 1 : 0);
