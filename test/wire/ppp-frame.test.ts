import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { concatBytes, fromHex, toHex } from '../../src/wire/bytes.js';
import { WireErrorCode } from '../../src/wire/errors.js';
import {
  decodePppFrame,
  encodePppFrame,
  encodePppHeader,
  type PppFrame,
  PppFrameView,
  type PppFramingFlags,
  PppProtocol,
  pppFrameLength,
  pppHeaderLength,
} from '../../src/wire/ppp.js';
import { assertWireError, codecSuite } from '../helpers/codec.js';

/** The wire form: a frame plus the compression its header shows. */
interface WireFrame {
  frame: PppFrame;
  flags: PppFramingFlags;
}

const wireCodec = {
  decode(b: Uint8Array): WireFrame {
    const v = PppFrameView.check(b);
    return { frame: v.toFrame(), flags: { acfc: !v.hasAddressControl, pfc: v.protocolFieldLength === 1 } };
  },
  encode: (w: WireFrame, out?: Uint8Array, off?: number) => encodePppFrame(w.frame, w.flags, out, off),
  length: (w: WireFrame) => pppFrameLength(w.frame, w.flags),
};

const NONE = { acfc: false, pfc: false };
const BOTH = { acfc: true, pfc: true };

// Sources: scapy 2.5 HDLC()/PPP() (which always compresses protocols below
// 0x100) for the addr/ctl and PFC forms; the others are the same bytes with
// the header forms RFC 1661 §6.5/§6.6 and RFC 1662 §3.2 describe. See
// test/vectors/README.md "Data path".
codecSuite<WireFrame>(
  'PPP frame (RFC 1661 §2, RFC 1662 §3.1)',
  wireCodec,
  [
    {
      name: 'LCP Configure-Request with Address/Control (never compressed)',
      hex: 'ff03c0210101000e010405dc050612345678',
      value: {
        frame: { protocol: PppProtocol.Lcp, payload: fromHex('0101000e010405dc050612345678') },
        flags: NONE,
      },
    },
    {
      name: 'IPv4 with ACFC and PFC: one-octet protocol',
      hex: '2145000014',
      value: { frame: { protocol: PppProtocol.Ipv4, payload: fromHex('45000014') }, flags: BOTH },
    },
    {
      name: 'IPv4 with ACFC only: two-octet protocol',
      hex: '002145000014',
      value: {
        frame: { protocol: PppProtocol.Ipv4, payload: fromHex('45000014') },
        flags: { acfc: true, pfc: false },
      },
    },
    {
      name: 'IPv4 with PFC only: Address/Control then one-octet protocol',
      hex: 'ff032145000014',
      value: {
        frame: { protocol: PppProtocol.Ipv4, payload: fromHex('45000014') },
        flags: { acfc: false, pfc: true },
      },
    },
    {
      name: 'CCP Reset-Request with Address/Control',
      hex: 'ff0380fd0e050004',
      value: { frame: { protocol: PppProtocol.Ccp, payload: fromHex('0e050004') }, flags: NONE },
    },
  ],
  { overlong: false, truncation: 'total' }, // no length field: trailing bytes are Information
);

describe('PPP frame decoding rules', () => {
  it('accepts an LCP Echo-Request without Address/Control, as Linux sends it under ACFC', () => {
    const f = decodePppFrame(fromHex('c02109010008deadbeef'));
    assert.equal(f.protocol, PppProtocol.Lcp);
    assert.equal(toHex(f.payload), '09010008deadbeef');
  });
  it('rejects an even two-octet protocol (RFC 1661 §2) as unrecognized', () => {
    assert.equal(
      assertWireError(() => decodePppFrame(fromHex('ff03002045'))).code,
      WireErrorCode.UnknownType,
    );
    assert.equal(assertWireError(() => decodePppFrame(fromHex('c0204500'))).code, WireErrorCode.UnknownType);
  });
  it('rejects Address 0xff with a Control other than 0x03 (RFC 1662 §3.1)', () => {
    assert.equal(assertWireError(() => decodePppFrame(fromHex('ff13c021'))).code, WireErrorCode.BadValue);
  });
  it('rejects frames without a complete protocol field', () => {
    for (const h of ['', 'ff', 'ff03', 'ff03c0', 'c0']) assertWireError(() => decodePppFrame(fromHex(h)));
  });
  it('an odd first octet is a compressed protocol even when another octet follows', () => {
    const f = decodePppFrame(fromHex('5700'));
    assert.equal(f.protocol, PppProtocol.Ipv6);
    assert.equal(toHex(f.payload), '00');
  });
  it('an empty Information field is allowed', () => {
    assert.equal(decodePppFrame(fromHex('ff03c021')).payload.length, 0);
  });
});

/**
 * Linux's pptp_xmit (drivers/net/ppp/pptp.c), transcribed on a plain array: `data` starts with the
 * 2-byte protocol pushed by ppp_start_xmit.
 */
function linuxPptpXmit(protocol: number, payload: Uint8Array, flags: PppFramingFlags): string {
  let data = [protocol >>> 8, protocol & 0xff, ...payload];
  const islcp = (data[0]! << 8) + data[1]! === 0xc021 && 1 <= data[2]! && data[2]! <= 7;
  if (flags.pfc && data[0] === 0 && !islcp) data = data.slice(1);
  if (!flags.acfc || islcp) data = [0xff, 0x03, ...data];
  return toHex(new Uint8Array(data));
}

/**
 * What we send instead where RFC 1661 §6.6 is stricter than pptp_xmit: every
 * LCP packet keeps Address/Control (pptp_xmit exempts only codes 1–7).
 */
function expectedXmit(protocol: number, payload: Uint8Array, flags: PppFramingFlags): string {
  const seed = linuxPptpXmit(protocol, payload, flags);
  if (protocol !== 0xc021 || seed.startsWith('ff03')) return seed;
  return `ff03${seed}`;
}

describe('PPP frame encoding = Linux pptp_xmit, with RFC 1661 §6.6 for LCP (differential)', () => {
  const protocols = [0x0021, 0x0057, 0x00fd, 0x8021, 0x8057, 0x80fd, 0xc021, 0xc023, 0xc223];
  const payloads = [0, 1, 2, 5, 7, 8, 9, 10, 11, 12, 0x45, 0xff].map((c) => new Uint8Array([c, 1, 0, 4]));
  for (const flags of [NONE, BOTH, { acfc: true, pfc: false }, { acfc: false, pfc: true }]) {
    it(`ACFC=${flags.acfc} PFC=${flags.pfc}`, () => {
      for (const protocol of protocols) {
        for (const payload of payloads) {
          const ours = toHex(encodePppFrame({ protocol, payload }, flags));
          assert.equal(
            ours,
            expectedXmit(protocol, payload, flags),
            `protocol ${protocol.toString(16)} code ${payload[0]}`,
          );
          // Header-only form writes the same header in place before the payload.
          const buf = new Uint8Array(4 + payload.length).fill(0xa5);
          buf.set(payload, 4);
          const n = pppHeaderLength(protocol, payload[0]!, flags);
          assert.equal(encodePppHeader(protocol, payload[0]!, flags, buf, 4 - n), n);
          assert.equal(toHex(buf.subarray(4 - n)), ours);
          // And it decodes back to the same frame.
          const back = decodePppFrame(fromHex(ours));
          assert.equal(back.protocol, protocol);
          assert.equal(toHex(back.payload), toHex(payload));
        }
      }
    });
  }
  it('never compresses LCP codes 1–7 even with both flags', () => {
    for (let code = 1; code <= 7; code++) {
      const f = encodePppFrame({ protocol: PppProtocol.Lcp, payload: new Uint8Array([code, 1, 0, 4]) }, BOTH);
      assert.equal(toHex(f.subarray(0, 4)), 'ff03c021');
    }
  });
  it('keeps Address/Control on every LCP packet, Echo and Discard included (RFC 1661 §6.6)', () => {
    for (const code of [8, 9, 10, 11, 12, 13, 200]) {
      const payload = new Uint8Array([code, 1, 0, 4]);
      const f = encodePppFrame({ protocol: PppProtocol.Lcp, payload }, BOTH);
      assert.equal(toHex(f.subarray(0, 4)), 'ff03c021', `code ${code}`);
      assert.notEqual(
        toHex(f),
        linuxPptpXmit(PppProtocol.Lcp, payload, BOTH),
        'pptp_xmit would strip ff03 here',
      );
    }
    assert.equal(
      toHex(encodePppFrame({ protocol: PppProtocol.Lcp, payload: new Uint8Array(0) }, BOTH)),
      'ff03c021',
    );
  });
  it('refuses protocol values RFC 1661 §2 forbids', () => {
    for (const p of [0x0020, 0x0121, 0x00ff, 0x10000, -1]) {
      assert.throws(() => encodePppFrame({ protocol: p, payload: new Uint8Array(0) }), RangeError);
    }
  });
  it('encodes into an offset of a larger buffer', () => {
    const out = new Uint8Array(20).fill(0xa5);
    const w = encodePppFrame({ protocol: 0x21, payload: fromHex('4500') }, BOTH, out, 5);
    assert.equal(toHex(w), '214500');
    assert.equal(toHex(concatBytes(out.subarray(0, 5))), 'a5a5a5a5a5');
  });
});
