import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Ipv4Fragment, Ipv4Reassembler } from '../../src/capture/ip-reassembly.js';
import { toHex } from '../../src/wire/bytes.js';

const DATA = Uint8Array.from({ length: 40 }, (_, i) => i);

function frag(offset: number, len: number, more: boolean, extra: Partial<Ipv4Fragment> = {}): Ipv4Fragment {
  return {
    source: '10.0.0.1',
    destination: '10.0.0.2',
    protocol: 47,
    identification: 7,
    offset,
    moreFragments: more,
    payload: DATA.slice(offset, offset + len),
    time: 0,
    tag: offset,
    ...extra,
  };
}

describe('IPv4 reassembly (RFC 791 §3.2)', () => {
  it('puts fragments back together in any order', () => {
    const orders = [
      [0, 1, 2],
      [2, 1, 0],
      [1, 2, 0],
    ];
    const parts = [frag(0, 16, true), frag(16, 16, true), frag(32, 8, false)];
    for (const order of orders) {
      const r = new Ipv4Reassembler();
      const results = order.map((i) => r.add(parts[i]!));
      assert.deepEqual(
        results.slice(0, 2).map((x) => x.kind),
        ['held', 'held'],
      );
      const last = results[2]!;
      assert.equal(last.kind, 'complete');
      if (last.kind !== 'complete') return;
      assert.equal(toHex(last.payload), toHex(DATA));
      assert.deepEqual(last.tags, [0, 16, 32]);
      assert.equal(last.overlapped, false);
      assert.equal(r.size, 0);
    }
  });

  it('keeps datagrams apart by source, destination, protocol and identification', () => {
    const r = new Ipv4Reassembler();
    r.add(frag(0, 16, true));
    assert.equal(r.add(frag(16, 24, false, { identification: 8 })).kind, 'held');
    assert.equal(r.add(frag(16, 24, false, { protocol: 6 })).kind, 'held');
    assert.equal(r.add(frag(16, 24, false, { source: '10.0.0.9' })).kind, 'held');
    assert.equal(r.add(frag(16, 24, false)).kind, 'complete');
  });

  it('overlapping fragments: the bytes that came first are kept, and it says so', () => {
    const r = new Ipv4Reassembler();
    r.add(frag(0, 24, true));
    const other = { ...frag(16, 24, false), payload: new Uint8Array(24).fill(0xee) };
    const res = r.add(other);
    assert.equal(res.kind, 'complete');
    if (res.kind !== 'complete') return;
    assert.equal(res.overlapped, true);
    assert.equal(toHex(res.payload.subarray(0, 24)), toHex(DATA.subarray(0, 24)));
    assert.ok(res.payload.subarray(24).every((b) => b === 0xee));
  });

  it('refuses what cannot be a fragment', () => {
    const r = new Ipv4Reassembler();
    assert.equal(
      r.add(frag(0, 12, true)).kind,
      'invalid',
      'MF set with a length that is not a multiple of 8',
    );
    assert.equal(
      r.add({ ...frag(65512, 8, false), payload: new Uint8Array(8) }).kind,
      'invalid',
      'past 65515',
    );
    r.add(frag(32, 8, false));
    assert.equal(r.add(frag(24, 8, false)).kind, 'invalid', 'two last fragments disagreeing on the length');
  });

  it('forgets datagrams older than the time-out, and bounds how many it holds', () => {
    const r = new Ipv4Reassembler({ timeoutSeconds: 30, maxDatagrams: 2 });
    r.add(frag(0, 16, true, { time: 0 }));
    assert.equal(r.add(frag(16, 24, false, { time: 31 })).kind, 'held', 'the first fragment expired');
    const b = new Ipv4Reassembler({ maxDatagrams: 2 });
    for (const id of [1, 2, 3]) b.add(frag(0, 16, true, { identification: id }));
    assert.equal(b.size, 2);
    assert.equal(b.add(frag(16, 24, false, { identification: 1 })).kind, 'held', 'datagram 1 was dropped');
    assert.equal(b.add(frag(16, 24, false, { identification: 3 })).kind, 'complete');
  });
});
