/**
 * The functions the sources need from the native addon are listed twice: in
 * src/io/native.ts (loadAddon refuses a binary that lacks one, naming it,
 * instead of failing later with "is not a function") and in
 * native/install.mjs (which recompiles when the binary found, e.g. a
 * build/Release left by older sources, lacks one). The lists must agree, and
 * the binary of this checkout must have every function on them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadAddon, REQUIRED_ADDON_FUNCTIONS } from '../../src/io/native.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('native addon functions', () => {
  it('native/install.mjs checks the same functions as src/io/native.ts', () => {
    const text = readFileSync(`${ROOT}/native/install.mjs`, 'utf8');
    const m = /const REQUIRED = \[([^\]]*)\]/.exec(text);
    assert.ok(m, 'a REQUIRED list in native/install.mjs');
    const listed = [...m[1]!.matchAll(/'([A-Za-z]+)'/g)].map((x) => x[1]);
    assert.deepEqual(listed, [...REQUIRED_ADDON_FUNCTIONS]);
  });

  it('the addon this checkout loads has every one of them', () => {
    const addon = loadAddon() as unknown as Record<string, unknown>;
    for (const f of REQUIRED_ADDON_FUNCTIONS) assert.equal(typeof addon[f], 'function', f);
  });
});
