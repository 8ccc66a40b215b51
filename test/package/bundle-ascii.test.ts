/**
 * The connect bundle is ASCII only (scripts/bundle.js, docs/packaging.md
 * "Start-up and memory"): V8 holds a script's source one byte per character
 * only when every character is Latin-1, so the comments' `§`, `→` and `─`
 * doubled the bundle's source in a client's heap. The replacement touches
 * comments only and keeps every line's length (the source map's columns).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BUNDLE = join(ROOT, 'dist', 'cli', 'connect.bundle.js');

async function asciiComments(code: string): Promise<string> {
  const mod = (await import(pathToFileURL(join(ROOT, 'scripts', 'bundle.js')).href)) as {
    asciiComments: (code: string) => Promise<string>;
  };
  return mod.asciiComments(code);
}

describe('the connect bundle is ASCII only', () => {
  it('the built bundle has no character above 0x7f', () => {
    const js = readFileSync(BUNDLE, 'utf8');
    const first = js.search(/\P{ASCII}/u);
    assert.equal(first, -1, `non-ASCII at ${first}: ${js.slice(first - 40, first + 40)}`);
    // It is still the client (the replacement did not empty it).
    assert.match(js, /usage: pptp-ts connect /);
  });

  it('replaces what comments hold, one UTF-16 unit for one, and leaves ASCII code as it is', async () => {
    const code = '// RFC 2637 §4.2 → ok ─── “x” 𝔸\nexport const a = 1; /* ≤ 2 */ export const b = a + 1;\n';
    const out = await asciiComments(code);
    assert.equal(
      out,
      '// RFC 2637 S4.2 > ok --- "x" ??\nexport const a = 1; /* < 2 */ export const b = a + 1;\n',
    );
    assert.equal(out.length, code.length);
    const plain = 'export const c = "plain";\n';
    assert.equal(await asciiComments(plain), plain);
  });

  it('refuses a non-ASCII character outside a comment (the code would change)', async () => {
    await assert.rejects(asciiComments('export const s = "§";\n'), /outside a comment/);
    await assert.rejects(asciiComments('export const r = /→/;\n'), /outside a comment/);
  });
});
