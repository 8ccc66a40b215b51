import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CapturedPacket } from '../../src/capture/types.js';
import { Dissector } from '../../src/decode/dissector.js';
import { decodeCapture } from '../../src/decode/index.js';
import { packetJson, renderPacketText } from '../../src/decode/render.js';
import type { DecodedPacket, Field, Layer } from '../../src/decode/tree.js';
import { concatBytes, fromHex } from '../../src/wire/bytes.js';
import { encodeLcpPacket } from '../../src/wire/lcp.js';
import { PppProtocol } from '../../src/wire/ppp.js';
import { encodePptpMessage, PptpMessageType } from '../../src/wire/pptp/index.js';
import {
  type Framing,
  fragmentIpv4,
  frameOf,
  fullSession,
  gre,
  ipv4,
  LINK_TYPE_OF,
  PAC,
  PAC_CALL_ID,
  PNS,
  PNS_PORT,
  ppp,
  ScenarioBuilder,
  tcp,
  udp,
} from './fixtures.js';

/** Runs frames through a dissector as if read from a capture. */
function dissectAll(
  frames: { data: Uint8Array; linkType?: number; originalLength?: number }[],
  opts = {},
): DecodedPacket[] {
  const d = new Dissector(opts);
  const out: DecodedPacket[] = [];
  frames.forEach((f, i) => {
    const p: CapturedPacket = {
      frameNumber: i + 1,
      interfaceId: 0,
      linkType: f.linkType ?? 101,
      fcsLength: 0,
      timestamp: { seconds: 1000 + i, nanoseconds: 0 },
      originalLength: f.originalLength ?? f.data.length,
      data: f.data,
    };
    const r = d.dissect(p);
    if (r) out.push(r);
  });
  out.push(...d.finish());
  return out;
}

function layer(p: DecodedPacket, protocol: string, nth = 0): Layer {
  const l = p.layers.filter((x) => x.protocol === protocol)[nth];
  assert.ok(
    l,
    `frame ${p.frameNumber} has no ${protocol} layer #${nth}: ${p.layers.map((x) => x.protocol).join(' ')}`,
  );
  return l;
}

function value(l: Layer, key: string): unknown {
  const f = l.fields.find((x: Field) => x.key === key);
  return f?.value;
}

const protocols = (p: DecodedPacket) => p.layers.map((l) => l.protocol);

describe('dissector: a whole PPTP session', () => {
  const s = fullSession();
  const decoded = [...decodeCapture(s.pcap('ethernet'))];
  const byFrame = new Map(decoded.map((p) => [p.frameNumber, p]));

  it('shows every frame but the bare ACK of the handshake', () => {
    const shown = decoded.map((p) => p.frameNumber);
    const expected = s.frames.map((_, i) => i + 1).filter((n) => s.frames[n - 1]!.label !== 'ACK');
    assert.deepEqual(shown, expected);
  });

  it('reads every GRE header as written (call ID, seq, ack, payload length)', () => {
    s.frames.forEach((f, i) => {
      if (!f.gre) return;
      const g = layer(byFrame.get(i + 1)!, 'GRE');
      assert.equal(g.malformed, undefined);
      assert.equal(value(g, 'callId'), f.gre.callId, f.label);
      assert.equal(value(g, 'sequenceNumber'), f.gre.seq, f.label);
      assert.equal(value(g, 'acknowledgmentNumber'), f.gre.ack, f.label);
      assert.equal(value(g, 'payloadLength'), f.gre.payloadLength, f.label);
    });
  });

  it('decodes every control message in the frame that completes it', () => {
    let total = 0;
    s.frames.forEach((f, i) => {
      const p = byFrame.get(i + 1);
      const pptp = p ? p.layers.filter((l) => l.protocol === 'PPTP') : [];
      assert.deepEqual(
        pptp.map((l) => value(l, 'messageType')),
        (f.pptp ?? []).map((m) => m.type),
        `frame ${i + 1} (${f.label})`,
      );
      for (const l of pptp) assert.equal(l.malformed, undefined);
      total += pptp.length;
    });
    const types = new Set(s.frames.flatMap((f) => (f.pptp ?? []).map((m) => m.type)));
    assert.equal(types.size, 15, 'the scenario has all 15 message types');
    assert.equal(total, 15, 'one of each');
  });

  it('layers PPP payloads by protocol, with nothing malformed', () => {
    const expectTop: Record<number, string> = {
      [PppProtocol.Lcp]: 'LCP',
      [PppProtocol.Chap]: 'CHAP',
      [PppProtocol.Pap]: 'PAP',
      [PppProtocol.Ccp]: 'CCP',
      [PppProtocol.Ipcp]: 'IPCP',
      [PppProtocol.Ipv6cp]: 'IPv6CP',
      [PppProtocol.Compressed]: 'MPPE',
      [PppProtocol.Ipv4]: 'DNS',
      [PppProtocol.Ipv6]: 'ICMPv6',
    };
    s.frames.forEach((f, i) => {
      if (f.pppProtocol === undefined) return;
      const p = byFrame.get(i + 1)!;
      const top = f.label.startsWith('ICMP echo') ? 'ICMP' : expectTop[f.pppProtocol];
      assert.equal(protocols(p).at(-1), top, f.label);
      for (const l of p.layers) assert.equal(l.malformed, undefined, `${f.label}: ${l.protocol}`);
    });
  });

  it('names MS-CHAPv2 from the LCP negotiation and splits the Response value', () => {
    const resp = decoded.find((p) => p.layers.some((l) => l.protocol === 'CHAP' && value(l, 'code') === 2))!;
    const chap = layer(resp, 'CHAP');
    assert.equal(value(chap, 'algorithm'), 0x81);
    const grp = chap.fields.find((f) => f.key === 'msChapV2Response')!;
    const nt = grp.children!.find((f) => f.key === 'ntResponse')!;
    assert.equal(nt.value, '82309ecd8d708b5ea08faa3981cd83544233114a3d85d6df');
  });

  it('renders the DNS query and answer inside the tunnel readably', () => {
    const text = decoded.map(renderPacketText).join('\n\n');
    assert.match(text, /IPv4 {6}10\.8\.0\.2 → 10\.8\.0\.53 .*proto UDP \(17\)/);
    assert.match(text, /UDP {7}41337 → 53 {2}len 41 {2}checksum 0x[0-9a-f]{4} \[good\]/);
    assert.match(text, /DNS {7}query {2}id 0x3c5e {2}RD\n {12}question {2}www\.example\.com {2}A {2}IN/);
    assert.match(text, /answer {4}www\.example\.com {2}CNAME {2}IN {2}ttl 3600 {2}example\.com/);
    assert.match(text, /answer {4}example\.com {2}A {2}IN {2}ttl 300 {2}93\.184\.216\.34/);
  });

  it('says MPPE payloads are encrypted and shows the coherency count and bits', () => {
    const m = decoded.filter((p) => p.layers.some((l) => l.protocol === 'MPPE')).map((p) => layer(p, 'MPPE'));
    assert.equal(m.length, 2);
    assert.deepEqual(
      m.map((l) => [value(l, 'coherencyCount'), value(l, 'flushed'), value(l, 'encrypted')]),
      [
        [0, true, true],
        [4095, true, true],
      ],
    );
    assert.match(m[0]!.note!, /encrypted payload: 12 bytes/);
    assert.equal(value(m[0]!, 'negotiated'), 'stateless, 128-bit');
  });

  it('hides PAP passwords unless asked', () => {
    const hiddenText = decoded.map(renderPacketText).join('\n');
    assert.doesNotMatch(hiddenText, /s3cret/);
    assert.match(hiddenText, /password \(6 bytes, hidden\)/);
    const shownText = [...decodeCapture(s.pcap('ethernet'), { showSecrets: true })]
      .map(renderPacketText)
      .join('\n');
    assert.match(shownText, /password "s3cret"/);
  });

  it('gives the same layers above the link header for every link type', () => {
    const strip = (ps: DecodedPacket[]) =>
      ps.map((p) =>
        JSON.stringify(packetJson(p).layers).replace(/^\[\{"layer":"(Ethernet|SLL2?)"[^}]*\},?/, '['),
      );
    const base = strip(decoded);
    for (const f of ['sll', 'sll2', 'raw'] as Framing[]) {
      const other = strip([...decodeCapture(s.pcap(f))]);
      assert.deepEqual(other, base, f);
    }
  });

  it('--json: one object per frame, and every one parses back', () => {
    for (const p of decoded) {
      const line = JSON.stringify(packetJson(p));
      assert.ok(!line.includes('\n'));
      const back = JSON.parse(line);
      assert.equal(back.frame, p.frameNumber);
      assert.equal(back.layers.length, p.layers.length);
    }
  });
});

describe('dissector: malformed input is shown where it broke, and decoding goes on', () => {
  const good = ipv4(
    PNS,
    PAC,
    47,
    gre(PAC_CALL_ID, 1, undefined, ppp(PppProtocol.Lcp, fromHex('09 01 00 08 11 22 33 44'))),
  );

  function greFrame(g: Uint8Array): Uint8Array {
    return ipv4(PNS, PAC, 47, g);
  }

  it('GRE that the strict decoder refuses (version 0), then a good packet', () => {
    const v0 = greFrame(fromHex('2000 0800 0000 0001 4500'));
    const out = dissectAll([{ data: v0 }, { data: good }]);
    assert.equal(out.length, 2);
    const g = layer(out[0]!, 'GRE');
    assert.equal(g.malformed?.code, 'bad-version');
    assert.match(g.malformed!.reference!, /RFC 2637 §4\.1/);
    assert.equal(value(g, 'version'), 0);
    assert.deepEqual(protocols(out[1]!), ['IPv4', 'GRE', 'PPP', 'LCP']);
  });

  it('a GRE Payload Length that lies', () => {
    const g = gre(PAC_CALL_ID, 1, undefined, ppp(PppProtocol.Lcp, fromHex('09 01 00 08 11 22 33 44')));
    g[5] = g[5]! + 10;
    const [p] = dissectAll([{ data: greFrame(g) }]);
    assert.equal(layer(p!, 'GRE').malformed?.code, 'length-too-large');
  });

  it('a PPP Control field other than 0x03', () => {
    const [p] = dissectAll([
      { data: greFrame(gre(1, 1, undefined, fromHex('ff 05 c0 21 09 01 00 08 00 00 00 00'))) },
    ]);
    assert.equal(layer(p!, 'PPP').malformed?.code, 'bad-value');
  });

  it('an LCP Length that lies, and an option whose length is wrong for its type', () => {
    const lying = dissectAll([
      { data: greFrame(gre(1, 1, undefined, ppp(PppProtocol.Lcp, fromHex('01 01 00 20 01 04 05 dc')))) },
    ]);
    const l = layer(lying[0]!, 'LCP');
    assert.equal(l.malformed?.code, 'length-too-large');
    // MRU with Length 3: the packet is fine, the option is not.
    const badOpt = dissectAll([
      {
        data: greFrame(
          gre(1, 1, undefined, ppp(PppProtocol.Lcp, fromHex('01 02 00 0d 01 03 05 05 06 12 34 56 78'))),
        ),
      },
    ]);
    const lcp = layer(badOpt[0]!, 'LCP');
    assert.equal(lcp.malformed, undefined);
    const opts = lcp.fields.find((f) => f.key === 'options')!.children!;
    assert.match(opts[0]!.text!, /^MRU \(1\): \[malformed\] LCP option 1: Length 3, expected 4/);
    assert.equal(opts[1]!.text, 'Magic-Number (5): 0x12345678');
  });

  it('an MPPE packet shorter than its header, a CHAP Value-Size that lies, garbage DNS', () => {
    const out = dissectAll([
      { data: greFrame(gre(1, 1, undefined, ppp(PppProtocol.Compressed, fromHex('90')))) },
      { data: greFrame(gre(1, 2, undefined, ppp(PppProtocol.Chap, fromHex('01 01 00 08 10 aa bb cc')))) },
      {
        data: greFrame(
          gre(
            1,
            3,
            undefined,
            ppp(
              PppProtocol.Ipv4,
              ipv4(
                '10.0.0.1',
                '10.0.0.2',
                17,
                udp('10.0.0.1', 1234, '10.0.0.2', 53, fromHex('00 01 01 00 ff ff')),
              ),
            ),
          ),
        ),
      },
    ]);
    assert.equal(out[0]!.layers.at(-1)!.malformed?.code, 'truncated');
    assert.equal(layer(out[1]!, 'CHAP').malformed?.code, 'length-too-large');
    const dns = layer(out[2]!, 'DNS');
    assert.equal(dns.malformed?.code, 'bad-value');
    assert.match(dns.malformed!.detail, /^DNS: /);
  });

  it('a bad outer IPv4 checksum is shown, not fatal', () => {
    const b = good.slice();
    b[10] ^= 0xff;
    const [p] = dissectAll([{ data: b }]);
    assert.equal(value(layer(p!, 'IPv4'), 'checksumStatus'), 'bad');
    assert.deepEqual(protocols(p!), ['IPv4', 'GRE', 'PPP', 'LCP']);
  });

  it('a frame cut by the snap length is decoded as far as it goes', () => {
    const full = ipv4(
      PNS,
      PAC,
      47,
      gre(1, 1, undefined, ppp(PppProtocol.Lcp, fromHex('01 01 00 0e 01 04 05 dc 05 06 12 34 56 78'))),
    );
    const d = new Dissector();
    const p = d.dissect({
      frameNumber: 1,
      interfaceId: 0,
      linkType: 101,
      fcsLength: 0,
      timestamp: { seconds: 1000, nanoseconds: 0 },
      originalLength: full.length,
      data: full.subarray(0, 40),
    });
    assert.equal(p!.capturedLength, 40);
    assert.match(layer(p!, 'IPv4').note!, /not captured/);
    // Every field that is present is shown, and the cut is named, not called malformed.
    const g = layer(p!, 'GRE');
    assert.equal(g.malformed, undefined);
    assert.equal(value(g, 'callId'), 1);
    assert.equal(value(g, 'sequenceNumber'), 1);
    assert.equal(value(g, 'payloadLength'), 18);
    const lcp = layer(p!, 'LCP');
    assert.equal(lcp.malformed, undefined);
    assert.equal(value(lcp, 'code'), 1);
    assert.equal(value(lcp, 'length'), 14);
    assert.equal(lcp.note, `[truncated by capture: 40 of ${full.length} bytes]`);
    assert.equal(d.stats.malformedLayers, 0);
    assert.match(
      renderPacketText(p!),
      new RegExp(
        `LCP +Configure-Request \\(1\\) {2}id 1 {2}len 14\\n +\\[truncated by capture: 40 of ${full.length} bytes\\]`,
      ),
    );
  });

  it('a frame cut inside a header that does not explain the cut stays malformed', () => {
    // GRE version 0 is malformed whatever the snap length did.
    const full = ipv4(PNS, PAC, 47, new Uint8Array([0x30, 0x00, 0x88, 0x0b, 0, 40, 0, 1, 0, 0, 0, 1]));
    const [p] = dissectAll([{ data: full.subarray(0, 30), originalLength: full.length + 40 }]);
    assert.equal(layer(p!, 'GRE').malformed?.code, 'bad-version');
    assert.match(p!.layers.at(-1)!.note ?? '', /truncated by capture: 30 of 72 bytes/);
  });

  it('an uncut frame whose GRE Payload Length lies is still malformed', () => {
    const full = ipv4(PNS, PAC, 47, gre(1, 1, undefined, ppp(PppProtocol.Lcp, fromHex('01 01 00 04'))));
    const lying = full.slice(0, full.length - 2);
    lying[3] = lying.length; // IPv4 Total Length matches what is there, GRE's Payload Length does not
    lying[10] = lying[11] = 0;
    const [p] = dissectAll([{ data: lying }]);
    assert.equal(layer(p!, 'GRE').malformed?.code, 'length-too-large');
  });

  it('non-PPTP traffic is skipped, and listed with all', () => {
    const dnsOutside = ipv4(
      '10.1.1.1',
      '10.1.1.2',
      17,
      udp('10.1.1.1', 5353, '10.1.1.2', 53, fromHex('1234 0100 0000 0000 0000 0000')),
    );
    const arp = concatBytes(fromHex('ffffffffffff 020000000001 0806'), new Uint8Array(28));
    const frames = [{ data: dnsOutside }, { data: arp, linkType: 1 }, { data: good }];
    assert.deepEqual(
      dissectAll(frames).map((p) => p.frameNumber),
      [3],
    );
    const all = dissectAll(frames, { all: true });
    assert.deepEqual(all.map(protocols), [
      ['IPv4', 'UDP', 'DNS'],
      ['Ethernet', 'Data'],
      ['IPv4', 'GRE', 'PPP', 'LCP'],
    ]);
  });

  it('a frame of an unsupported link type is counted, and shown only with all', () => {
    const d = new Dissector();
    const r = d.dissect({
      frameNumber: 1,
      interfaceId: 0,
      linkType: 105,
      fcsLength: 0,
      timestamp: { seconds: 0, nanoseconds: 0 },
      originalLength: 4,
      data: fromHex('01020304'),
    });
    assert.equal(r, undefined);
    assert.deepEqual([...d.stats.unsupportedLinkTypes], [[105, 1]]);
    const [p] = dissectAll([{ data: fromHex('01020304'), linkType: 105 }], { all: true });
    assert.equal(p!.layers[0]!.malformed?.code, 'unknown-type');
  });
});

describe('dissector: the control connection over TCP', () => {
  const sccrq = encodePptpMessage({
    type: PptpMessageType.StartControlConnectionRequest,
    protocolVersion: 0x100,
    framingCapabilities: 1,
    bearerCapabilities: 1,
    maximumChannels: 0,
    firmwareRevision: 0,
    hostName: '',
    vendorString: '',
  });
  const echo = encodePptpMessage({ type: PptpMessageType.EchoRequest, identifier: 7 });
  const seg = (seq: number, bytes: Uint8Array, flags = { ack: true, psh: true }) =>
    ipv4(PNS, PAC, 6, tcp(PNS, PNS_PORT, PAC, 1723, seq, 1, flags, bytes));
  const syn = seg(99, new Uint8Array(0), { syn: true } as never);
  const pptpTypes = (ps: DecodedPacket[]) =>
    ps.map((p) =>
      p.layers.filter((l) => l.protocol === 'PPTP').map((l) => value(l, 'messageType') ?? 'resync'),
    );

  it('a message split over three segments appears in the last one', () => {
    const out = dissectAll([
      { data: syn },
      { data: seg(100, sccrq.subarray(0, 5)) },
      { data: seg(105, sccrq.subarray(5, 100)) },
      { data: seg(200, sccrq.subarray(100)) },
    ]);
    assert.deepEqual(pptpTypes(out), [[], [], [], [1]]);
    assert.match(layer(out[1]!, 'TCP').note!, /5 bytes of a message continue in a later segment/);
  });

  it('messages coalesced in one segment all appear in it', () => {
    const out = dissectAll([
      { data: syn },
      { data: seg(100, concatBytes(sccrq, echo, echo.subarray(0, 3))) },
      { data: seg(275, echo.subarray(3)) },
    ]);
    assert.deepEqual(pptpTypes(out), [[], [1, 5], [5]]);
  });

  it('out-of-order segments are held and the message shown when the hole fills', () => {
    const out = dissectAll([
      { data: syn },
      { data: seg(200, sccrq.subarray(100)) },
      { data: seg(100, sccrq.subarray(0, 100)) },
    ]);
    assert.deepEqual(pptpTypes(out), [[], [], [1]]);
    assert.match(layer(out[1]!, 'TCP').note!, /out of order/);
  });

  it('a retransmission does not show the message twice', () => {
    const out = dissectAll([{ data: syn }, { data: seg(100, sccrq) }, { data: seg(100, sccrq) }]);
    assert.deepEqual(pptpTypes(out), [[], [1], []]);
    assert.match(layer(out[2]!, 'TCP').note!, /retransmission: 156 bytes/);
  });

  it('a capture that starts inside a message resynchronises on the next header', () => {
    const out = dissectAll([{ data: seg(100, concatBytes(sccrq.subarray(60), echo)) }]);
    const l = out[0]!.layers.filter((x) => x.protocol === 'PPTP');
    assert.equal(l[0]!.malformed?.code, 'bad-magic');
    assert.match(l[1]!.note!, /bytes skipped to the next message header/);
    assert.equal(value(l[2]!, 'messageType'), PptpMessageType.EchoRequest);
  });

  it('a message with a Length wrong for its type is malformed; the next one still decodes', () => {
    const bad = encodePptpMessage({ type: PptpMessageType.EchoRequest, identifier: 1 }).slice();
    bad[1] = 20; // Length 20, but an Echo-Request is 16 bytes
    const out = dissectAll([{ data: seg(100, concatBytes(bad, new Uint8Array(4), echo)) }]);
    const l = out[0]!.layers.filter((x) => x.protocol === 'PPTP');
    assert.equal(l.length, 2);
    assert.ok(l[0]!.malformed);
    assert.equal(value(l[0]!, 'messageType'), PptpMessageType.EchoRequest);
    assert.equal(l[1]!.malformed, undefined);
  });

  it('bytes held behind a hole at the end of the capture are delivered then, marked as such', () => {
    const out = dissectAll([{ data: syn }, { data: seg(105, concatBytes(sccrq.subarray(5), echo)) }]);
    assert.equal(out.length, 3);
    const last = out[2]!;
    assert.equal(last.frameNumber, 2);
    assert.match(last.layers[0]!.note!, /delivered at the end of the capture, after a hole/);
    assert.match(last.layers[0]!.note!, /5 bytes of the stream were never captured/);
    assert.deepEqual(
      last.layers
        .filter((l) => l.protocol === 'PPTP' && value(l, 'messageType') !== undefined)
        .map((l) => value(l, 'messageType')),
      [PptpMessageType.EchoRequest],
    );
  });

  it('an unknown message type framed correctly is malformed and does not break the stream', () => {
    const unknown = encodePptpMessage({ type: PptpMessageType.EchoRequest, identifier: 1 }).slice();
    unknown[9] = 99;
    const out = dissectAll([{ data: seg(100, concatBytes(unknown, echo)) }]);
    const l = out[0]!.layers.filter((x) => x.protocol === 'PPTP');
    assert.equal(l[0]!.malformed?.code, 'unknown-type');
    assert.match(l[0]!.fields[0]!.text!, /Control Message Type 99/);
    assert.equal(value(l[1]!, 'messageType'), PptpMessageType.EchoRequest);
  });
});

describe('dissector: IPv4 fragments', () => {
  const whole = ipv4(
    PAC,
    PNS,
    47,
    gre(
      0x4001,
      5,
      undefined,
      ppp(
        PppProtocol.Ipv4,
        ipv4(
          '10.8.0.53',
          '10.8.0.2',
          17,
          udp('10.8.0.53', 53, '10.8.0.2', 41337, fromHex('3c5e 8180 0000 0000 0000 0000')),
        ),
      ),
    ),
  );
  const parts = fragmentIpv4(whole, 24);

  it('a fragmented GRE packet is reassembled in the frame that completes it, in any order', () => {
    assert.ok(parts.length >= 3);
    for (const order of [parts.map((_, i) => i), parts.map((_, i) => parts.length - 1 - i)]) {
      const out = dissectAll(order.map((i) => ({ data: parts[i]! })));
      assert.equal(out.length, parts.length, 'every fragment of a GRE datagram is shown');
      for (const p of out.slice(0, -1))
        assert.match(p.layers.at(-1)!.note!, /IPv4 fragment, held for reassembly/);
      const last = out.at(-1)!;
      assert.deepEqual(protocols(last), ['IPv4', 'GRE', 'PPP', 'IPv4', 'UDP', 'DNS']);
      assert.match(
        layer(last, 'IPv4').note!,
        new RegExp(`datagram reassembled from ${parts.length} fragments`),
      );
      assert.equal(value(layer(last, 'GRE'), 'sequenceNumber'), 5);
    }
  });

  it('a fragment that cannot be part of a datagram is shown as such', () => {
    const bad = parts[0]!.slice();
    bad[3] = bad[3]! - 3; // 21 payload bytes with MF set: not a multiple of 8
    bad[10] = 0;
    bad[11] = 0;
    const [p] = dissectAll([{ data: bad.subarray(0, bad.length - 3) }]);
    assert.match(p!.layers.at(-1)!.note!, /not reassembled: a fragment with MF set carries 21 bytes/);
  });
});

describe('dissector: GRE sequence analysis', () => {
  it('notes lost, duplicate and late packets per call and direction', () => {
    const f = (seq: number) => ({
      data: ipv4(
        PNS,
        PAC,
        47,
        gre(PAC_CALL_ID, seq, undefined, ppp(PppProtocol.Lcp, fromHex('0a 01 00 08 00 00 00 00'))),
      ),
    });
    const out = dissectAll([f(10), f(11), f(14), f(14), f(12)]);
    assert.deepEqual(
      out.map((p) => layer(p, 'GRE').note),
      [
        undefined,
        undefined,
        '2 earlier packets not seen (lost or reordered)',
        'duplicate sequence number',
        'late: 2 behind the highest sequence number seen',
      ],
    );
  });
});

describe('dissector: totality', () => {
  it('a scenario with a LCP packet in every malformed shape still yields one record per frame', () => {
    const s = new ScenarioBuilder();
    const lcp = encodeLcpPacket({
      kind: 'echo-request',
      identifier: 1,
      magicNumber: 1,
      data: new Uint8Array(0),
    });
    for (let n = 0; n <= lcp.length; n++) s.pppFrame(true, PppProtocol.Lcp, lcp.subarray(0, n), `cut ${n}`);
    const out = [...decodeCapture(s.pcap('raw'))];
    assert.equal(out.length, lcp.length + 1);
    for (const p of out) for (const l of p.layers) assert.notEqual(l.malformed?.code, 'internal-error');
  });
  it('frameOf covers the link types used here', () => {
    assert.deepEqual(Object.keys(LINK_TYPE_OF), ['ethernet', 'sll', 'sll2', 'raw']);
    assert.equal(frameOf('raw', fromHex('45'), true).length, 1);
  });
});
