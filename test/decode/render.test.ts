import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatTimestamp,
  layerJson,
  layerLines,
  packetJson,
  renderPacketText,
} from '../../src/decode/render.js';
import {
  flag,
  hidden,
  kv,
  type Layer,
  list,
  malformedLayer,
  printable,
  printableString,
  shown,
} from '../../src/decode/tree.js';
import { fromHex } from '../../src/wire/bytes.js';
import { WireError, WireErrorCode } from '../../src/wire/errors.js';

describe('rendering', () => {
  it('formats UTC times with micro- or nanosecond precision, and survives absurd stamps', () => {
    assert.equal(
      formatTimestamp({ seconds: 1_718_000_000, nanoseconds: 8_000_000 }),
      '2024-06-10 06:13:20.008000',
    );
    assert.equal(
      formatTimestamp({ seconds: 0, nanoseconds: 123_456_789 }, 'T'),
      '1970-01-01T00:00:00.123456789',
    );
    assert.equal(formatTimestamp({ seconds: 2 ** 62, nanoseconds: 0 }), `${2 ** 62}.000000s`);
  });

  it('puts scalar fields on the layer line, hides empty texts, and wraps long lines under the field column', () => {
    const fields = [kv('a', 1), flag('off', false, 'OFF'), flag('on', true, 'ON'), hidden('secret', 'x')];
    for (let i = 0; i < 30; i++) fields.push(kv(`k${i}`, i, `field${i}`));
    const lines = layerLines({ protocol: 'TEST', fields });
    assert.ok(lines[0]!.startsWith('  TEST      a 1  ON  field0 0'));
    assert.ok(!lines.join('\n').includes('OFF'));
    assert.ok(!lines.join('\n').includes('secret'));
    assert.ok(lines.length > 1);
    for (const l of lines) assert.ok(l.length <= 110, l);
    for (const l of lines.slice(1)) assert.ok(l.startsWith(' '.repeat(12)) && l[12] !== ' ', l);
  });

  it('shows list groups one item per line, and a malformed layer with its reason, RFC sentence and bytes', () => {
    const err = new WireError(
      WireErrorCode.BadVersion,
      'GRE: Ver 0',
      'RFC 2637 §4.1: "Ver ... Must contain 1"',
    );
    const l: Layer = malformedLayer('GRE', err, fromHex('00000800'), [shown('flags', '', '[]')]);
    assert.deepEqual(layerLines(l), [
      '  GRE       []',
      '            [malformed] bad-version: GRE: Ver 0',
      '              RFC 2637 §4.1: "Ver ... Must contain 1"',
      '              bytes: 00000800',
    ]);
    const withList: Layer = {
      protocol: 'LCP',
      fields: [
        kv('code', 1, '', 'Configure-Request (1)'),
        list('options', [{ key: '0', text: 'MRU (1): 1400', children: [hidden('mru', 1400)] }], ''),
      ],
    };
    assert.deepEqual(layerLines(withList), [
      '  LCP       Configure-Request (1)',
      '            MRU (1): 1400',
    ]);
    assert.deepEqual(layerJson(withList), { layer: 'LCP', code: 1, options: [{ mru: 1400 }] });
    assert.deepEqual(layerJson(l), {
      layer: 'GRE',
      flags: '',
      malformed: {
        code: 'bad-version',
        detail: 'GRE: Ver 0',
        reference: 'RFC 2637 §4.1: "Ver ... Must contain 1"',
        hex: '00000800',
      },
    });
  });

  it('a decoder that throws something other than WireError is reported as a decoder bug', () => {
    const l = malformedLayer('X', new RangeError('offset out of bounds'));
    assert.equal(l.malformed!.code, 'internal-error');
    assert.match(l.malformed!.detail, /^decoder bug: RangeError: offset out of bounds/);
  });

  it('escapes peer-supplied text so it cannot add lines or terminal escapes to the output', () => {
    assert.equal(printable(Uint8Array.from([0x41, 0x0a, 0x1b, 0x5c, 0x7f, 0x42])), 'A\\x0a\\x1b\\\\\\x7fB');
    assert.equal(printableString('a\nb\u202e'), 'a\\x0ab\\u{202e}');
    const p = {
      frameNumber: 3,
      timestamp: { seconds: 10, nanoseconds: 5 },
      relativeSeconds: 1.5,
      capturedLength: 60,
      originalLength: 80,
      interfaceId: 0,
      link: 'Raw IP',
      layers: [
        { protocol: 'PAP', fields: [kv('peerId', printable(Uint8Array.from([0x61, 0x0a])), 'peer-id')] },
      ],
    };
    const text = renderPacketText(p);
    assert.equal(text.split('\n').length, 2);
    assert.equal(
      text.split('\n')[0],
      'Frame 3  1970-01-01 00:00:10.000000005 UTC  +1.500000s  80 bytes (60 captured)  Raw IP',
    );
    assert.deepEqual(packetJson(p), {
      frame: 3,
      time: '1970-01-01T00:00:10.000000005Z',
      epoch: '10.000000005',
      relative: 1.5,
      length: 80,
      captured: 60,
      interface: 0,
      link: 'Raw IP',
      layers: [{ layer: 'PAP', peerId: 'a\\x0a' }],
    });
  });
});
