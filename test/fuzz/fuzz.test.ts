/** About 10k seeded mutations per decoder in the normal suite (docs/style.md §5.4); `npm run fuzz` runs millions. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadFuzzTargets } from './load.js';
import { fuzzDecoder, fuzzIterations } from './mutate.js';

const targets = await loadFuzzTargets();

describe('fuzz: every decoder returns a value or throws WireError', () => {
  it('has targets', () => assert.ok(targets.length > 0));
  for (const [i, t] of targets.entries()) {
    it(t.name, () => {
      const r = fuzzDecoder(t.decode, t.corpus, fuzzIterations(), 0x5eed + i);
      assert.equal(r.decoded + r.rejected, r.iterations);
    });
  }
});
