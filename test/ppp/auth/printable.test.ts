/**
 * `printable` (src/ppp/auth/auth-util.ts), which makes peer-supplied names and
 * messages safe for logs and results: against a character-at-a-time
 * reference over random strings with control characters, astral code
 * points and every cut length.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { printable } from '../../../src/ppp/auth/auth-util.js';

/** The reference: one code point at a time, a control character becomes '.', cut once `max` UTF-16 units are reached. */
function reference(text: string, max: number): string {
  let out = '';
  for (const ch of text) {
    if (out.length >= max) return `${out}…`;
    const c = ch.codePointAt(0)!;
    out += c < 0x20 || c === 0x7f ? '.' : ch;
  }
  return out;
}

describe('printable', () => {
  it('matches the reference on 50,000 random strings', () => {
    let seed = 12345;
    const next = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed >>> 8;
    };
    const alphabet = ['a', 'Z', ' ', '\n', '\t', '\x00', '\x1f', '\x7f', 'é', '中', '😀', '\u202e'];
    for (let i = 0; i < 50_000; i++) {
      const len = next() % 24;
      let s = '';
      for (let k = 0; k < len; k++) s += alphabet[next() % alphabet.length];
      const max = 1 + (next() % 16);
      assert.equal(printable(s, max), reference(s, max), JSON.stringify({ s, max }));
    }
  });

  it('decodes bytes as UTF-8 and keeps the default cut at 200', () => {
    assert.equal(printable(Uint8Array.from([0x41, 0x0a, 0x42, 0x7f])), 'A.B.');
    const long = 'x'.repeat(300);
    assert.equal(printable(long), `${'x'.repeat(200)}…`);
    assert.equal(printable('x'.repeat(200)), 'x'.repeat(200));
  });
});
