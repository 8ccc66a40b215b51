import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { createTcpPair, MemoryTcpNetwork } from '../../src/io/memory/tcp.js';

function collect(s: NodeJS.ReadableStream): { chunks: Buffer[]; ended: Promise<unknown> } {
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  return { chunks, ended: once(s, 'end') };
}

describe('MemorySocket / createTcpPair', () => {
  it('carries bytes both ways and reports addresses like net.Socket', async () => {
    const [c, s] = createTcpPair();
    assert.equal(c.remotePort, 1723);
    assert.equal(s.remoteAddress, c.localAddress);
    const atS = collect(s);
    const atC = collect(c);
    c.write(Buffer.from('hello '));
    c.end(Buffer.from('server'));
    s.end(Buffer.from('bye'));
    await Promise.all([atS.ended, atC.ended]);
    assert.equal(Buffer.concat(atS.chunks).toString(), 'hello server');
    assert.equal(Buffer.concat(atC.chunks).toString(), 'bye');
  });

  it('with a seed, re-cuts the stream (coalescing and splitting) but keeps every byte in order', async () => {
    const [c, s] = createTcpPair({ seed: 11, maxChunk: 7 });
    const got = collect(s);
    const writes: Buffer[] = [];
    for (let i = 0; i < 50; i++) writes.push(Buffer.alloc(1 + (i % 13), i));
    for (const w of writes) c.write(w);
    c.end();
    await got.ended;
    assert.deepEqual(Buffer.concat(got.chunks), Buffer.concat(writes));
    assert.ok(got.chunks.every((x) => x.length <= 7));
    const boundaries = new Set<number>();
    let off = 0;
    for (const w of writes) {
      off += w.length;
      boundaries.add(off);
    }
    off = 0;
    const cuts: number[] = [];
    for (const x of got.chunks) {
      off += x.length;
      cuts.push(off);
    }
    assert.ok(
      cuts.some((x) => !boundaries.has(x)),
      'some read boundary differs from the write boundaries',
    );
  });

  it('destroy() without end() still gives the peer a FIN, then close', async () => {
    const [c, s] = createTcpPair();
    s.resume();
    const ended = once(s, 'end');
    const closed = once(s, 'close');
    c.destroy();
    await ended;
    await closed;
  });

  it('reset() gives the peer ECONNRESET, and writing to a closed peer fails with EPIPE', async () => {
    const [c, s] = createTcpPair();
    const err = once(s, 'error');
    c.reset();
    const [e] = (await err) as [NodeJS.ErrnoException];
    assert.equal(e.code, 'ECONNRESET');
    const [c2, s2] = createTcpPair();
    s2.destroy();
    await once(s2, 'close');
    const werr = once(c2, 'error');
    c2.write(Buffer.from('x'));
    const [we] = (await werr) as [NodeJS.ErrnoException];
    assert.equal(we.code, 'EPIPE');
  });
});

describe('MemoryTcpNetwork', () => {
  it('accepts connections on a listening port and refuses others with ECONNREFUSED', async () => {
    const net = new MemoryTcpNetwork();
    const accepted: string[] = [];
    const l = net.listen('192.0.2.2', 1723, (sock) => {
      accepted.push(`${sock.remoteAddress}:${sock.localPort}`);
      sock.end(Buffer.from('hi'));
    });
    const c = net.connect('192.0.2.2', 1723, '198.51.100.7');
    await once(c, 'connect');
    const got = collect(c);
    await got.ended;
    assert.equal(Buffer.concat(got.chunks).toString(), 'hi');
    assert.deepEqual(accepted, ['198.51.100.7:1723']);
    l.close();
    const refused = net.connect('192.0.2.2', 1723);
    const [e] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    assert.equal(e.code, 'ECONNREFUSED');
    assert.throws(() => {
      net.listen('192.0.2.2', 1724, () => {});
      net.listen('192.0.2.2', 1724, () => {});
    }, /EADDRINUSE/);
  });
});
