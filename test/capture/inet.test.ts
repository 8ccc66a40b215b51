import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeIpv4Packet,
  decodeIpv6Packet,
  decodeTcpSegment,
  decodeUdpDatagram,
  internetChecksum,
} from '../../src/capture/inet.js';
import { fromHex, ipv6ToString, toHex } from '../../src/wire/bytes.js';
import { assertWireError } from '../helpers/codec.js';

/** Writes a good checksum at `at` the slow, obvious way: sum 16-bit words, fold, complement. */
function naiveChecksum(words: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < words.length; i += 2) s += (words[i]! << 8) | (words[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

describe('Internet checksum', () => {
  it('RFC 1071 §3 numerical example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2', () => {
    assert.equal(internetChecksum([fromHex('0001f203f4f5f6f7')]), ~0xddf2 & 0xffff);
  });
  it('is the same over split parts with odd lengths', () => {
    const b = fromHex('0001f203f4f5f6f7ab');
    assert.equal(
      internetChecksum([b.subarray(0, 3), b.subarray(3, 4), b.subarray(4)]),
      internetChecksum([b]),
    );
    assert.equal(internetChecksum([b]), naiveChecksum(b));
  });
});

describe('IPv4', () => {
  // The header of the worked example in Wikipedia's "IPv4 header checksum"
  // article: checksum b861.
  const HDR = '4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7';

  it('decodes fields and verifies a good checksum', () => {
    const b = fromHex(`${HDR} ${'00'.repeat(0x73 - 20)}`);
    const p = decodeIpv4Packet(b);
    assert.equal(p.checksum, 0xb861);
    assert.equal(p.checksumStatus, 'good');
    assert.equal(p.source, '192.168.0.1');
    assert.equal(p.destination, '192.168.0.199');
    assert.equal(p.protocol, 17);
    assert.equal(p.ttl, 64);
    assert.equal(p.dontFragment, true);
    assert.equal(p.moreFragments, false);
    assert.equal(p.totalLength, 0x73);
    assert.equal(p.payload.length, 0x73 - 20);
    assert.equal(p.missing, 0);
  });

  it('an IPv4 checksum of 0 that does not verify was left to offload: unverified, not bad', () => {
    const b = fromHex(`${HDR} ${'00'.repeat(0x73 - 20)}`);
    b[10] = 0;
    b[11] = 0;
    const p = decodeIpv4Packet(b);
    assert.equal(p.checksumStatus, 'unverified');
    assert.equal(p.checksumOffload, 'not-computed');
    // Any other wrong value is bad, and a good one carries no offload remark.
    b[11] = 1;
    assert.equal(decodeIpv4Packet(b).checksumStatus, 'bad');
    assert.equal(decodeIpv4Packet(b).checksumOffload, undefined);
    assert.equal(decodeIpv4Packet(fromHex(`${HDR} ${'00'.repeat(0x73 - 20)}`)).checksumOffload, undefined);
  });

  it('reports a bad checksum instead of refusing the packet', () => {
    const b = fromHex(`${HDR} ${'00'.repeat(0x73 - 20)}`);
    b[11] = 0x62;
    assert.equal(decodeIpv4Packet(b).checksumStatus, 'bad');
  });

  it('cuts trailing bytes (Ethernet padding) and counts bytes the capture did not keep', () => {
    const b = fromHex(`4500 0018 0000 0000 4001 0000 0a000001 0a000002 01020304 0506`);
    const p = decodeIpv4Packet(b);
    assert.equal(toHex(p.payload), '01020304');
    const short = decodeIpv4Packet(b.subarray(0, 22));
    assert.equal(short.payload.length, 2);
    assert.equal(short.missing, 2);
  });

  it('reads options and fragment fields', () => {
    const b = fromHex('4600 0018 1234 2003 4001 0000 0a000001 0a000002 01010000');
    const p = decodeIpv4Packet(b);
    assert.equal(p.headerLength, 24);
    assert.equal(toHex(p.options), '01010000');
    assert.equal(p.moreFragments, true);
    assert.equal(p.fragmentOffset, 24);
    assert.equal(p.identification, 0x1234);
  });

  it('rejects what cannot be an IPv4 header', () => {
    const good = fromHex(`${HDR} ${'00'.repeat(0x73 - 20)}`);
    for (let n = 0; n < 20; n++) assertWireError(() => decodeIpv4Packet(good.subarray(0, n)));
    const v6 = good.slice();
    v6[0] = 0x65;
    assertWireError(() => decodeIpv4Packet(v6));
    const ihl4 = good.slice();
    ihl4[0] = 0x44;
    assertWireError(() => decodeIpv4Packet(ihl4));
    const ihl15 = good.slice(0, 40);
    ihl15[0] = 0x4f;
    assertWireError(() => decodeIpv4Packet(ihl15));
    const tl = good.slice();
    tl[2] = 0;
    tl[3] = 19;
    assertWireError(() => decodeIpv4Packet(tl));
  });
});

describe('IPv6', () => {
  it('formats addresses as RFC 5952 §4 says', () => {
    const cases: [string, string][] = [
      ['20010db8000000000000000000000001', '2001:db8::1'],
      ['20010db8000000010000000000000001', '2001:db8:0:1::1'], // §4.2.2: one 16-bit 0 field is not shortened... unless part of a longer run
      ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'], // §4.2.3: first of two equal runs
      ['20010db800000001000100010001 0001', '2001:db8:0:1:1:1:1:1'],
      ['00000000000000000000000000000000', '::'],
      ['00000000000000000000000000000001', '::1'],
      ['fe800000000000000211 22ff fe33 4455', 'fe80::211:22ff:fe33:4455'],
      ['00000000000000000000ffffc0000201', '::ffff:192.0.2.1'],
      ['20010DB8AAAABBBBCCCCDDDDEEEE0000', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:0'],
    ];
    for (const [hex, text] of cases) assert.equal(ipv6ToString(fromHex(hex)), text, hex);
  });

  it('walks extension headers to the upper-layer protocol', () => {
    // Hop-by-Hop (8 bytes) → Fragment (offset 0, M=1) → UDP
    const b = fromHex(
      `6000 0000 0018 0040 fe80${'00'.repeat(13)}01 ff02${'00'.repeat(13)}02
       2c00 0000 0000 0000  1100 0001 0000 abcd  0035 0035 0008 0000`,
    );
    const p = decodeIpv6Packet(b);
    assert.deepEqual(p.extensionHeaders, [0, 44]);
    assert.equal(p.protocol, 17);
    assert.deepEqual(p.fragment, { offset: 0, moreFragments: true, identification: 0xabcd });
    assert.equal(toHex(p.payload), '0035003500080000');
    assert.equal(p.hopLimit, 64);
    assert.equal(p.source, 'fe80::1');
    assert.equal(p.destination, 'ff02::2');
  });

  it('rejects an extension header running past the payload', () => {
    const b = fromHex(`6000 0000 0008 0040 ${'00'.repeat(32)} 1101 0000 0000 0000`);
    assertWireError(() => decodeIpv6Packet(b));
    for (let n = 0; n < 40; n++) assertWireError(() => decodeIpv6Packet(b.subarray(0, n)));
  });
});

describe('TCP and UDP', () => {
  const src = fromHex('0a000001');
  const dst = fromHex('0a000002');
  /** The pseudo-header (RFC 793 §3.1) followed by the segment, for the naive checksum. */
  const withPseudo = (proto: number, seg: Uint8Array) => {
    const ph = new Uint8Array(12 + seg.length);
    ph.set(src, 0);
    ph.set(dst, 4);
    ph[9] = proto;
    ph[10] = seg.length >> 8;
    ph[11] = seg.length & 0xff;
    ph.set(seg, 12);
    return ph;
  };

  it('TCP: fields, flags, options, payload and checksum status', () => {
    const seg = fromHex('c350 06bb 0000 0001 8000 0002 6012 ffff 0000 0000 0204 05b4 4142');
    const c = naiveChecksum(withPseudo(6, seg));
    seg[16] = c >> 8;
    seg[17] = c & 0xff;
    const t = decodeTcpSegment(seg, { sourceBytes: src, destinationBytes: dst });
    assert.equal(t.sourcePort, 50000);
    assert.equal(t.destinationPort, 1723);
    assert.equal(t.sequenceNumber, 1);
    assert.equal(t.acknowledgmentNumber, 0x80000002);
    assert.equal(t.headerLength, 24);
    assert.deepEqual(
      Object.entries(t.flags)
        .filter(([, v]) => v)
        .map(([k]) => k),
      ['syn', 'ack'],
    );
    assert.equal(toHex(t.options), '020405b4');
    assert.equal(toHex(t.payload), '4142');
    assert.equal(t.checksumStatus, 'good');
    seg[21] ^= 1;
    assert.equal(decodeTcpSegment(seg, { sourceBytes: src, destinationBytes: dst }).checksumStatus, 'bad');
    assert.equal(
      decodeTcpSegment(seg, { sourceBytes: src, destinationBytes: dst }, seg.length + 5).checksumStatus,
      'unverified',
    );
    for (let n = 0; n < 24; n++) assertWireError(() => decodeTcpSegment(seg.subarray(0, n)));
    const off4 = seg.slice();
    off4[12] = 0x40;
    assertWireError(() => decodeTcpSegment(off4));
  });

  /** What Linux leaves in the field for CHECKSUM_PARTIAL: the pseudo-header words summed and folded, not complemented. */
  const partialSum = (proto: number, length: number): number => {
    const ph = withPseudo(proto, new Uint8Array(length)).subarray(0, 12);
    return ~naiveChecksum(ph) & 0xffff;
  };

  it('TCP and UDP: a checksum that is the pseudo-header sum alone was left to offload: unverified', () => {
    const seg = fromHex('c350 06bb 00000001 80000002 6012 faf0 0000 0000 020405b4 4142');
    const field = partialSum(6, seg.length);
    seg[16] = field >> 8;
    seg[17] = field & 0xff;
    const t = decodeTcpSegment(seg, { sourceBytes: src, destinationBytes: dst });
    assert.equal(t.checksumStatus, 'unverified');
    assert.equal(t.checksumOffload, 'partial');
    seg[17] ^= 1; // one off: an ordinary bad checksum
    const bad = decodeTcpSegment(seg, { sourceBytes: src, destinationBytes: dst });
    assert.equal(bad.checksumStatus, 'bad');
    assert.equal(bad.checksumOffload, undefined);
    const d = fromHex('d431 0035 000b 0000 616263');
    const u = partialSum(17, 11);
    d[6] = u >> 8;
    d[7] = u & 0xff;
    const udp = decodeUdpDatagram(d, { sourceBytes: src, destinationBytes: dst });
    assert.equal(udp.checksumStatus, 'unverified');
    assert.equal(udp.checksumOffload, 'partial');
  });

  it('UDP: length, payload, checksum (none / good / bad)', () => {
    const d = fromHex('d431 0035 000b 0000 616263 ffff');
    assert.equal(decodeUdpDatagram(d, { sourceBytes: src, destinationBytes: dst }).checksumStatus, 'none');
    const c = naiveChecksum(withPseudo(17, d.subarray(0, 11)));
    d[6] = c >> 8;
    d[7] = c & 0xff;
    const u = decodeUdpDatagram(d, { sourceBytes: src, destinationBytes: dst });
    assert.equal(u.checksumStatus, 'good');
    assert.equal(u.length, 11);
    assert.equal(toHex(u.payload), '616263');
    assert.equal(u.sourcePort, 54321);
    d[8] = 0x62;
    assert.equal(decodeUdpDatagram(d, { sourceBytes: src, destinationBytes: dst }).checksumStatus, 'bad');
    const lenient = decodeUdpDatagram(d.subarray(0, 9));
    assert.equal(lenient.missing, 2);
    const small = d.slice();
    small[5] = 7;
    assertWireError(() => decodeUdpDatagram(small));
  });
});
