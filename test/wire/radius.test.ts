/**
 * RADIUS codec: the RFC 2865 §7 example packets, the RFC 2865 §3/§5 length
 * rules, tagged and vendor attributes, the printer, and total decoding
 * (every truncation, random bytes: a value or a WireError, nothing else).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fromHex, parseIpv4, toHex } from '../../src/wire/bytes.js';
import { WireError, WireErrorCode } from '../../src/wire/errors.js';
import {
  addressAttribute,
  decodeRadius,
  decodeVendorSpecific,
  encodeRadius,
  getAttribute,
  getInteger,
  getMicrosoftAttribute,
  getText,
  integerAttribute,
  MsAttr,
  microsoftAttribute,
  RadiusAttr,
  RadiusCode,
  readTaggedInteger,
  readTaggedText,
  stringifyRadius,
  TunnelType,
  taggedIntegerAttribute,
  taggedTextAttribute,
  textAttribute,
  VENDOR_MICROSOFT,
} from '../../src/wire/radius/index.js';
import { RFC2865_7_1_REQUEST, RFC2865_7_2_ACCEPT, RFC2865_7_2_REQUEST } from './radius-vectors.js';

function throwsWire(f: () => unknown, code?: WireErrorCode): void {
  assert.throws(f, (e: unknown) => e instanceof WireError && (code === undefined || e.code === code));
}

describe('RADIUS codec: RFC 2865 §7 examples', () => {
  it('§7.1 Access-Request decodes to the listed fields and re-encodes to the same bytes', () => {
    const p = decodeRadius(RFC2865_7_1_REQUEST);
    assert.equal(p.code, RadiusCode.AccessRequest);
    assert.equal(p.identifier, 0);
    assert.equal(toHex(p.authenticator), '0f403f9473978057bd83d5cb98f4227a');
    assert.deepEqual(
      p.attributes.map((a) => a.type),
      [RadiusAttr.UserName, RadiusAttr.UserPassword, RadiusAttr.NasIpAddress, RadiusAttr.NasPort],
    );
    assert.equal(getText(p, RadiusAttr.UserName), 'nemo');
    assert.equal(getInteger(p, RadiusAttr.NasIpAddress), parseIpv4('192.168.1.16'));
    assert.equal(getInteger(p, RadiusAttr.NasPort), 3);
    assert.equal(getAttribute(p, RadiusAttr.UserPassword)?.length, 16);
    assert.equal(toHex(encodeRadius(p)), toHex(RFC2865_7_1_REQUEST));
  });

  it('§7.2 Access-Request and Access-Accept decode to the listed attributes', () => {
    const q = decodeRadius(RFC2865_7_2_REQUEST);
    assert.equal(q.identifier, 1);
    assert.equal(getText(q, RadiusAttr.UserName), 'flopsy');
    const chap = getAttribute(q, RadiusAttr.ChapPassword)!;
    assert.equal(chap.length, 17);
    assert.equal(chap[0], 22, 'CHAP ID 22');
    assert.equal(getInteger(q, RadiusAttr.NasPort), 20);
    assert.equal(getInteger(q, RadiusAttr.ServiceType), 2);
    assert.equal(getInteger(q, RadiusAttr.FramedProtocol), 1);
    const a = decodeRadius(RFC2865_7_2_ACCEPT);
    assert.equal(a.code, RadiusCode.AccessAccept);
    assert.equal(getInteger(a, RadiusAttr.FramedIpAddress), parseIpv4('255.255.255.254'));
    assert.equal(getInteger(a, RadiusAttr.FramedMtu), 1500);
    assert.equal(toHex(encodeRadius(a)), toHex(RFC2865_7_2_ACCEPT));
  });

  it('prints one line per attribute with names and typed values', () => {
    const text = stringifyRadius(decodeRadius(RFC2865_7_2_ACCEPT));
    assert.match(text, /^Access-Accept id 1 /);
    assert.match(text, /Service-Type = Framed \(2\)/);
    assert.match(text, /Framed-Protocol = PPP \(1\)/);
    assert.match(text, /Framed-IP-Address = 255\.255\.255\.254/);
    assert.match(text, /Framed-MTU = 1500/);
    assert.match(text, /Attr-10 = 0x0000000[02]/, 'an attribute outside the dictionary prints raw');
  });
});

describe('RADIUS codec: length rules (RFC 2865 §3, §5)', () => {
  it('ignores octets after Length as padding', () => {
    const padded = new Uint8Array(RFC2865_7_1_REQUEST.length + 7).fill(0xee);
    padded.set(RFC2865_7_1_REQUEST);
    const p = decodeRadius(padded);
    assert.equal(p.attributes.length, 4);
    assert.equal(toHex(encodeRadius(p)), toHex(RFC2865_7_1_REQUEST));
  });

  it('rejects every truncation of a valid packet with a WireError', () => {
    for (const pkt of [RFC2865_7_1_REQUEST, RFC2865_7_2_REQUEST, RFC2865_7_2_ACCEPT]) {
      for (let n = 0; n < pkt.length; n++)
        throwsWire(() => decodeRadius(pkt.subarray(0, n)), WireErrorCode.Truncated);
    }
  });

  it('rejects a Length that cuts an attribute, and an attribute Length below 2', () => {
    const pkt = RFC2865_7_1_REQUEST.slice();
    for (let len = 21; len < pkt.length; len++) {
      const p = pkt.slice();
      p[2] = len >> 8;
      p[3] = len & 0xff;
      const boundaries = [20, 26, 44, 50, 56];
      if (boundaries.includes(len)) assert.ok(decodeRadius(p));
      else throwsWire(() => decodeRadius(p), WireErrorCode.BadOption);
    }
    for (const bad of [0, 1]) {
      const p = pkt.slice();
      p[21] = bad; // User-Name's Length
      throwsWire(() => decodeRadius(p), WireErrorCode.BadOption);
    }
  });

  it('rejects Length below 20 or above 4096', () => {
    const p = new Uint8Array(5000);
    p[0] = 1;
    for (const [len, code] of [
      [0, WireErrorCode.LengthTooSmall],
      [19, WireErrorCode.LengthTooSmall],
      [4097, WireErrorCode.LengthTooLarge],
    ] as const) {
      p[2] = len >> 8;
      p[3] = len & 0xff;
      throwsWire(() => decodeRadius(p), code);
    }
    p[2] = 4096 >> 8;
    p[3] = 0;
    throwsWire(() => decodeRadius(p)); // 4076 zero octets are attributes of Length 0
  });

  it('decodes random bytes to a packet or a WireError, and prints whatever decodes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.boolean(), (b, fixLength) => {
        if (fixLength && b.length >= 4) {
          b[2] = b.length >> 8;
          b[3] = b.length & 0xff;
        }
        try {
          stringifyRadius(decodeRadius(b));
        } catch (e) {
          if (!(e instanceof WireError)) throw e;
        }
      }),
      { numRuns: 3000, seed: 2865 },
    );
  });

  it('refuses to encode an attribute value above 253 octets or a packet above 4096', () => {
    assert.throws(
      () => encodeRadius({ code: 1, identifier: 0, attributes: [{ type: 1, value: new Uint8Array(254) }] }),
      RangeError,
    );
    const many = Array.from({ length: 17 }, () => ({ type: 26, value: new Uint8Array(253) }));
    assert.throws(() => encodeRadius({ code: 1, identifier: 0, attributes: many }), RangeError);
    assert.ok(
      encodeRadius({ code: 1, identifier: 0, attributes: [{ type: 1, value: new Uint8Array(253) }] }),
    );
  });
});

describe('RADIUS attributes: tags (RFC 2868 §3) and Microsoft VSAs (RFC 2548 §2)', () => {
  it('Tunnel-Type PPTP with and without a tag', () => {
    assert.equal(toHex(taggedIntegerAttribute(RadiusAttr.TunnelType, 0, TunnelType.PPTP).value), '00000001');
    assert.equal(toHex(taggedIntegerAttribute(RadiusAttr.TunnelType, 3, TunnelType.PPTP).value), '03000001');
    assert.deepEqual(readTaggedInteger(fromHex('03000001')), { tag: 3, value: 1 });
    assert.throws(() => taggedIntegerAttribute(RadiusAttr.TunnelType, 32, 1), RangeError);
    throwsWire(() => readTaggedInteger(fromHex('030001')), WireErrorCode.BadValue);
  });

  it('Tunnel-Client-Endpoint: a first octet above 0x1F is text, at or below it a tag', () => {
    const plain = taggedTextAttribute(RadiusAttr.TunnelClientEndpoint, 0, '192.0.2.1');
    assert.equal(plain.value[0], '1'.charCodeAt(0));
    assert.deepEqual(readTaggedText(plain.value), { tag: 0, text: '192.0.2.1' });
    const tagged = taggedTextAttribute(RadiusAttr.TunnelClientEndpoint, 5, '192.0.2.1');
    assert.equal(tagged.value[0], 5);
    assert.deepEqual(readTaggedText(tagged.value), { tag: 5, text: '192.0.2.1' });
    const control = taggedTextAttribute(RadiusAttr.TunnelClientEndpoint, 0, '\u0001x');
    assert.deepEqual(
      readTaggedText(control.value),
      { tag: 0, text: '\u0001x' },
      'a zero tag protects text starting with 0x01',
    );
  });

  it('Microsoft sub-attributes encode as Vendor-Id 311 + Vendor-Type/Length, decode back, and print by name', () => {
    const challenge = fromHex('00112233445566778899aabbccddeeff');
    const vsa = microsoftAttribute(MsAttr.ChapChallenge, challenge);
    assert.equal(toHex(vsa.value), `00000137 0b12 ${toHex(challenge)}`.replace(/ /g, ''));
    const pkt = encodeRadius({
      code: RadiusCode.AccessAccept,
      identifier: 9,
      attributes: [
        vsa,
        microsoftAttribute(MsAttr.PrimaryDnsServer, addressAttribute(0, parseIpv4('192.0.2.53')!).value),
        microsoftAttribute(MsAttr.MppeEncryptionPolicy, integerAttribute(0, 2).value),
        { type: RadiusAttr.VendorSpecific, value: fromHex('0000000901') },
        textAttribute(RadiusAttr.ReplyMessage, 'line "1"\n'),
      ],
    });
    const p = decodeRadius(pkt);
    assert.equal(toHex(getMicrosoftAttribute(p, MsAttr.ChapChallenge)!), toHex(challenge));
    assert.deepEqual(decodeVendorSpecific(vsa.value).vendorId, VENDOR_MICROSOFT);
    const text = stringifyRadius(p);
    assert.match(text, /MS-CHAP-Challenge = 0x00112233/);
    assert.match(text, /MS-Primary-DNS-Server = 192\.0\.2\.53/);
    assert.match(text, /MS-MPPE-Encryption-Policy = Encryption-Required \(2\)/);
    assert.match(text, /Vendor-Specific vendor 9 = 0x01 \(unparsed\)/, 'an unparseable VSA is kept raw');
    assert.match(text, /Reply-Message = "line \\"1\\"\\n"/, 'text is escaped');
  });
});
