import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FaultInjector } from '../../src/io/memory/faults.js';

function pkt(i: number): Uint8Array {
  const b = new Uint8Array(64);
  new DataView(b.buffer).setUint32(0, i);
  return b;
}
const idOf = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset).getUint32(0);

function run(f: FaultInjector, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) for (const p of f.apply(pkt(i), 4)) out.push(idOf(p));
  for (const p of f.drain()) out.push(idOf(p));
  return out;
}

describe('FaultInjector', () => {
  it('passes everything through, in order, with no faults configured', () => {
    assert.deepEqual(
      run(new FaultInjector({ seed: 1 }), 100),
      Array.from({ length: 100 }, (_, i) => i),
    );
  });

  it('is reproducible from its seed and differs across seeds', () => {
    const opts = { drop: 0.1, duplicate: 0.1, reorder: 0.1, corrupt: 0.1 };
    const a = run(new FaultInjector({ seed: 7, ...opts }), 500);
    const b = run(new FaultInjector({ seed: 7, ...opts }), 500);
    const c = run(new FaultInjector({ seed: 8, ...opts }), 500);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  it('drops about the configured fraction and counts it', () => {
    const f = new FaultInjector({ seed: 3, drop: 0.05 });
    const out = run(f, 10_000);
    assert.equal(out.length, 10_000 - f.stats.dropped);
    assert.ok(f.stats.dropped > 400 && f.stats.dropped < 600, `dropped ${f.stats.dropped}`);
    assert.deepEqual(
      out,
      [...out].sort((x, y) => x - y),
    );
  });

  it('duplicates: every duplicated packet arrives twice, nothing else changes', () => {
    const f = new FaultInjector({ seed: 4, duplicate: 0.2 });
    const out = run(f, 1000);
    assert.equal(out.length, 1000 + f.stats.duplicated);
    assert.ok(f.stats.duplicated > 100);
    assert.deepEqual([...new Set(out)].length, 1000);
  });

  it('reorders within the configured distance and loses nothing', () => {
    const f = new FaultInjector({ seed: 5, reorder: 0.2, reorderDistance: 3 });
    const out = run(f, 1000);
    assert.deepEqual(
      [...out].sort((x, y) => x - y),
      Array.from({ length: 1000 }, (_, i) => i),
    );
    assert.notDeepEqual(
      out,
      [...out].sort((x, y) => x - y),
    );
    // A packet is overtaken by at most `reorderDistance` later ones.
    for (const [pos, id] of out.entries()) assert.ok(pos - id <= 3, `packet ${id} arrived at ${pos}`);
  });

  it('corrupts exactly one bit outside the protected prefix', () => {
    const f = new FaultInjector({ seed: 6, corrupt: 1 });
    for (let i = 0; i < 200; i++) {
      const orig = pkt(i);
      orig.fill(0x5a, 4);
      const [got] = f.apply(orig.slice(), 4);
      let bits = 0;
      for (let j = 0; j < orig.length; j++) {
        let x = orig[j]! ^ got![j]!;
        if (j < 4) assert.equal(x, 0, 'protected prefix changed');
        for (; x; x &= x - 1) bits++;
      }
      assert.equal(bits, 1);
    }
    assert.equal(f.stats.corrupted, 200);
  });

  it('rejects nonsense probabilities', () => {
    assert.throws(() => new FaultInjector({ seed: 1, drop: 1.5 }), RangeError);
    assert.throws(() => new FaultInjector({ seed: 1, reorder: -0.1 }), RangeError);
    assert.throws(() => new FaultInjector({ seed: 1, reorderDistance: 0 }), RangeError);
  });
});
