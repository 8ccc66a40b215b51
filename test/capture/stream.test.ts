import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openCapture } from '../../src/capture/open.js';
import { encodePcap } from '../../src/capture/pcap.js';
import { CaptureStreamReader, MAX_STREAM_BLOCK } from '../../src/capture/stream.js';
import type { CapturedPacket } from '../../src/capture/types.js';
import { concatBytes } from '../../src/wire/bytes.js';
import { fullSession } from '../decode/fixtures.js';

/** Every packet of a stream fed in chunks of `size` bytes (the last one shorter). */
function streamed(bytes: Uint8Array, size: number): CapturedPacket[] {
  const r = new CaptureStreamReader();
  const out: CapturedPacket[] = [];
  for (let off = 0; off < bytes.length; off += size) out.push(...r.push(bytes.subarray(off, off + size)));
  r.end();
  return out;
}

/** What the file reader gives, copied out of the file's bytes so it compares by value. */
function fromFile(bytes: Uint8Array): CapturedPacket[] {
  return [...openCapture(bytes)].map((p) => ({ ...p, data: p.data.slice() }));
}

const norm = (ps: CapturedPacket[]) => ps.map((p) => ({ ...p, data: Buffer.from(p.data).toString('hex') }));

// A pcapng writer of our own for the test, from draft-ietf-opsawg-pcapng §3.1/§4.
function block(type: number, body: Uint8Array, le: boolean): Uint8Array {
  const out = new Uint8Array(12 + ((body.length + 3) & ~3));
  const v = new DataView(out.buffer);
  v.setUint32(0, type, le);
  v.setUint32(4, out.length, le);
  out.set(body, 8);
  v.setUint32(out.length - 4, out.length, le);
  return out;
}
function shb(le: boolean): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint32(0, 0x1a2b3c4d, le);
  v.setUint16(4, 1, le);
  v.setInt32(8, -1, le);
  v.setInt32(12, -1, le);
  return block(0x0a0d0d0a, b, le);
}
function idb(linkType: number, le: boolean): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setUint16(0, linkType, le);
  return block(1, b, le);
}
function epb(iface: number, ticks: number, data: Uint8Array, le: boolean): Uint8Array {
  const h = new Uint8Array(20);
  const v = new DataView(h.buffer);
  v.setUint32(0, iface, le);
  v.setUint32(8, ticks, le);
  v.setUint32(12, data.length, le);
  v.setUint32(16, data.length + 10, le);
  return block(6, concatBytes(h, data), le);
}

describe('capture stream reader (decode -)', () => {
  const pcap = fullSession().pcap('ethernet');

  it('pcap in chunks of any size gives exactly what the file reader gives', () => {
    const want = norm(fromFile(pcap));
    assert.ok(want.length > 30);
    for (const size of [1, 2, 3, 7, 16, 23, 24, 25, 100, 1000, pcap.length])
      assert.deepEqual(norm(streamed(pcap, size)), want, `chunks of ${size}`);
  });

  it('pcapng: two sections in both byte orders, interfaces numbered across sections, unknown blocks skipped', () => {
    const frame = (n: number) => new Uint8Array(60).fill(n);
    const file = concatBytes(
      shb(true),
      idb(1, true),
      epb(0, 1000, frame(1), true),
      block(0x0bad, new Uint8Array(9), true),
      idb(101, true),
      epb(1, 2000, frame(2), true),
      shb(false),
      idb(113, false),
      epb(0, 3000, frame(3), false),
    );
    const want = norm(fromFile(file));
    assert.equal(want.length, 3);
    assert.deepEqual(
      want.map((p) => [p.frameNumber, p.interfaceId, p.linkType, p.originalLength]),
      [
        [1, 0, 1, 70],
        [2, 1, 101, 70],
        [3, 2, 113, 70],
      ],
    );
    for (const size of [1, 5, 12, 13, 64, file.length])
      assert.deepEqual(norm(streamed(file, size)), want, `chunks of ${size}`);
  });

  it('memory is bounded by one record: a huge length is refused before its bytes arrive', () => {
    const r = new CaptureStreamReader();
    const head = pcap.slice(0, 24 + 16);
    new DataView(head.buffer).setUint32(24 + 8, 1 << 30, true); // captured length 1 GiB
    assert.deepEqual(r.push(head), []);
    assert.match(r.error?.detail ?? '', /captured length 1073741824/);
    assert.throws(() => r.end(), /captured length 1073741824/);
    const ng = new CaptureStreamReader();
    const big = shb(true).slice(0, 12);
    const b2 = concatBytes(shb(true), idb(1, true), big);
    new DataView(b2.buffer).setUint32(b2.length - 12, 6, true);
    new DataView(b2.buffer).setUint32(b2.length - 8, MAX_STREAM_BLOCK + 4, true);
    ng.push(b2);
    assert.throws(() => ng.end(), /block length \d+ > 16777216/);
  });

  it('a stream that stops inside a record, or is not a capture, says so at the end', () => {
    const r = new CaptureStreamReader();
    const got = r.push(pcap.subarray(0, pcap.length - 5));
    assert.equal(got.length, fromFile(pcap).length - 1);
    assert.throws(() => r.end(), /stream ends inside the record at byte \d+ \(\d+ bytes of it arrived\)/);
    const n = new CaptureStreamReader();
    n.push(new TextEncoder().encode('hello, world'));
    assert.throws(() => n.end(), /not a pcap or pcapng capture/);
    const e = new CaptureStreamReader();
    assert.throws(() => e.end(), /not a capture: only 0 bytes/);
  });

  it('a corrupt record is reported where it is in the stream, after the good ones', () => {
    const bad = encodePcap(
      [
        { timestamp: { seconds: 1, nanoseconds: 0 }, data: new Uint8Array(20) },
        { timestamp: { seconds: 2, nanoseconds: 0 }, data: new Uint8Array(20) },
      ],
      { linkType: 101 },
    );
    new DataView(bad.buffer).setUint32(24 + 36 + 8, 300_000, true);
    const r = new CaptureStreamReader();
    assert.equal(r.push(bad).length, 1, 'the good record before it is returned');
    assert.ok(r.error?.detail.startsWith('pcap record at byte 60: captured length 300000'), r.error?.detail);
    assert.deepEqual(r.push(new Uint8Array(100)), [], 'nothing is read after the break');
    assert.equal(r.frameCount, 1);
  });
});
