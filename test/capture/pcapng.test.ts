import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openCapture } from '../../src/capture/open.js';
import { PcapngReader } from '../../src/capture/pcapng.js';
import type { CapturedPacket } from '../../src/capture/types.js';
import { concatBytes, fromHex, toHex } from '../../src/wire/bytes.js';
import { WireError } from '../../src/wire/errors.js';
import { assertWireError } from '../helpers/codec.js';

/**
 * A minimal pcapng block builder for the tests, written from
 * draft-ietf-opsawg-pcapng §3.1 (not from the reader): type, total length,
 * body padded to 4, total length again, in the chosen byte order.
 */
function block(type: number, body: Uint8Array, le = true): Uint8Array {
  const padded = (body.length + 3) & ~3;
  const out = new Uint8Array(12 + padded);
  const v = new DataView(out.buffer);
  v.setUint32(0, type, le);
  v.setUint32(4, out.length, le);
  out.set(body, 8);
  v.setUint32(out.length - 4, out.length, le);
  return out;
}
function u32s(le: boolean, ...xs: number[]): Uint8Array {
  const out = new Uint8Array(4 * xs.length);
  const v = new DataView(out.buffer);
  for (const [i, x] of xs.entries()) v.setUint32(4 * i, x, le);
  return out;
}
function option(code: number, value: Uint8Array, le = true): Uint8Array {
  const out = new Uint8Array(4 + ((value.length + 3) & ~3));
  const v = new DataView(out.buffer);
  v.setUint16(0, code, le);
  v.setUint16(2, value.length, le);
  out.set(value, 4);
  return out;
}
function shb(le = true): Uint8Array {
  const body = new Uint8Array(16);
  const v = new DataView(body.buffer);
  v.setUint32(0, 0x1a2b3c4d, le);
  v.setUint16(4, 1, le);
  v.setUint16(6, 0, le);
  v.setInt32(8, -1, le); // Section Length -1: not given
  v.setInt32(12, -1, le);
  return block(0x0a0d0d0a, body, le);
}
function idb(linkType: number, snapLength: number, opts: Uint8Array[] = [], le = true): Uint8Array {
  const head = new Uint8Array(8);
  const v = new DataView(head.buffer);
  v.setUint16(0, linkType, le);
  v.setUint32(4, snapLength, le);
  const end = opts.length ? [option(0, new Uint8Array(0), le)] : [];
  return block(1, concatBytes(head, ...opts, ...end), le);
}
function epb(iface: number, ticks: bigint, data: Uint8Array, orig = data.length, le = true): Uint8Array {
  return block(
    6,
    concatBytes(u32s(le, iface, Number(ticks >> 32n), Number(ticks & 0xffffffffn), data.length, orig), data),
    le,
  );
}

function readAll(bytes: Uint8Array): { packets: CapturedPacket[]; error?: WireError } {
  const packets: CapturedPacket[] = [];
  try {
    for (const p of openCapture(bytes)) packets.push(p);
  } catch (e) {
    if (e instanceof WireError) return { packets, error: e };
    throw e;
  }
  return { packets };
}

describe('pcapng reader', () => {
  it('reads a section with one interface and packets (µs default resolution)', () => {
    const file = concatBytes(
      shb(),
      idb(1, 65535, [option(2, new TextEncoder().encode('eth0'))]),
      epb(0, 1_700_000_000_123_456n, fromHex('0102030405')),
    );
    const r = openCapture(file);
    assert.equal(r.format, 'pcapng');
    const packets = [...r];
    assert.deepEqual(r.interfaces, [{ linkType: 1, snapLength: 65535, fcsLength: 0, name: 'eth0' }]);
    assert.equal(packets.length, 1);
    const p = packets[0]!;
    assert.deepEqual(p.timestamp, { seconds: 1_700_000_000, nanoseconds: 123_456_000 });
    assert.equal(toHex(p.data), '0102030405');
    assert.equal(p.linkType, 1);
    assert.equal(p.originalLength, 5);
  });

  it('reads big-endian sections the same way', () => {
    const le = concatBytes(shb(true), idb(101, 0, [], true), epb(0, 42n, fromHex('aabbcc'), 9, true));
    const be = concatBytes(shb(false), idb(101, 0, [], false), epb(0, 42n, fromHex('aabbcc'), 9, false));
    const a = readAll(le).packets;
    const b = readAll(be).packets;
    assert.equal(b.length, 1);
    assert.deepEqual(
      b,
      a.map((p) => ({ ...p, data: b[0]!.data })),
    );
    assert.equal(toHex(b[0]!.data), 'aabbcc');
  });

  it('honours if_tsresol (powers of 10 and of 2) and if_tsoffset', () => {
    const off = new Uint8Array(8);
    new DataView(off.buffer).setBigInt64(0, 100n, true);
    const file = concatBytes(
      shb(),
      idb(1, 0, [option(9, fromHex('09'))]), // nanoseconds
      idb(1, 0, [option(9, fromHex('83')), option(14, off)]), // 2^-3 s, +100 s
      epb(0, 5_000_000_007n, new Uint8Array(0)),
      epb(1, 13n, new Uint8Array(0)), // 13/8 s = 1.625 s, +100
    );
    const ts = readAll(file).packets.map((p) => [p.interfaceId, p.timestamp]);
    assert.deepEqual(ts, [
      [0, { seconds: 5, nanoseconds: 7 }],
      [1, { seconds: 101, nanoseconds: 625_000_000 }],
    ]);
  });

  it('reads if_fcslen (bits) as bytes', () => {
    const file = concatBytes(shb(), idb(1, 0, [option(13, fromHex('20'))]), epb(0, 0n, fromHex('00')));
    assert.equal(readAll(file).packets[0]!.fcsLength, 4);
  });

  it('numbers interfaces across sections and resets the section-local IDs', () => {
    const file = concatBytes(
      shb(),
      idb(1, 0),
      epb(0, 0n, fromHex('01')),
      shb(false),
      idb(113, 0, [], false),
      epb(0, 0n, fromHex('02'), 1, false),
    );
    const { packets } = readAll(file);
    assert.deepEqual(
      packets.map((p) => [p.frameNumber, p.interfaceId, p.linkType]),
      [
        [1, 0, 1],
        [2, 1, 113],
      ],
    );
  });

  it('skips blocks it does not need (NRB, ISB, custom) and reads SPBs and obsolete PBs', () => {
    const spb = block(3, concatBytes(u32s(true, 6), fromHex('aabbccddeeff'))); // original length 6
    const pb = block(2, concatBytes(fromHex('0000 0000'), u32s(true, 0, 1_000_000, 2, 2), fromHex('1234')));
    const file = concatBytes(
      shb(),
      block(4, fromHex('0000 0000')), // empty NRB
      idb(1, 4), // snap length 4: the SPB's packet is cut to it
      block(5, new Uint8Array(12)), // ISB
      block(0x40000bad, fromHex('01020304')),
      spb,
      pb,
    );
    const { packets, error } = readAll(file);
    assert.equal(error, undefined);
    assert.deepEqual(
      packets.map((p) => [toHex(p.data), p.originalLength, p.timestamp.seconds]),
      [
        ['aabbccdd', 6, 0],
        ['1234', 2, 1],
      ],
    );
  });

  it('rejects a packet on an interface that was never described', () => {
    const { packets, error } = readAll(concatBytes(shb(), idb(1, 0), epb(1, 0n, fromHex('01'))));
    assert.equal(packets.length, 0);
    assert.match(error!.message, /interface 1/);
  });

  it('rejects block lengths that lie: not a multiple of 4, trailer mismatch, past the end, too small', () => {
    const good = concatBytes(shb(), idb(1, 0), epb(0, 0n, fromHex('01020304')));
    const epbAt = good.length - 36;
    const bad = (mutate: (b: Uint8Array) => void) => {
      const b = good.slice();
      mutate(b);
      return readAll(b);
    };
    const lengths = [
      (b: Uint8Array) => {
        b[epbAt + 4] = 35;
      },
      (b: Uint8Array) => {
        b[b.length - 4] = 40;
      },
      (b: Uint8Array) => {
        b[epbAt + 4] = 40;
      },
      (b: Uint8Array) => {
        b[epbAt + 4] = 28;
        b[epbAt + 28 - 4] = 28;
      },
      (b: Uint8Array) => {
        b[epbAt + 20] = 9; // captured length 9 > the 4 bytes the block holds
      },
    ];
    for (const m of lengths) {
      const { packets, error } = bad(m);
      assert.equal(packets.length, 0);
      assert.ok(error instanceof WireError);
    }
  });

  it('every truncation of a valid file yields the complete packets, then an error or the end', () => {
    const file = concatBytes(shb(), idb(1, 0), epb(0, 1n, fromHex('01')), epb(0, 2n, fromHex('0203')));
    const ends = new Set<number>();
    let off = 0;
    for (const n of [shb().length, idb(1, 0).length, 36, 36]) {
      off += n;
      ends.add(off);
    }
    for (let n = 0; n <= file.length; n++) {
      const prefix = file.subarray(0, n);
      let result: { packets: CapturedPacket[]; error?: WireError };
      try {
        result = readAll(prefix);
      } catch (e) {
        assert.ok(e instanceof WireError, `prefix ${n}: ${String(e)}`);
        continue;
      }
      if (ends.has(n)) assert.equal(result.error, undefined, `prefix ${n} ends on a block boundary`);
      else assert.ok(result.error || n === 0, `prefix ${n} should report the cut`);
    }
  });

  it('rejects a bad byte-order magic and a major version other than 1', () => {
    const a = shb();
    a[8] = 0;
    assertWireError(() => new PcapngReader(a));
    const b = shb();
    b[12] = 2;
    assertWireError(() => new PcapngReader(b));
  });
});
