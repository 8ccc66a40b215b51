/**
 * The native addon in worker threads (docs/native-io.md, "threads"): it is
 * a Node-API module, hence context-aware, so each worker loads its own
 * instance. A TUN and a raw GRE socket opened on the main thread are
 * driven from two workers through `dupFd` + `Tun.adopt` /
 * `RawGreSocket.adopt`: one worker answers pings on the TUN, the other
 * receives GRE. Also: `RawGreSocket.reserve()` writes a packet straight into
 * the transmit ring.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { addPointToPointAddress, setLinkUp } from '../../src/io/ip.js';
import { loadAddon } from '../../src/io/native.js';
import { RawGreSocket } from '../../src/io/raw-gre.js';
import { Tun } from '../../src/io/tun.js';
import { createLab, listNamespaces, run } from '../helpers/netns.js';
import { requireRoot } from '../helpers/tools.js';

const WORKER_URL = new URL('./io-worker.worker.ts', import.meta.url).href;
const TSX = import.meta.resolve('tsx/esm/api');

/** A worker running test/system/io-worker.worker.ts (tsx registered first: workers do not inherit loaders). */
function startWorker(data: unknown): Worker {
  return new Worker(
    `import(${JSON.stringify(TSX)}).then((m) => { m.register(); return import(${JSON.stringify(WORKER_URL)}); })`,
    { eval: true, workerData: data },
  );
}

function nextMessage<T>(w: Worker, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('worker did not answer')), timeoutMs);
    w.once('message', (m: T) => {
      clearTimeout(t);
      resolve(m);
    });
    w.once('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}

describe('the native addon in worker threads', () => {
  before(() => requireRoot('ip', 'ping'));
  const lab = createLab('iowrk');
  let nsA = '';
  let nsB = '';

  before(async () => {
    nsA = await lab.addNamespace('a');
    nsB = await lab.addNamespace('b');
    await lab.addVeth(nsA, 'a0', nsB, 'b0');
    await run(['ip', '-n', nsA, 'addr', 'add', '10.93.0.1/24', 'dev', 'a0']);
    await run(['ip', '-n', nsB, 'addr', 'add', '10.93.0.2/24', 'dev', 'b0']);
  });

  it('a worker answers pings on a TUN opened by the main thread (dupFd + Tun.adopt)', async () => {
    const tun = Tun.open({ name: 'wk%d', netns: nsA, offload: true });
    const w = startWorker({ role: 'echo', fd: loadAddon().dupFd(tun.fd), name: tun.name });
    try {
      assert.equal(await nextMessage(w), 'ready');
      await addPointToPointAddress(tun.name, '10.94.0.1', '10.94.0.2', { netns: nsA });
      await setLinkUp(tun.name, { netns: nsA });
      const r = await lab.exec(nsA, ['ping', '-c', '3', '-i', '0.2', '-W', '2', '10.94.0.2'], {
        allowFail: true,
      });
      assert.match(r.stdout, /3 packets transmitted, 3 received/, r.stdout + r.stderr);
      w.postMessage('stop');
      const stats = await nextMessage<{ requests: number }>(w);
      assert.equal(stats.requests, 3, 'the worker saw the three requests');
    } finally {
      await w.terminate();
      tun.close();
    }
  });

  it('a worker receives GRE on a dup of a socket whose main-thread copy sends with reserve()', async () => {
    const rx = RawGreSocket.open({ netns: nsB, bindAddress: '10.93.0.2' });
    const tx = RawGreSocket.open({ netns: nsA, bindAddress: '10.93.0.1' });
    const w = startWorker({ role: 'gre', fd: loadAddon().dupFd(rx.fd), count: 50 });
    try {
      assert.equal(await nextMessage(w), 'ready');
      const done = nextMessage<{ seqs: number[] }>(w);
      for (let seq = 0; seq < 50; seq++) {
        const off = tx.reserve(20 + 12 + 8);
        assert.ok(off >= 0);
        const b = tx.txRing;
        const v = new DataView(b.buffer, b.byteOffset + off, 40);
        b.fill(0, off, off + 40);
        b[off] = 0x45;
        b[off + 8] = 64;
        b[off + 9] = 47;
        b.set([10, 93, 0, 1, 10, 93, 0, 2], off + 12);
        b[off + 20] = 0x30;
        b[off + 21] = 0x01;
        v.setUint16(22, 0x880b);
        v.setUint16(24, 8);
        v.setUint16(26, 7);
        v.setUint32(28, seq);
      }
      assert.equal(tx.reserve(10), -1, 'shorter than an IPv4 header');
      assert.equal(tx.stats.txDropped, 1);
      tx.flush();
      const { seqs } = await done;
      assert.deepEqual(
        seqs,
        Array.from({ length: 50 }, (_, i) => i),
      );
    } finally {
      await w.terminate();
      rx.close();
      tx.close();
    }
  });

  it('leaves no namespace behind', async () => {
    await lab.cleanup();
    assert.deepEqual(
      (await listNamespaces()).filter((n) => n.startsWith(lab.prefix)),
      [],
    );
  });
});
