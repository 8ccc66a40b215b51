/**
 * Differential test against OpenSSL's legacy provider, an independent
 * implementation of MD4, DES and RC4. Node 20 exposes them only when started
 * with --openssl-legacy-provider, so a child process computes them (bounded
 * by a time-out) and we compare with src/crypto on the same random inputs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { desEncryptBlock } from '../../src/crypto/des.js';
import { md4 } from '../../src/crypto/md4.js';
import { Rc4 } from '../../src/crypto/rc4.js';
import { fromHex, toHex } from '../../src/wire/bytes.js';
import { prng } from '../fuzz/mutate.js';

interface Case {
  kind: 'md4' | 'des' | 'rc4';
  key: string;
  data: string;
}

const CHILD = `
const c = require('node:crypto');
const cases = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
const out = cases.map(({ kind, key, data }) => {
  const d = Buffer.from(data, 'hex');
  if (kind === 'md4') return c.createHash('md4').update(d).digest('hex');
  const k = Buffer.from(key, 'hex');
  const ci = c.createCipheriv(kind === 'des' ? 'des-ecb' : 'rc4', k, null);
  ci.setAutoPadding(false);
  return Buffer.concat([ci.update(d), ci.final()]).toString('hex');
});
process.stdout.write(JSON.stringify(out));
`;

function oracle(cases: Case[]): string[] {
  const r = spawnSync(process.execPath, ['--openssl-legacy-provider', '-e', CHILD], {
    input: JSON.stringify(cases),
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(r.status, 0, `oracle child failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as string[];
}

function randomBytes(rnd: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

describe('MD4, DES and RC4 agree with OpenSSL (legacy provider, child process)', () => {
  const rnd = prng(0x0551);
  const cases: Case[] = [];
  const ours: string[] = [];
  for (let i = 0; i < 150; i++) {
    const data = randomBytes(rnd, Math.floor(rnd() * 200));
    cases.push({ kind: 'md4', key: '', data: toHex(data) });
    ours.push(toHex(md4(data)));
  }
  for (let i = 0; i < 150; i++) {
    const key = randomBytes(rnd, 8);
    const data = randomBytes(rnd, 8);
    cases.push({ kind: 'des', key: toHex(key), data: toHex(data) });
    ours.push(toHex(desEncryptBlock(data, key)));
  }
  for (let i = 0; i < 150; i++) {
    const key = randomBytes(rnd, [5, 8, 16, 1 + Math.floor(rnd() * 64)][i % 4]!);
    const data = randomBytes(rnd, Math.floor(rnd() * 1500));
    cases.push({ kind: 'rc4', key: toHex(key), data: toHex(data) });
    const enc = data.slice();
    new Rc4(key).process(enc);
    ours.push(toHex(enc));
  }

  it('450 random cases give identical bytes', () => {
    const theirs = oracle(cases);
    assert.equal(theirs.length, cases.length);
    for (let i = 0; i < cases.length; i++) {
      assert.equal(ours[i], theirs[i], `${cases[i]!.kind} case ${i} (key ${cases[i]!.key})`);
    }
    // Sanity: the oracle really computed something key-dependent.
    assert.notEqual(theirs[300], toHex(fromHex(cases[300]!.data)));
  });
});
