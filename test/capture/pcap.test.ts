import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openCapture } from '../../src/capture/open.js';
import { decodePcapFileHeader, encodePcap, PcapReader, PcapWriter } from '../../src/capture/pcap.js';
import type { CapturedPacket } from '../../src/capture/types.js';
import { concatBytes, fromHex, toHex } from '../../src/wire/bytes.js';
import { WireError } from '../../src/wire/errors.js';
import { assertWireError } from '../helpers/codec.js';

/** Collects packets until the iterator ends or throws; returns both. */
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

// A little-endian microsecond file as tcpdump writes it on x86 (magic
// d4 c3 b2 a1, version 2.4, snaplen 262144, LINKTYPE_RAW 101), with one
// 4-byte record at 1.000002 s (original length 60) and one at 2.5 s.
// Checked against Wireshark 4.0: `editcap -F pcap` rewrites it byte for byte,
// and tshark reads frame.time_epoch 1.000002 / 2.5, frame.len 60 / 2.
const LE_USEC = fromHex(`
  d4 c3 b2 a1 02 00 04 00 00 00 00 00 00 00 00 00 00 00 04 00 65 00 00 00
  01 00 00 00 02 00 00 00 04 00 00 00 3c 00 00 00 45 00 00 3c
  02 00 00 00 20 a1 07 00 02 00 00 00 02 00 00 00 aa bb`);

// The same records written big-endian with nanosecond stamps (magic a1 b2 3c 4d).
const BE_NSEC = fromHex(`
  a1 b2 3c 4d 00 02 00 04 00 00 00 00 00 00 00 00 00 04 00 00 00 00 00 65
  00 00 00 01 00 00 07 d0 00 00 00 04 00 00 00 3c 45 00 00 3c
  00 00 00 02 1d cd 65 00 00 00 00 02 00 00 00 02 aa bb`);

describe('pcap reader', () => {
  it('reads a little-endian microsecond file', () => {
    const r = openCapture(LE_USEC);
    assert.equal(r.format, 'pcap');
    assert.deepEqual(r.interfaces, [{ linkType: 101, snapLength: 262144, fcsLength: 0 }]);
    const { packets, error } = readAll(LE_USEC);
    assert.equal(error, undefined);
    assert.equal(packets.length, 2);
    assert.deepEqual(
      packets.map((p) => [p.frameNumber, p.timestamp, p.originalLength, toHex(p.data)]),
      [
        [1, { seconds: 1, nanoseconds: 2000 }, 60, '4500003c'],
        [2, { seconds: 2, nanoseconds: 500_000_000 }, 2, 'aabb'],
      ],
    );
  });

  it('reads a big-endian nanosecond file to the same packets', () => {
    const h = decodePcapFileHeader(BE_NSEC);
    assert.equal(h.littleEndian, false);
    assert.equal(h.nanosecond, true);
    const a = readAll(LE_USEC).packets;
    const b = readAll(BE_NSEC).packets;
    assert.deepEqual(
      b.map((p) => [p.timestamp, toHex(p.data)]),
      a.map((p) => [p.timestamp, toHex(p.data)]),
    );
  });

  it('reads the "modified" format with 24-byte record headers', () => {
    const m = fromHex(`
      34 cd b2 a1 02 00 04 00 00 00 00 00 00 00 00 00 ff ff 00 00 01 00 00 00
      05 00 00 00 06 00 00 00 02 00 00 00 02 00 00 00 03 00 00 00 00 08 00 00 12 34`);
    const { packets, error } = readAll(m);
    assert.equal(error, undefined);
    assert.equal(packets.length, 1);
    assert.equal(toHex(packets[0]!.data), '1234');
    assert.deepEqual(packets[0]!.timestamp, { seconds: 5, nanoseconds: 6000 });
  });

  it('takes the link type from the low 16 bits and the FCS length from the top bits', () => {
    const h = fromHex('d4 c3 b2 a1 02 00 04 00 00 00 00 00 00 00 00 00 00 00 04 00 01 00 00 24');
    // 0x24000001: FCS length 2 words (bits 28-31), P bit 26 set, link type 1.
    const hdr = decodePcapFileHeader(h);
    assert.equal(hdr.linkType, 1);
    assert.equal(hdr.fcsLength, 4);
  });

  it('carries a microsecond field ≥ 1 s into the seconds', () => {
    const b = LE_USEC.slice();
    b.set([0x40, 0x42, 0x0f, 0x00], 28); // 1 000 000 µs
    assert.deepEqual(readAll(b).packets[0]!.timestamp, { seconds: 2, nanoseconds: 0 });
  });

  it('yields the good records, then fails where the file is cut short', () => {
    for (let n = 24; n < LE_USEC.length; n++) {
      const { packets, error } = readAll(LE_USEC.subarray(0, n));
      const full = n >= 24 + 16 + 4 ? 1 : 0;
      assert.equal(packets.length, full, `cut at ${n}`);
      if (n === 24 || n === 44) assert.equal(error, undefined, `cut at ${n} is a record boundary`);
      else assert.ok(error, `cut at ${n} must report an error`);
    }
  });

  it('refuses a captured length above 256 KiB instead of swallowing the file', () => {
    const b = LE_USEC.slice();
    b.set([0x01, 0x00, 0x10, 0x00], 32); // 0x100001
    const { packets, error } = readAll(b);
    assert.equal(packets.length, 0);
    assert.match(error!.message, /captured length/);
  });

  it('rejects bad magic, short headers and other major versions', () => {
    assertWireError(() => openCapture(fromHex('00 01 02 03 04 05')));
    assertWireError(() => openCapture(new Uint8Array(0)));
    assertWireError(() => openCapture(LE_USEC.subarray(0, 20)));
    const v3 = LE_USEC.slice();
    v3[4] = 3;
    assertWireError(() => openCapture(v3));
  });

  it('reports an original length below the captured one as the captured one', () => {
    const b = LE_USEC.slice();
    b.set([0, 0, 0, 0], 36);
    assert.equal(readAll(b).packets[0]!.originalLength, 4);
  });
});

describe('pcap writer', () => {
  const packets = [
    { timestamp: { seconds: 1, nanoseconds: 2000 }, data: fromHex('4500003c'), originalLength: 60 },
    { timestamp: { seconds: 2, nanoseconds: 500_000_000 }, data: fromHex('aabb') },
  ];

  it('writes byte-for-byte what editcap writes (little-endian, µs)', () => {
    assert.equal(toHex(encodePcap(packets, { linkType: 101 })), toHex(LE_USEC));
  });

  it('writes big-endian nanosecond files', () => {
    assert.equal(
      toHex(encodePcap(packets, { linkType: 101, bigEndian: true, nanosecond: true })),
      toHex(BE_NSEC),
    );
  });

  it('round-trips nanosecond stamps and cuts packets to the snap length', () => {
    const w = new PcapWriter({ linkType: 1, snapLength: 3, nanosecond: true });
    const bytes = concatBytes(
      w.fileHeader(),
      w.record({ timestamp: { seconds: 7, nanoseconds: 123456789 }, data: fromHex('0102030405') }),
    );
    const r = new PcapReader(bytes);
    const [p] = [...r];
    assert.deepEqual(p!.timestamp, { seconds: 7, nanoseconds: 123456789 });
    assert.equal(toHex(p!.data), '010203');
    assert.equal(p!.originalLength, 5);
    assert.equal(r.interfaces[0]!.snapLength, 3);
  });

  it('truncates nanoseconds to microseconds in a µs file', () => {
    const bytes = encodePcap(
      [{ timestamp: { seconds: 0, nanoseconds: 999_999_999 }, data: new Uint8Array(0) }],
      {
        linkType: 1,
      },
    );
    assert.deepEqual([...openCapture(bytes)][0]!.timestamp, { seconds: 0, nanoseconds: 999_999_000 });
  });
});
