/**
 * The field tables (src/wire/pptp/fields.ts): every message type has one,
 * it lays out exactly the RFC 2637 §2 size, every table round-trips
 * (encode → decode → the same fields), and the decode printer shows every
 * field the table names, under the table's JSON key.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pptpMessageLayer } from '../../../src/decode/pptp.js';
import type { Field } from '../../../src/decode/tree.js';
import {
  decodePptpMessage,
  encodePptpMessage,
  PPTP_HEADER_LENGTH,
  PPTP_MESSAGE_LENGTH,
  PPTP_MESSAGE_SPECS,
  type PptpMessage,
  type PptpMessageSpec,
  PptpMessageType as T,
} from '../../../src/wire/pptp/index.js';
import { prng } from '../../fuzz/mutate.js';

const TYPES = Object.values(T).filter((v): v is T => typeof v === 'number');

/** A message of `spec`'s type whose every field holds a value drawn from `rnd` (strings of 1..width bytes, no NUL). */
function randomOf(spec: PptpMessageSpec, rnd: () => number): PptpMessage {
  const m: Record<string, number | string> = { type: spec.type };
  for (const f of spec.valueFields) {
    if (f.kind === 'string') {
      const n = 1 + Math.floor(rnd() * f.width);
      let s = '';
      for (let i = 0; i < n; i++) s += String.fromCharCode(1 + Math.floor(rnd() * 255));
      m[f.name] = s;
    } else {
      // Never 0, so a field the printer hides only when zero still has to show.
      m[f.name] = 1 + Math.floor(rnd() * (2 ** (8 * f.width) - 1));
    }
  }
  return m as unknown as PptpMessage;
}

describe('PPTP field tables (RFC 2637 §2)', () => {
  it('there is one table per Control Message Type 1–15, under its own type', () => {
    assert.equal(TYPES.length, 15);
    for (const t of TYPES) assert.equal(PPTP_MESSAGE_SPECS[t].type, t);
  });

  for (const t of TYPES) {
    const spec = PPTP_MESSAGE_SPECS[t] as PptpMessageSpec;
    describe(`${spec.abbreviation} (${spec.title})`, () => {
      it('lays its fields end to end from byte 12 to exactly the RFC size', () => {
        let at = PPTP_HEADER_LENGTH;
        for (const f of spec.fields) {
          assert.equal(f.offset, at, f.rfcName);
          at += f.width;
        }
        assert.equal(at, PPTP_MESSAGE_LENGTH[t]);
        assert.equal(spec.size, PPTP_MESSAGE_LENGTH[t]);
      });

      it('round-trips: encode → decode gives back every field, by the table and by the generic decoder', () => {
        const rnd = prng(0xf1e1d + t);
        for (let i = 0; i < 50; i++) {
          const m = randomOf(spec, rnd);
          const bytes = encodePptpMessage(m);
          assert.equal(bytes.length, spec.size);
          assert.deepEqual(decodePptpMessage(bytes), m);
          assert.deepEqual(spec.decode(spec.encode(m)), m);
          // Every value field is in the decoded value, and nothing else but `type`.
          assert.deepEqual(
            Object.keys(decodePptpMessage(bytes)).sort(),
            ['type', ...spec.valueFields.map((f) => f.name)].sort(),
          );
        }
      });

      it('writes each field where the table says, and Reserved fields as 0', () => {
        const m = randomOf(spec, prng(0x0ff5e7 + t));
        const bytes = encodePptpMessage(m);
        const values = m as unknown as Record<string, number | string>;
        const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        for (const f of spec.fields) {
          const v = values[f.name];
          if (f.kind === 'u8') assert.equal(dv.getUint8(f.offset), v, f.rfcName);
          else if (f.kind === 'u16') assert.equal(dv.getUint16(f.offset), v, f.rfcName);
          else if (f.kind === 'u32') assert.equal(dv.getUint32(f.offset), v, f.rfcName);
          else if (f.kind === 'reserved') {
            assert.deepEqual(
              [...bytes.subarray(f.offset, f.offset + f.width)],
              Array(f.width).fill(0),
              f.rfcName,
            );
          } else {
            const s = v as string;
            const want = [...s].map((c) => c.charCodeAt(0));
            assert.deepEqual([...bytes.subarray(f.offset, f.offset + s.length)], want, f.rfcName);
          }
        }
      });

      it('the encoder names the message and the RFC field when a value does not fit', () => {
        const m = randomOf(spec, prng(0xbad + t)) as unknown as Record<string, number | string>;
        for (const f of spec.valueFields) {
          const bad = f.kind === 'string' ? 'x'.repeat(f.width + 1) : 2 ** (8 * f.width);
          assert.throws(
            () => encodePptpMessage({ ...m, [f.name]: bad } as unknown as PptpMessage),
            (e: unknown) =>
              e instanceof RangeError && e.message.startsWith(`${spec.abbreviation} ${f.rfcName}: `),
            f.rfcName,
          );
        }
      });

      it('the printer shows every field of the table, under its key, with its label', () => {
        const m = randomOf(spec, prng(0x9e1 + t));
        const { layer, message } = pptpMessageLayer(encodePptpMessage(m));
        assert.deepEqual(message, m);
        const byKey = new Map<string, Field>(layer.fields.map((f) => [f.key, f]));
        assert.equal(byKey.get('messageType')?.text, `${spec.title} (${spec.abbreviation})`);
        const values = m as unknown as Record<string, number | string>;
        for (const f of spec.valueFields) {
          const shown = byKey.get(f.name);
          assert.ok(shown, `no printed field ${f.name}`);
          assert.equal(shown.value, values[f.name], f.name);
          assert.ok((shown.text ?? '').startsWith(`${f.label} `), `${f.name}: ${shown.text}`);
        }
        for (const f of spec.fields.filter((x) => x.kind === 'reserved')) assert.ok(!byKey.has(f.name));
      });
    });
  }
});
