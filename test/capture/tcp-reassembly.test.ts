import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type TcpFlowKey,
  TcpReassembler,
  type TcpSegmentInput,
  type TcpStreamEvent,
} from '../../src/capture/tcp-reassembly.js';
import { assertNever, concatBytes, toHex, utf8 } from '../../src/wire/bytes.js';
import { prng } from '../fuzz/mutate.js';

const A: TcpFlowKey = {
  source: '10.0.0.1',
  sourcePort: 50000,
  destination: '10.0.0.2',
  destinationPort: 1723,
};
const B: TcpFlowKey = {
  source: '10.0.0.2',
  sourcePort: 1723,
  destination: '10.0.0.1',
  destinationPort: 50000,
};

function seg(
  flow: TcpFlowKey,
  seq: number,
  text = '',
  flags: Partial<TcpSegmentInput> = {},
): TcpSegmentInput {
  return {
    flow,
    sequenceNumber: seq >>> 0,
    syn: false,
    fin: false,
    rst: false,
    payload: utf8(text),
    ...flags,
  };
}

/** Compact view of events: "open", "data:abc", "gap:3", "close:fin". */
function show(events: readonly TcpStreamEvent[]): string[] {
  return events.map((e) => {
    switch (e.kind) {
      case 'open':
        return e.midStream ? 'open-mid' : 'open';
      case 'data':
        return `data:${new TextDecoder().decode(e.data)}`;
      case 'gap':
        return `gap:${e.missingBytes}`;
      case 'close':
        return `close:${e.reason}`;
      default:
        return assertNever(e, 'event');
    }
  });
}

describe('TCP reassembly', () => {
  it('delivers in-order data after a SYN (ISN + 1) and closes on FIN', () => {
    const r = new TcpReassembler();
    assert.deepEqual(show(r.push(seg(A, 1000, '', { syn: true })).events), ['open']);
    assert.deepEqual(show(r.push(seg(A, 1001, 'hello ')).events), ['data:hello ']);
    assert.deepEqual(show(r.push(seg(A, 1007, 'world', { fin: true })).events), ['data:world', 'close:fin']);
  });

  it('keeps the two directions apart', () => {
    const r = new TcpReassembler();
    r.push(seg(A, 1, '', { syn: true }));
    r.push(seg(B, 500, '', { syn: true }));
    const a = r.push(seg(A, 2, 'ab')).events;
    const b = r.push(seg(B, 501, 'xy')).events;
    assert.equal(a[0]!.kind === 'data' && a[0]!.flow, '10.0.0.1:50000 → 10.0.0.2:1723');
    assert.equal(b[0]!.kind === 'data' && b[0]!.flow, '10.0.0.2:1723 → 10.0.0.1:50000');
    assert.equal(r.flowCount, 2);
  });

  it('drops a full retransmission and delivers only the new tail of an overlap', () => {
    const r = new TcpReassembler();
    r.push(seg(A, 0, '', { syn: true }));
    r.push(seg(A, 1, 'abcd'));
    const dup = r.push(seg(A, 1, 'abcd'));
    assert.deepEqual(show(dup.events), []);
    assert.equal(dup.retransmittedBytes, 4);
    const overlap = r.push(seg(A, 3, 'cdef'));
    assert.deepEqual(show(overlap.events), ['data:ef']);
    assert.equal(overlap.retransmittedBytes, 2);
  });

  it('buffers out-of-order segments and releases them when the hole fills', () => {
    const r = new TcpReassembler();
    r.push(seg(A, 0, '', { syn: true }));
    const third = r.push(seg(A, 5, 'ef'));
    assert.equal(third.outOfOrder, true);
    assert.deepEqual(show(third.events), []);
    assert.deepEqual(show(r.push(seg(A, 3, 'cd')).events), []);
    assert.deepEqual(
      show(r.push(seg(A, 3, 'cd')).events),
      [],
      'a duplicate of a buffered segment is ignored',
    );
    assert.deepEqual(show(r.push(seg(A, 1, 'ab')).events), ['data:ab', 'data:cd', 'data:ef']);
  });

  it('a FIN that arrives early waits for the data before it', () => {
    const r = new TcpReassembler();
    r.push(seg(A, 0, '', { syn: true }));
    assert.deepEqual(show(r.push(seg(A, 3, '', { fin: true })).events), []);
    assert.deepEqual(show(r.push(seg(A, 1, 'ab')).events), ['data:ab', 'close:fin']);
    const late = r.push(seg(A, 1, 'ab'));
    assert.deepEqual(show(late.events), []);
    assert.equal(late.retransmittedBytes, 2);
  });

  it("returns each segment's tag with its bytes, even when they are delivered later", () => {
    const r = new TcpReassembler<number>();
    r.push({ ...seg(A, 0, '', { syn: true }), tag: 1 });
    assert.deepEqual(r.push({ ...seg(A, 3, 'cd'), tag: 2 }).events, []);
    const events = r.push({ ...seg(A, 1, 'ab'), tag: 3 }).events;
    assert.deepEqual(
      events.map((e) => (e.kind === 'data' ? [new TextDecoder().decode(e.data), e.tag] : e.kind)),
      [
        ['ab', 3],
        ['cd', 2],
      ],
    );
  });

  it('declares a hole lost at the end of the capture', () => {
    const r = new TcpReassembler();
    r.push(seg(A, 0, '', { syn: true }));
    r.push(seg(A, 1, 'ab'));
    r.push(seg(A, 6, 'fg'));
    assert.deepEqual(show(r.finish()), ['gap:3', 'data:fg']);
  });

  it('declares a hole lost when the out-of-order buffer is full (bounded memory)', () => {
    const r = new TcpReassembler({ maxBufferedSegmentsPerFlow: 2 });
    r.push(seg(A, 0, '', { syn: true }));
    r.push(seg(A, 10, 'x'));
    r.push(seg(A, 20, 'y'));
    assert.deepEqual(show(r.push(seg(A, 30, 'z')).events), ['gap:9', 'data:x']);
    const rb = new TcpReassembler({ maxBufferedBytesPerFlow: 5 });
    rb.push(seg(A, 0, '', { syn: true }));
    rb.push(seg(A, 3, 'cde'));
    assert.deepEqual(show(rb.push(seg(A, 6, 'fgh')).events), ['gap:2', 'data:cde', 'data:fgh']);
  });

  it('wraps sequence numbers modulo 2^32', () => {
    const r = new TcpReassembler();
    r.push(seg(A, 0xfffffffd, '', { syn: true }));
    assert.deepEqual(show(r.push(seg(A, 0xfffffffe, 'ab')).events), ['data:ab']);
    assert.deepEqual(show(r.push(seg(A, 2, 'de')).events), []);
    assert.deepEqual(show(r.push(seg(A, 0, 'xy')).events), ['data:xy', 'data:de']);
  });

  it('starts mid-stream at the first segment carrying data; bare ACKs of unknown flows are ignored', () => {
    const r = new TcpReassembler();
    assert.deepEqual(show(r.push(seg(A, 77)).events), []);
    assert.deepEqual(show(r.push(seg(A, 500, 'abc')).events), ['open-mid', 'data:abc']);
    assert.deepEqual(show(r.push(seg(A, 503, 'd')).events), ['data:d']);
  });

  it('a retransmitted SYN changes nothing; a new SYN with another ISN starts a new stream', () => {
    const r = new TcpReassembler();
    r.push(seg(A, 100, '', { syn: true }));
    r.push(seg(A, 101, 'ab'));
    assert.deepEqual(show(r.push(seg(A, 100, '', { syn: true })).events), []);
    r.push(seg(A, 103, '', { fin: true }));
    assert.deepEqual(show(r.push(seg(A, 9000, '', { syn: true })).events), ['open']);
    assert.deepEqual(show(r.push(seg(A, 9001, 'new')).events), ['data:new']);
  });

  it('RST closes the direction', () => {
    const r = new TcpReassembler();
    r.push(seg(A, 0, '', { syn: true }));
    r.push(seg(A, 1, 'ab'));
    assert.deepEqual(show(r.push(seg(A, 3, '', { rst: true })).events), ['close:rst']);
    assert.deepEqual(show(r.push(seg(A, 3, 'cd')).events), []);
  });

  it('forgets the least recently used direction beyond maxFlows', () => {
    const r = new TcpReassembler({ maxFlows: 2 });
    const k = (p: number): TcpFlowKey => ({ ...A, sourcePort: p });
    r.push(seg(k(1), 0, 'a'));
    r.push(seg(k(2), 0, 'a'));
    r.push(seg(k(1), 1, 'b')); // k(1) is now the most recent
    r.push(seg(k(3), 0, 'a')); // evicts k(2)
    assert.equal(r.flowCount, 2);
    assert.deepEqual(show(r.push(seg(k(1), 2, 'c')).events), ['data:c']);
    assert.deepEqual(show(r.push(seg(k(2), 1, 'b')).events), ['open-mid', 'data:b']);
  });

  it('property: any segmentation, reordering within the buffer and duplication reassembles the stream', () => {
    const rnd = prng(1723);
    for (let round = 0; round < 300; round++) {
      const n = 1 + Math.floor(rnd() * 400);
      const stream = new Uint8Array(n);
      for (let i = 0; i < n; i++) stream[i] = Math.floor(rnd() * 256);
      const isn = Math.floor(rnd() * 2 ** 32);
      // cut into segments, some overlapping their predecessor
      const segs: TcpSegmentInput[] = [];
      let off = 0;
      while (off < n) {
        const start = Math.max(0, off - (rnd() < 0.2 ? Math.floor(rnd() * 5) : 0));
        const end = Math.min(n, off + 1 + Math.floor(rnd() * 40));
        segs.push({ ...seg(A, isn + 1 + start), payload: stream.slice(start, end) });
        off = end;
      }
      // duplicate some, then shuffle locally (each moves by at most 5 places)
      const withDups = segs.flatMap((s) => (rnd() < 0.15 ? [s, s] : [s]));
      for (let i = 0; i < withDups.length; i++) {
        const j = Math.min(withDups.length - 1, i + Math.floor(rnd() * 5));
        [withDups[i], withDups[j]] = [withDups[j]!, withDups[i]!];
      }
      const r = new TcpReassembler();
      const out: Uint8Array[] = [];
      const collect = (evs: readonly TcpStreamEvent[]) => {
        for (const e of evs) {
          assert.notEqual(e.kind, 'gap', `round ${round}: no byte is ever lost here`);
          if (e.kind === 'data') out.push(e.data);
        }
      };
      collect(r.push(seg(A, isn, '', { syn: true })).events);
      for (const s of withDups) collect(r.push(s).events);
      collect(r.finish());
      assert.equal(toHex(concatBytes(...out)), toHex(stream), `round ${round}`);
    }
  });
});
