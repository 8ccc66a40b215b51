import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromHex, parseIpv4, toHex } from '../../src/wire/bytes.js';
import { WireErrorCode } from '../../src/wire/errors.js';
import {
  decodeIpv4Packet,
  encodeIpv4Header,
  encodeIpv4Packet,
  IpProtocol,
  type Ipv4Packet,
  Ipv4View,
  internetChecksum,
  ipv4PacketLength,
  writeIpv4Header,
} from '../../src/wire/ipv4.js';
import { assertWireError, codecSuite } from '../helpers/codec.js';

const ip = (s: string) => parseIpv4(s)!;

// Hex from scapy 2.5 (an independent encoder, checksum computed by scapy);
// see test/vectors/README.md "Data path".
codecSuite<Ipv4Packet>(
  'IPv4 header (RFC 791 §3.1)',
  { decode: decodeIpv4Packet, encode: encodeIpv4Packet, length: ipv4PacketLength },
  [
    {
      name: 'outer header of a GRE packet: DF, TTL 64, protocol 47',
      hex: '450000201c464000402f322dc0000201c63364073081880b0000123400000005',
      value: {
        typeOfService: 0,
        identification: 0x1c46,
        dontFragment: true,
        moreFragments: false,
        fragmentOffset: 0,
        timeToLive: 64,
        protocol: IpProtocol.Gre,
        sourceAddress: ip('192.0.2.1'),
        destinationAddress: ip('198.51.100.7'),
        options: new Uint8Array(0),
        payload: fromHex('3081880b0000123400000005'),
      },
    },
    {
      name: 'IHL 6 with a Router Alert option, TOS 0xb8, TTL 1, UDP',
      hex: '46b8001cbeef0000011151230a0000010a00000294040000deadbeef',
      value: {
        typeOfService: 0xb8,
        identification: 0xbeef,
        dontFragment: false,
        moreFragments: false,
        fragmentOffset: 0,
        timeToLive: 1,
        protocol: IpProtocol.Udp,
        sourceAddress: ip('10.0.0.1'),
        destinationAddress: ip('10.0.0.2'),
        options: fromHex('94040000'),
        payload: fromHex('deadbeef'),
      },
    },
    {
      name: 'a fragment: MF, offset 185 (1480 bytes), TTL 255, ICMP',
      hex: '4500001c010120b9ff0137f9ac100504ac1005090800f7ff00000000',
      value: {
        typeOfService: 0,
        identification: 0x0101,
        dontFragment: false,
        moreFragments: true,
        fragmentOffset: 185,
        timeToLive: 255,
        protocol: IpProtocol.Icmp,
        sourceAddress: ip('172.16.5.4'),
        destinationAddress: ip('172.16.5.9'),
        options: new Uint8Array(0),
        payload: fromHex('0800f7ff00000000'),
      },
    },
  ],
  {
    // Total Length one more than present (the checksum is checked after the lengths).
    lie: (b) => {
      b[3] = b[3]! + 1;
      return b;
    },
  },
);

const GOOD = '450000201c464000402f322dc0000201c63364073081880b0000123400000005';

/** Applies `edit` to a copy of GOOD and fixes the checksum, so only the edited field is wrong. */
function variant(edit: (b: Uint8Array) => void, fixChecksum = true): Uint8Array {
  const b = fromHex(GOOD);
  edit(b);
  if (fixChecksum) {
    b[10] = 0;
    b[11] = 0;
    const hl = (b[0]! & 0x0f) * 4;
    const s = internetChecksum(b, 0, Math.min(hl, b.length));
    b[10] = s >>> 8;
    b[11] = s & 0xff;
  }
  return b;
}

describe('IPv4 validation', () => {
  it('accepts the unmodified packet', () => {
    assert.equal(Ipv4View.check(fromHex(GOOD)).totalLength, 32);
  });
  it('rejects a wrong header checksum', () => {
    const e = assertWireError(() => decodeIpv4Packet(variant((b) => (b[11] = b[11]! ^ 1), false)));
    assert.equal(e.code, WireErrorCode.BadChecksum);
  });
  it('rejects a changed field whose checksum was not updated (TTL decremented)', () => {
    const e = assertWireError(() => decodeIpv4Packet(variant((b) => (b[8] = 63), false)));
    assert.equal(e.code, WireErrorCode.BadChecksum);
  });
  it('rejects version 6', () => {
    const e = assertWireError(() => decodeIpv4Packet(variant((b) => (b[0] = 0x65))));
    assert.equal(e.code, WireErrorCode.BadVersion);
  });
  it('rejects IHL < 5', () => {
    for (const ihl of [0, 1, 4]) {
      const e = assertWireError(() => decodeIpv4Packet(variant((b) => (b[0] = 0x40 | ihl), false)));
      assert.equal(e.code, WireErrorCode.LengthTooSmall);
    }
  });
  it('rejects IHL beyond the bytes present', () => {
    const e = assertWireError(() =>
      decodeIpv4Packet(
        fromHex(GOOD)
          .subarray(0, 24)
          .map((x, i) => (i === 0 ? 0x4f : x)),
      ),
    );
    assert.equal(e.code, WireErrorCode.Truncated);
  });
  it('rejects Total Length below the header length', () => {
    const e = assertWireError(() => decodeIpv4Packet(variant((b) => (b[3] = 19))));
    assert.equal(e.code, WireErrorCode.LengthTooSmall);
  });
  it('rejects the reserved flag', () => {
    const e = assertWireError(() => decodeIpv4Packet(variant((b) => (b[6] = b[6]! | 0x80))));
    assert.equal(e.code, WireErrorCode.BadFlags);
  });
  it('accepts a header that is exactly the packet (empty payload)', () => {
    const p = decodeIpv4Packet(variant((b) => (b[3] = 20)).subarray(0, 20));
    assert.equal(p.payload.length, 0);
  });
});

describe('IPv4 in-place encoding', () => {
  it('writes the header in front of a payload already in the buffer, leaving the payload untouched', () => {
    const payload = fromHex('3081880b0000123400000005');
    const buf = new Uint8Array(40).fill(0xa5);
    buf.set(payload, 28);
    const hdr = decodeIpv4Packet(fromHex(GOOD));
    const n = encodeIpv4Header(hdr, payload.length, buf, 8);
    assert.equal(n, 20);
    assert.equal(toHex(buf.subarray(8, 40)), GOOD);
    assert.ok(buf.subarray(0, 8).every((x) => x === 0xa5));
  });
  it('checksum of a header with a correct checksum field is zero; the checksum matches an independent sum', () => {
    const b = fromHex(GOOD);
    assert.equal(internetChecksum(b, 0, 20), 0);
    // Naive reference: add 16-bit words with BigInt and fold (RFC 1071 §1).
    let s = 0n;
    for (let i = 0; i < 20; i += 2) if (i !== 10) s += BigInt((b[i]! << 8) | b[i + 1]!);
    while (s > 0xffffn) s = (s & 0xffffn) + (s >> 16n);
    assert.equal(Number(~s & 0xffffn), (b[10]! << 8) | b[11]!);
  });
  it('refuses options that are not a multiple of 4 bytes or longer than 40', () => {
    const hdr = decodeIpv4Packet(fromHex(GOOD));
    assert.throws(() => encodeIpv4Packet({ ...hdr, options: new Uint8Array(3) }), RangeError);
    assert.throws(() => encodeIpv4Packet({ ...hdr, options: new Uint8Array(44) }), RangeError);
  });
  it('a reused view follows the newest packet', () => {
    const v = Ipv4View.check(fromHex(GOOD));
    const other = fromHex('4500001c010120b9ff0137f9ac100504ac1005090800f7ff00000000');
    assert.equal(Ipv4View.check(other, v), v);
    assert.equal(v.protocol, IpProtocol.Icmp);
    assert.equal(v.payloadEnd - v.payloadStart, 8);
  });
  it('checks a packet at an offset inside a larger buffer', () => {
    const big = new Uint8Array(100).fill(0xee);
    big.set(fromHex(GOOD), 30);
    const v = Ipv4View.check(big, undefined, 30, 30 + 40);
    assert.equal(v.payloadStart, 50);
    assert.equal(v.payloadEnd, 62);
    assert.equal(toHex(v.payload), '3081880b0000123400000005');
  });
});

describe('writeIpv4Header (transmit hot path)', () => {
  it('writes the same bytes as encodeIpv4Header for many field values', () => {
    const addrs = [0, 1, 0x7f000001, 0xc0a80001, 0xffffffff, 0x80000000];
    for (const src of addrs) {
      for (const dst of addrs) {
        for (const [id, df, ttl, len] of [
          [0, true, 64, 1400],
          [0xffff, false, 255, 0],
          [0x1234, true, 1, 65515],
        ] as const) {
          const a = new Uint8Array(20).fill(0xa5);
          const b = new Uint8Array(20).fill(0xa5);
          encodeIpv4Header(
            {
              typeOfService: 0,
              identification: id,
              dontFragment: df,
              moreFragments: false,
              fragmentOffset: 0,
              timeToLive: ttl,
              protocol: IpProtocol.Gre,
              sourceAddress: src,
              destinationAddress: dst,
              options: new Uint8Array(0),
            },
            len,
            a,
            0,
          );
          assert.equal(writeIpv4Header(b, 0, len, id, df, ttl, IpProtocol.Gre, src, dst), 20);
          assert.equal(toHex(b), toHex(a));
          assert.equal(internetChecksum(b, 0, 20), 0);
        }
      }
    }
  });
});
