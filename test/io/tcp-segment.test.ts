/**
 * io/tcp-segment.ts: the virtio-net header codec, the Internet checksum
 * over large buffers, completing partial checksums, and GSO segmentation.
 * Oracles: a naive byte-loop checksum, packets built field by field from
 * the RFC diagrams (test/helpers/inet-packets.ts), and tshark, which
 * re-verifies every IPv4 and TCP checksum of the segments we produce.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LinkType } from '../../src/capture/link.js';
import { encodePcap } from '../../src/capture/pcap.js';
import {
  checksumAdd,
  completeChecksum,
  decodeVirtioNetHdr,
  encodeVirtioNetHdr,
  GSO_MAX_HEADER_LENGTH,
  gsoSegment,
  inspectGso,
  newGsoLayout,
  TCP_FLAG,
  VirtioNetGso,
  type VirtioNetHdr,
  VirtioNetHdrFlag,
  virtioNetHdrLength,
} from '../../src/io/tcp-segment.js';
import { toHex } from '../../src/wire/bytes.js';
import { assertWireError, codecSuite } from '../helpers/codec.js';
import {
  checksumsOk,
  type FlowSpec,
  naiveSum,
  patternBytes,
  type TcpSpec,
  tcpPacket,
  timestampOption,
  udpPacket,
  V4_FLOW,
  V6_FLOW,
} from '../helpers/inet-packets.js';
import { requireTools } from '../helpers/tools.js';
import { tsharkPackets } from '../helpers/tshark.js';

codecSuite(
  'virtio_net_hdr',
  { decode: decodeVirtioNetHdr, encode: encodeVirtioNetHdr, length: virtioNetHdrLength },
  [
    {
      name: 'a TCPv4 super-packet as TUN hands it over',
      // flags NEEDS_CSUM, gso TCPV4, hdr_len 1514 (TUN reports its linear length), gso_size 1448, csum_start 20, csum_offset 16
      hex: '01 01 ea 05 a8 05 14 00 10 00',
      value: { flags: 1, gsoType: 1, hdrLen: 1514, gsoSize: 1448, csumStart: 20, csumOffset: 16 },
    },
    {
      name: 'a plain packet',
      hex: '00 00 00 00 00 00 00 00 00 00',
      value: { flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 },
    },
    {
      name: 'UDP_L4 over IPv6 with ECN bit set in the type byte',
      hex: '01 85 30 00 e8 03 28 00 06 00',
      value: { flags: 1, gsoType: 0x85, hdrLen: 48, gsoSize: 1000, csumStart: 40, csumOffset: 6 },
    },
  ],
);

describe('checksumAdd (RFC 1071) against a naive byte-pair loop', () => {
  it('agrees on random ranges, alignments, lengths and initial sums', () => {
    const buf = patternBytes(9000, 7);
    let rnd = 12345;
    const next = (n: number) => {
      rnd = (Math.imul(rnd, 1103515245) + 12345) >>> 0;
      return rnd % n;
    };
    for (let t = 0; t < 4000; t++) {
      const base = next(5); // views that do not start at byte 0 of the buffer
      const view = buf.subarray(base);
      const off = next(200);
      const len = t < 200 ? t : next(8000 - off);
      const initial = next(0x10000);
      const got = checksumAdd(view, off, len, initial);
      const want = naiveSum(view.subarray(off, off + len), initial);
      // 0 and 0xffff are the same number in one's complement; only an all-zero input gives 0.
      assert.equal(got === 0 ? 0xffff : got, want === 0 ? 0xffff : want, `off ${base}+${off} len ${len}`);
    }
  });

  it('the sum of a buffer that includes its own correct checksum is 0xffff', () => {
    const p = tcpPacket(V4_FLOW, { seq: 1, ack: 2, flags: TCP_FLAG.ACK, payload: patternBytes(1333, 3) });
    assert.equal(checksumAdd(p, 0, 20), 0xffff);
    assert.ok(checksumsOk(p));
  });
});

/** A super-packet as the kernel writes it to a TUN: partial checksum (pseudo-header sum in the field). */
function superPacket(f: FlowSpec, t: TcpSpec): Uint8Array {
  const p = tcpPacket(f, t);
  const thoff = f.version === 4 ? 20 : 40;
  const l4 = p.length - thoff;
  const ps =
    f.version === 4
      ? naiveSum([...p.subarray(12, 20), 0, 6, l4 >> 8, l4 & 0xff])
      : naiveSum([...p.subarray(8, 40), 0, 0, l4 >> 8, l4 & 0xff, 0, 0, 0, 6]);
  p[thoff + 16] = ps >> 8;
  p[thoff + 17] = ps & 0xff;
  return p;
}

function tsoHeader(f: FlowSpec, mss: number, ecn = false): VirtioNetHdr {
  return {
    flags: VirtioNetHdrFlag.NeedsCsum,
    gsoType: (f.version === 4 ? VirtioNetGso.TcpV4 : VirtioNetGso.TcpV6) | (ecn ? VirtioNetGso.Ecn : 0),
    hdrLen: 0,
    gsoSize: mss,
    csumStart: f.version === 4 ? 20 : 40,
    csumOffset: 16,
  };
}

/** What the kernel's tcp_gso_segment would produce, built naively packet by packet. */
function expectedSegments(f: FlowSpec, t: TcpSpec, mss: number): Uint8Array[] {
  const n = Math.max(1, Math.ceil(t.payload.length / mss));
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    let flags = t.flags;
    if (i !== n - 1) flags &= ~(TCP_FLAG.FIN | TCP_FLAG.PSH);
    if (i !== 0) flags &= ~TCP_FLAG.CWR;
    out.push(
      tcpPacket(
        { ...f, id: ((f.id ?? 0x1000) + i) & 0xffff },
        { ...t, seq: (t.seq + i * mss) >>> 0, flags, payload: t.payload.subarray(i * mss, (i + 1) * mss) },
      ),
    );
  }
  return out;
}

function segmentAll(p: Uint8Array, h: VirtioNetHdr): Uint8Array[] {
  const got: Uint8Array[] = [];
  gsoSegment(p, h, newGsoLayout(), new Uint8Array(GSO_MAX_HEADER_LENGTH), (s) => got.push(s.slice()));
  return got;
}

/** Places `p` at an odd offset inside a larger buffer, so the checksum's alignment paths run. */
function atOffset(p: Uint8Array, offset: number): Uint8Array {
  const b = new Uint8Array(p.length + offset + 7).fill(0xa5);
  b.set(p, offset);
  return b.subarray(offset, offset + p.length);
}

describe('gsoSegment: TCP super-packets become what tcp_gso_segment makes', () => {
  const cases: { name: string; f: FlowSpec; t: TcpSpec; mss: number; offset?: number; ecn?: boolean }[] = [
    {
      name: 'IPv4, 64 000 bytes, MSS 1448, timestamps, PSH on the last',
      f: V4_FLOW,
      t: {
        seq: 1_000_000,
        ack: 77,
        flags: TCP_FLAG.ACK | TCP_FLAG.PSH,
        options: timestampOption(123456, 654321),
        payload: patternBytes(64_000, 1),
      },
      mss: 1448,
    },
    {
      name: 'IPv4, payload an exact multiple of an odd MSS, at an odd offset',
      f: { ...V4_FLOW, id: 0xfffe, ttl: 3, tos: 0x10 },
      t: { seq: 5, ack: 6, flags: TCP_FLAG.ACK, payload: patternBytes(1399 * 7, 2) },
      mss: 1399,
      offset: 3,
    },
    {
      name: 'IPv4, sequence numbers wrap past 2^32, FIN on the last, CWR on the first only',
      f: V4_FLOW,
      t: {
        seq: 0xffff_f000,
        ack: 1,
        flags: TCP_FLAG.ACK | TCP_FLAG.FIN | TCP_FLAG.CWR | TCP_FLAG.ECE,
        payload: patternBytes(10_001, 3),
      },
      mss: 1000,
      ecn: true,
    },
    {
      name: 'IPv6, 40 000 bytes, MSS 1428, timestamps',
      f: V6_FLOW,
      t: {
        seq: 42,
        ack: 4242,
        flags: TCP_FLAG.ACK,
        options: timestampOption(1, 2),
        payload: patternBytes(40_000, 4),
      },
      mss: 1428,
      offset: 1,
    },
    {
      name: 'a header longer than the MSS (tiny MSS 8)',
      f: V4_FLOW,
      t: {
        seq: 9,
        ack: 9,
        flags: TCP_FLAG.ACK,
        options: timestampOption(5, 5),
        payload: patternBytes(100, 5),
      },
      mss: 8,
    },
    {
      name: 'a payload no longer than gso_size: one segment, checksum completed',
      f: V4_FLOW,
      t: { seq: 1, ack: 1, flags: TCP_FLAG.ACK | TCP_FLAG.PSH, payload: patternBytes(1000, 6) },
      mss: 1448,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p = atOffset(superPacket(c.f, c.t), c.offset ?? 0);
      const got = segmentAll(p, tsoHeader(c.f, c.mss, c.ecn));
      const want = expectedSegments(c.f, c.t, c.mss);
      assert.equal(got.length, want.length, 'segment count');
      for (let i = 0; i < want.length; i++) {
        assert.equal(toHex(got[i]!), toHex(want[i]!), `segment ${i}`);
        assert.ok(checksumsOk(got[i]!), `segment ${i} checksums`);
      }
    });
  }

  it('UDP_L4 (USO), IPv4 and IPv6: each datagram gets its own length and checksum', () => {
    for (const f of [V4_FLOW, V6_FLOW]) {
      const payload = patternBytes(10_500, 9);
      const p = udpPacket(f, payload);
      const thoff = f.version === 4 ? 20 : 40;
      const h: VirtioNetHdr = {
        flags: VirtioNetHdrFlag.NeedsCsum,
        gsoType: VirtioNetGso.UdpL4,
        hdrLen: 0,
        gsoSize: 1000,
        csumStart: thoff,
        csumOffset: 6,
      };
      const got = segmentAll(p, h);
      assert.equal(got.length, 11);
      for (let i = 0; i < got.length; i++) {
        const chunk = payload.subarray(i * 1000, (i + 1) * 1000);
        const want = udpPacket({ ...f, id: (0x1000 + i) & 0xffff }, chunk);
        assert.equal(toHex(got[i]!), toHex(want), `datagram ${i} (IPv${f.version})`);
      }
    }
  });

  it('segments verify under tshark too (IPv4 header and TCP checksums, contiguous sequence numbers)', () => {
    requireTools('tshark');
    const segs = [
      ...segmentAll(superPacket(V4_FLOW, cases[0]!.t), tsoHeader(V4_FLOW, 1448)),
      ...segmentAll(superPacket(V6_FLOW, cases[3]!.t), tsoHeader(V6_FLOW, 1428)),
    ];
    const dir = mkdtempSync(join(tmpdir(), 'pptp-ts-gso-'));
    try {
      const file = join(dir, 'segments.pcap');
      writeFileSync(
        file,
        encodePcap(
          segs.map((data, i) => ({ timestamp: { seconds: 1_700_000_000 + i, nanoseconds: 0 }, data })),
          { linkType: LinkType.Raw },
        ),
      );
      const pk = tsharkPackets(file);
      assert.equal(pk.length, segs.length);
      for (const [i, p] of pk.entries()) {
        assert.equal(p.first('tcp.checksum.status'), '1', `frame ${i + 1}: TCP checksum good`);
        if (p.first('ip.version') === '4') assert.equal(p.first('ip.checksum.status'), '1');
        // Wireshark's sequence analysis flags gaps and overlaps as "previous segment not captured" etc.
        assert.equal(p.first('tcp.analysis.lost_segment'), undefined, `frame ${i + 1}`);
        assert.equal(p.first('tcp.analysis.retransmission'), undefined, `frame ${i + 1}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses, with WireError and before emitting anything, packets that do not match their header', () => {
    const good = superPacket(V4_FLOW, {
      seq: 1,
      ack: 1,
      flags: TCP_FLAG.ACK,
      payload: patternBytes(5000, 1),
    });
    const h = tsoHeader(V4_FLOW, 1448);
    const mutations: [string, (p: Uint8Array, h: VirtioNetHdr) => Uint8Array][] = [
      ['truncated below 20 bytes', (p) => p.subarray(0, 19)],
      ['IPv6 packet under gso TCPV4', (p) => Uint8Array.from(p, (b, i) => (i === 0 ? 0x65 : b))],
      ['IHL 4', (p) => Uint8Array.from(p, (b, i) => (i === 0 ? 0x44 : b))],
      ['total length shorter than the bytes', (p) => Uint8Array.from(p, (b, i) => (i === 3 ? b - 1 : b))],
      ['not TCP', (p) => Uint8Array.from(p, (b, i) => (i === 9 ? 17 : b))],
      ['a fragment', (p) => Uint8Array.from(p, (b, i) => (i === 6 ? 0x20 : b))],
      ['TCP data offset 4', (p) => Uint8Array.from(p, (b, i) => (i === 32 ? 0x40 : b))],
      [
        'TCP data offset past the end',
        (p) => Uint8Array.from(p, (b, i) => (i === 32 ? 0xf0 : b)).subarray(0, 70),
      ],
      [
        'csum_start not at the TCP header',
        (p, hh) => {
          hh.csumStart = 24;
          return p;
        },
      ],
      [
        'gso_size 0',
        (p, hh) => {
          hh.gsoSize = 0;
          return p;
        },
      ],
      [
        'UFO (never enabled)',
        (p, hh) => {
          hh.gsoType = VirtioNetGso.Udp;
          return p;
        },
      ],
      ['IP version 5', (p) => Uint8Array.from(p, (b, i) => (i === 0 ? 0x55 : b))],
    ];
    for (const [name, mutate] of mutations) {
      const hh = { ...h };
      const p = mutate(good.slice(), hh);
      let emitted = 0;
      assertWireError(
        () => gsoSegment(p, hh, newGsoLayout(), new Uint8Array(GSO_MAX_HEADER_LENGTH), () => emitted++),
        name,
      );
      assert.equal(emitted, 0, `${name}: nothing emitted`);
    }
    // IPv6 with an extension header needs csum_start to find TCP.
    const v6 = superPacket(V6_FLOW, { seq: 1, ack: 1, flags: TCP_FLAG.ACK, payload: patternBytes(3000, 1) });
    v6[6] = 0; // hop-by-hop
    assertWireError(() => inspectGso(v6, { ...tsoHeader(V6_FLOW, 1000), flags: 0 }, newGsoLayout()));
  });
});

describe('completeChecksum: partial checksums (CHECKSUM_PARTIAL) made whole', () => {
  it('TCP over IPv4 and IPv6 gives the naive checksum', () => {
    for (const f of [V4_FLOW, V6_FLOW]) {
      const t = { seq: 3, ack: 4, flags: TCP_FLAG.ACK, payload: patternBytes(777, 8) };
      const want = tcpPacket(f, t);
      const p = superPacket(f, t);
      assert.notEqual(toHex(p), toHex(want));
      completeChecksum(p, f.version === 4 ? 20 : 40, 16);
      assert.equal(toHex(p), toHex(want));
    }
  });

  it('a UDP checksum that computes to zero is sent as 0xffff (RFC 768)', () => {
    // Find a payload whose UDP checksum is 0xffff (i.e. computes to zero before the RFC 768 rule).
    for (let k = 0; k < 0x10000; k++) {
      const payload = Uint8Array.of(k >> 8, k & 0xff);
      const p = udpPacket(V4_FLOW, payload);
      if (p[26] !== 0xff || p[27] !== 0xff) continue;
      const partial = p.slice();
      const ps = naiveSum([...p.subarray(12, 20), 0, 17, 0, 10]);
      partial[26] = ps >> 8;
      partial[27] = ps & 0xff;
      completeChecksum(partial, 20, 6);
      assert.deepEqual([partial[26], partial[27]], [0xff, 0xff]);
      return;
    }
    assert.fail('no payload found');
  });

  it('refuses a checksum field outside the packet', () => {
    assertWireError(() => completeChecksum(new Uint8Array(40), 30, 16));
    assertWireError(() => completeChecksum(new Uint8Array(40), 40, 0));
  });
});
