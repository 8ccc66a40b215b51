import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { POISON_BYTE } from '../../src/io/memory/inbox.js';
import { createTunPair, MemoryTun } from '../../src/io/memory/tun.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('MemoryTun', () => {
  it('delivers host packets to the stack in one batch, as copies, on a microtask', async () => {
    const tun = new MemoryTun();
    const got: number[][] = [];
    let batches = 0;
    tun.start({ onPacket: (p) => got.push([...p]), onBatchEnd: () => batches++ });
    const a = Uint8Array.of(0x45, 1, 2);
    tun.hostSend(a);
    tun.hostSend(Uint8Array.of(0x60, 3));
    a[1] = 99; // the host reusing its buffer must not change what was sent
    assert.equal(got.length, 0, 'nothing delivered synchronously');
    await tick();
    assert.deepEqual(got, [
      [0x45, 1, 2],
      [0x60, 3],
    ]);
    assert.equal(batches, 1);
  });

  it('pause() stops delivery after the current packet; resume() delivers the rest later, in order', async () => {
    const tun = new MemoryTun();
    const got: number[] = [];
    let batches = 0;
    tun.start({
      onPacket: (p) => {
        got.push(p[0]!);
        if (p[0] === 2) tun.pause();
      },
      onBatchEnd: () => batches++,
    });
    for (let i = 0; i < 5; i++) tun.hostSend(Uint8Array.of(i));
    await tick();
    assert.deepEqual(got, [0, 1, 2], 'stopped after the packet that paused');
    assert.equal(batches, 1, 'the batch still ended');
    assert.equal(tun.isPaused, true);
    tun.hostSend(Uint8Array.of(5));
    await tick();
    assert.deepEqual(got, [0, 1, 2], 'nothing while paused, not even new packets');
    assert.equal(tun.unread, 3);
    tun.resume();
    assert.deepEqual(got, [0, 1, 2], 'nothing from inside resume()');
    await tick();
    assert.deepEqual(got, [0, 1, 2, 3, 4, 5]);
    assert.equal(tun.unread, 0);
    assert.equal(tun.stats.pauses, 1);
  });

  it('in manual mode delivers only at pump()', () => {
    const tun = new MemoryTun({ mode: 'manual' });
    let n = 0;
    tun.start({ onPacket: () => n++ });
    tun.hostSend(Uint8Array.of(1));
    assert.equal(n, 0);
    assert.equal(tun.pump(), 1);
    assert.equal(n, 1);
    assert.equal(tun.pump(), 0);
  });

  it('poisons a delivered packet after onPacket returns (views must not be kept)', () => {
    const tun = new MemoryTun({ mode: 'manual' });
    let kept: Uint8Array | undefined;
    tun.start({
      onPacket: (p) => {
        kept = p;
      },
    });
    tun.hostSend(Uint8Array.of(0x45, 0, 0, 20));
    tun.pump();
    assert.deepEqual([...kept!], [POISON_BYTE, POISON_BYTE, POISON_BYTE, POISON_BYTE]);
  });

  it('queues writes (copied) until flush or the end of the microtask', async () => {
    const tun = new MemoryTun();
    const p = Uint8Array.of(0x45, 7);
    assert.equal(tun.write(p), true);
    p[1] = 0;
    assert.equal(tun.hostReceived.length, 0);
    tun.flush();
    assert.deepEqual(
      tun.hostReceived.map((x) => [...x]),
      [[0x45, 7]],
    );
    tun.write(Uint8Array.of(0x45, 8));
    await tick();
    assert.equal(tun.hostReceived.length, 2);
    assert.equal(tun.stats.written, 2);
  });

  it('refuses empty, oversized and post-close writes, and a full queue', () => {
    const tun = new MemoryTun({ maxPacket: 100, txQueue: 2 });
    assert.equal(tun.write(new Uint8Array(0)), false);
    assert.equal(tun.write(new Uint8Array(101)), false);
    assert.equal(tun.write(new Uint8Array(100)), true);
    assert.equal(tun.write(new Uint8Array(1)), true);
    assert.equal(tun.write(new Uint8Array(1)), false);
    tun.close();
    tun.close();
    assert.equal(tun.write(new Uint8Array(1)), false);
    assert.equal(tun.stats.writeDropped, 4);
  });

  it('a pair carries what one stack writes to the other stack', async () => {
    const [a, b] = createTunPair();
    const atB: number[][] = [];
    const atA: number[][] = [];
    a.start({ onPacket: (p) => atA.push([...p]) });
    b.start({ onPacket: (p) => atB.push([...p]) });
    a.write(Uint8Array.of(0x45, 1));
    b.write(Uint8Array.of(0x45, 2));
    await tick();
    assert.deepEqual(atB, [[0x45, 1]]);
    assert.deepEqual(atA, [[0x45, 2]]);
  });

  it('delivers nothing after close', async () => {
    const tun = new MemoryTun();
    let n = 0;
    tun.start({ onPacket: () => n++ });
    tun.hostSend(Uint8Array.of(1));
    tun.close();
    await tick();
    assert.equal(n, 0);
    assert.throws(() => tun.start({ onPacket: () => {} }), /closed/);
  });
});
