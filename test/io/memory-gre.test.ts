import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/io/clock.js';
import { FaultInjector } from '../../src/io/memory/faults.js';
import { MemoryGreNetwork } from '../../src/io/memory/gre.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

/** An IPv4 + minimal GRE packet with `tag` in the payload; checksum, length, id and source left zero. */
function packet(
  dst: number[],
  tag: number,
  opts: { proto?: number; src?: number[]; id?: number } = {},
): Uint8Array {
  const b = new Uint8Array(20 + 8 + 4);
  b[0] = 0x45;
  b[4] = (opts.id ?? 0) >> 8;
  b[5] = (opts.id ?? 0) & 0xff;
  b[6] = 0x40; // DF
  b[8] = 64;
  b[9] = opts.proto ?? 47;
  b.set(opts.src ?? [0, 0, 0, 0], 12);
  b.set(dst, 16);
  b.set([0x30, 0x01, 0x88, 0x0b], 20);
  new DataView(b.buffer).setUint32(28, tag);
  return b;
}
const tagOf = (p: Uint8Array) => new DataView(p.buffer, p.byteOffset).getUint32(28);

/** Independent check: the one's-complement sum over a valid header is 0xffff. */
function headerSumOk(p: Uint8Array): boolean {
  let s = 0;
  for (let i = 0; i < 20; i += 2) s += (p[i]! << 8) | p[i + 1]!;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s === 0xffff;
}

describe('MemoryGreNetwork', () => {
  it('routes by destination address and fills in what the kernel fills in (raw(7))', async () => {
    const net = new MemoryGreNetwork();
    const a = net.socket('10.0.0.1');
    const b = net.socket('10.0.0.2');
    const got: Uint8Array[] = [];
    b.start({ onPacket: (p) => got.push(p.slice()) });
    a.start({ onPacket: () => assert.fail('a receives nothing') });
    assert.equal(a.send(packet([10, 0, 0, 2], 1)), true);
    assert.equal(a.send(packet([10, 0, 0, 2], 2, { src: [10, 9, 9, 9], id: 0x1234 })), true);
    await tick();
    assert.equal(got.length, 2);
    const [p1, p2] = got as [Uint8Array, Uint8Array];
    assert.deepEqual([...p1.subarray(12, 16)], [10, 0, 0, 1], 'zero source filled with the sender address');
    assert.notEqual((p1[4]! << 8) | p1[5]!, 0, 'zero id filled in');
    assert.deepEqual([...p2.subarray(12, 16)], [10, 9, 9, 9], 'a given source is kept');
    assert.equal((p2[4]! << 8) | p2[5]!, 0x1234, 'a given id is kept');
    for (const p of got) {
      assert.equal((p[2]! << 8) | p[3]!, p.length, 'total length filled in');
      assert.ok(headerSumOk(p), 'header checksum valid');
      assert.equal(p[8], 64);
      assert.equal(p[6], 0x40);
    }
    assert.deepEqual(got.map(tagOf), [1, 2]);
  });

  it('counts what it cannot deliver: no route, not GRE, malformed, too big', async () => {
    const net = new MemoryGreNetwork({ mtu: 100 });
    const a = net.socket('10.0.0.1');
    const b = net.socket('10.0.0.2');
    let n = 0;
    b.start({ onPacket: () => n++ });
    a.send(packet([10, 0, 0, 3], 1));
    a.send(packet([10, 0, 0, 2], 2, { proto: 17 }));
    const bad = packet([10, 0, 0, 2], 3);
    bad[0] = 0x4f; // IHL 60 > packet length
    a.send(bad);
    const big = new Uint8Array(101);
    big.set(packet([10, 0, 0, 2], 4));
    a.send(big);
    assert.equal(a.send(new Uint8Array(19)), false);
    await tick();
    assert.equal(n, 0);
    assert.deepEqual(
      { ...net.stats },
      { sent: 4, delivered: 0, noRoute: 1, malformed: 1, notGre: 1, tooBig: 1 },
    );
    assert.equal(a.sendDropped, 1);
  });

  it('taps see every routed packet with its endpoints', async () => {
    const net = new MemoryGreNetwork();
    const a = net.socket('10.0.0.1');
    net.socket('10.0.0.2').start({ onPacket: () => {} });
    const seen: string[] = [];
    net.tap((p, from, to) => seen.push(`${from}>${to}:${tagOf(p)}`));
    a.send(packet([10, 0, 0, 2], 5));
    await tick();
    assert.deepEqual(seen, ['10.0.0.1>10.0.0.2:5']);
  });

  it('applies a fault injector per direction, reproducibly', async () => {
    const runOnce = async () => {
      const net = new MemoryGreNetwork();
      const a = net.socket('10.0.0.1');
      const b = net.socket('10.0.0.2');
      net.setFaults(
        '10.0.0.1',
        '10.0.0.2',
        new FaultInjector({ seed: 42, drop: 0.1, reorder: 0.1, duplicate: 0.05 }),
      );
      const atB: number[] = [];
      const atA: number[] = [];
      b.start({ onPacket: (p) => atB.push(tagOf(p)) });
      a.start({ onPacket: (p) => atA.push(tagOf(p)) });
      for (let i = 0; i < 300; i++) {
        a.send(packet([10, 0, 0, 2], i));
        b.send(packet([10, 0, 0, 1], i));
        if (i % 10 === 9) await tick();
      }
      await tick();
      await tick();
      return { atA, atB };
    };
    const r1 = await runOnce();
    const r2 = await runOnce();
    assert.deepEqual(r1, r2);
    assert.deepEqual(
      r1.atA,
      Array.from({ length: 300 }, (_, i) => i),
      'the clean direction is untouched',
    );
    assert.notDeepEqual(
      r1.atB,
      Array.from({ length: 300 }, (_, i) => i),
    );
    assert.ok(r1.atB.length > 250 && r1.atB.length < 300, `${r1.atB.length} delivered`);
  });

  it('never lets corruption touch the outer IPv4 header', async () => {
    const net = new MemoryGreNetwork();
    const a = net.socket('10.0.0.1');
    const b = net.socket('10.0.0.2');
    net.setFaults('10.0.0.1', '10.0.0.2', new FaultInjector({ seed: 9, corrupt: 1 }));
    const got: Uint8Array[] = [];
    b.start({ onPacket: (p) => got.push(p.slice()) });
    for (let i = 0; i < 100; i++) a.send(packet([10, 0, 0, 2], 0));
    await tick();
    assert.equal(got.length, 100);
    for (const p of got) assert.ok(headerSumOk(p));
    assert.ok(got.some((p) => tagOf(p) !== 0 || p[20] !== 0x30 || p[21] !== 0x01));
  });

  it('with a latency, delivers only when the fake clock reaches it', async () => {
    const clock = new ManualClock();
    const net = new MemoryGreNetwork({ clock, latencyMs: 50 });
    const a = net.socket('10.0.0.1');
    const got: number[] = [];
    net.socket('10.0.0.2').start({ onPacket: (p) => got.push(tagOf(p)) });
    a.send(packet([10, 0, 0, 2], 7));
    a.flush();
    await tick();
    clock.advance(49);
    await tick();
    assert.deepEqual(got, []);
    clock.advance(1);
    await tick();
    assert.deepEqual(got, [7]);
  });

  it('in manual mode moves packets only at pump(); held (reordered) packets follow on the next pump', () => {
    const net = new MemoryGreNetwork({ mode: 'manual' });
    const a = net.socket('10.0.0.1');
    const got: number[] = [];
    net.socket('10.0.0.2').start({ onPacket: (p) => got.push(tagOf(p)) });
    net.setFaults('10.0.0.1', '10.0.0.2', new FaultInjector({ seed: 1, reorder: 1, reorderDistance: 50 }));
    a.send(packet([10, 0, 0, 2], 1));
    a.send(packet([10, 0, 0, 2], 2));
    a.flush();
    assert.equal(net.pump(), 0, 'both held back by the reorderer');
    assert.equal(net.pump(), 2);
    assert.deepEqual([...got].sort(), [1, 2]);
  });

  it('refuses a second socket on one address and frees the address on close', () => {
    const net = new MemoryGreNetwork();
    const a = net.socket('10.0.0.1');
    assert.throws(() => net.socket('10.0.0.1'), /already/);
    assert.throws(() => net.socket('10.0.0.256'), TypeError);
    a.close();
    a.close();
    assert.equal(a.send(packet([10, 0, 0, 2], 1)), false);
    net.socket('10.0.0.1');
  });
});
