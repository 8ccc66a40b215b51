/**
 * About 10k seeded mutations per target in the normal suite (FUZZ_ITERATIONS
 * changes it); `npm run fuzz` runs millions. A decoder returns a value or
 * throws WireError, an engine throws nothing, no input hangs, and every
 * target's state stays within its caps.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WireError, WireErrorCode } from '../../src/wire/errors.js';
import { loadFuzzTargets } from './load.js';
import { type FuzzTarget, fuzzIterations, fuzzTarget } from './mutate.js';

const targets = await loadFuzzTargets();

describe('fuzz: every decoder and engine against mutated real traffic', () => {
  it('has targets, engines among them', () => {
    assert.ok(targets.length > 0);
    for (const name of ['pptp control engine (PAC', 'pptp control engine (PNS', 'gre channel', 'ppp unit']) {
      assert.ok(
        targets.some((t) => t.engine && t.name.startsWith(name)),
        `no engine target ${name}`,
      );
    }
  });
  for (const [i, t] of targets.entries()) {
    it(t.name, () => {
      const r = fuzzTarget(t, { iterations: fuzzIterations(), seed: 0x5eed + i });
      assert.equal(r.decoded + r.rejected, r.iterations);
      assert.equal(r.iterations, fuzzIterations());
    });
  }
});

describe('fuzz harness: what counts as a crash', () => {
  const corpus = [Uint8Array.of(1, 2, 3, 4)];
  const run = (t: Partial<FuzzTarget>, maxInputMs?: number) =>
    fuzzTarget(
      { name: 't', decode: () => 0, corpus, ...t },
      { iterations: 600, seed: 1, ...(maxInputMs ? { maxInputMs } : {}) },
    );
  it('a decoder may throw WireError', () => {
    const r = run({
      decode: () => {
        throw new WireError(WireErrorCode.Truncated, 'short');
      },
    });
    assert.equal(r.rejected, 600);
  });
  it('an engine may not throw even WireError', () => {
    assert.throws(
      () =>
        run({
          engine: true,
          decode: () => {
            throw new WireError(WireErrorCode.Truncated, 'short');
          },
        }),
      /engine threw WireError.*on input [0-9a-f]* \(seed 1, iteration 0\)/,
    );
  });
  it('a decoder throwing anything else is a crash', () => {
    assert.throws(
      () =>
        run({
          decode: (b) => {
            if (b.length > 6) throw new TypeError('boom');
          },
        }),
      /decoder threw TypeError: boom/,
    );
  });
  it('an input slower than the bound is a hang', () => {
    assert.throws(
      () =>
        run(
          {
            decode: () => {
              const end = performance.now() + 20;
              while (performance.now() < end) {}
            },
          },
          5,
        ),
      /hang: one input took \d+ ms/,
    );
  });
  it('state beyond its cap is growth', () => {
    const held: Uint8Array[] = [];
    assert.throws(
      () =>
        run({
          decode: (b) => held.push(b),
          check: () => {
            if (held.length > 300) throw new Error(`${held.length} held`);
          },
        }),
      /state check failed: 512 held/,
    );
  });
  it('a time limit ends a count budget early', () => {
    const r = fuzzTarget(
      { name: 't', decode: () => 0, corpus },
      { iterations: Number.MAX_SAFE_INTEGER, timeLimitMs: 50, seed: 1 },
    );
    assert.ok(r.iterations > 0 && r.iterations < Number.MAX_SAFE_INTEGER);
  });
});
