/**
 * CallIdMap: a Call ID map that keeps its first entry inline must behave
 * exactly as a `Map` does (contents, size, insertion order, deletion while
 * iterating), checked against a real `Map` under seeded random operations.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CallIdMap } from '../../src/pptp/call-id-map.js';
import { seededRandom } from './harness.js';

function same(m: CallIdMap<string>, ref: Map<number, string>, what: string): void {
  assert.equal(m.size, ref.size, `${what}: size`);
  assert.deepEqual([...m], [...ref], `${what}: entries in order`);
  assert.deepEqual([...m.keys()], [...ref.keys()], `${what}: keys`);
  assert.deepEqual([...m.values()], [...ref.values()], `${what}: values`);
}

describe('CallIdMap', () => {
  it('matches a Map under random set, delete, clear and get, with few and many Call IDs', () => {
    for (const span of [2, 3, 8, 0x10000]) {
      const random = seededRandom(span);
      const m = new CallIdMap<string>();
      const ref = new Map<number, string>();
      for (let step = 0; step < 4000; step++) {
        const id = random(span);
        const op = random(100);
        if (op < 45) {
          const v = `v${step}`;
          assert.equal(m.set(id, v), m);
          ref.set(id, v);
        } else if (op < 90) {
          assert.equal(m.delete(id), ref.delete(id), `delete ${id}`);
        } else if (op < 91) {
          m.clear();
          ref.clear();
        }
        assert.equal(m.get(id), ref.get(id), `get ${id}`);
        assert.equal(m.has(id), ref.has(id), `has ${id}`);
        if (step % 50 === 0) same(m, ref, `span ${span} step ${step}`);
      }
      same(m, ref, `span ${span} end`);
    }
  });

  it('keeps insertion order when the inline entry is deleted and others remain', () => {
    const m = new CallIdMap<string>();
    m.set(7, 'a').set(9, 'b').set(11, 'c');
    m.delete(7);
    m.set(5, 'd');
    assert.deepEqual([...m.keys()], [9, 11, 5]);
    m.set(9, 'e');
    assert.deepEqual(
      [...m],
      [
        [9, 'e'],
        [11, 'c'],
        [5, 'd'],
      ],
    );
  });

  it('allows deleting every entry while iterating, as Map does', () => {
    const m = new CallIdMap<number>();
    for (const id of [1, 2, 3, 4]) m.set(id, id * 10);
    const seen: number[] = [];
    for (const [id, v] of m) {
      seen.push(v);
      m.delete(id);
    }
    assert.deepEqual(seen, [10, 20, 30, 40]);
    assert.equal(m.size, 0);
    assert.deepEqual([...m], []);
  });

  it('refuses a key that is not a 16-bit Call ID', () => {
    const m = new CallIdMap<string>();
    for (const bad of [-1, 0x10000, 1.5, Number.NaN]) {
      assert.throws(() => m.set(bad, 'x'), /Call ID out of range/);
    }
    assert.equal(m.size, 0);
  });
});
