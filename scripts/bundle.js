#!/usr/bin/env node
// Bundles the compiled `connect` command (dist/cli/connect.js and everything
// it imports, des.js included) into one file, dist/cli/connect.bundle.js,
// with esbuild; run after tsc by `npm run build` and scripts/build-if-stale.js.
// Why: a client tunnel is a long-lived process whose RSS counts, and on Node
// 20 every ES module costs about 100 KiB beyond its code (docs/packaging.md,
// "Start-up and memory"). src/cli/main.ts imports the bundle when it exists
// and dist/cli/connect.js otherwise (the sources under tsx). The bundle sits
// in dist/cli/ like the module it replaces, so the paths resolved against
// import.meta.url (the package root two levels up) stay the same.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, transform } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Single ASCII characters for the non-ASCII ones the sources' comments use
 * (one UTF-16 unit for one, so the source map's columns stay right); any
 * other becomes `?`.
 */
const ASCII = new Map([
  ['─', '-'],
  ['—', '-'],
  ['–', '-'],
  ['−', '-'],
  ['§', 'S'],
  ['→', '>'],
  ['←', '<'],
  ['≥', '>'],
  ['≤', '<'],
  ['×', 'x'],
  ['…', '.'],
  ['‘', "'"],
  ['’', "'"],
  ['“', '"'],
  ['”', '"'],
]);

/**
 * `code` with every non-ASCII character (esbuild escapes them in strings,
 * template literals and regular expressions, so only comments hold any)
 * replaced by one ASCII character. Why: V8 keeps a script's source for as
 * long as its functions may be compiled, one byte per character when every
 * character is Latin-1 and two otherwise; the comments' `§`, `→` and `─`
 * made the connect bundle's source twice its size in the client's heap
 * (docs/packaging.md, "Start-up and memory"). Throws if the code itself
 * changed (what esbuild's minifier keeps, which drops every comment, must be
 * the same).
 */
export async function asciiComments(code) {
  const out = code.replace(/\P{ASCII}/gu, (c) => (c.length === 1 ? (ASCII.get(c) ?? '?') : '??'));
  if (out === code) return code;
  const min = async (js) => (await transform(js, { minify: true, format: 'esm', logLevel: 'silent' })).code;
  if ((await min(out)) !== (await min(code)))
    throw new Error('a non-ASCII character outside a comment in the bundle: not replaced');
  return out;
}

/** Writes dist/cli/connect.bundle.js (+ .map); throws on an esbuild error. */
export async function bundle() {
  await build({
    absWorkingDir: root,
    entryPoints: ['dist/cli/connect.js'],
    outfile: 'dist/cli/connect.bundle.js',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Loaded at run time through createRequire (src/io/native.ts): node-gyp-build
    // looks for the addon relative to itself and the package root.
    // Loaded only with --metrics / --profile, from dist/cli/ beside the bundle: a
    // client without them never loads prom-client or zod.
    external: ['node-gyp-build', './connect-metrics.js', './profile.js'],
    sourcemap: 'linked',
    legalComments: 'inline',
    logLevel: 'warning',
  });
  const file = join(root, 'dist', 'cli', 'connect.bundle.js');
  const code = readFileSync(file, 'utf8');
  const ascii = await asciiComments(code);
  if (ascii !== code) writeFileSync(file, ascii);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    await bundle();
  } catch (e) {
    console.error(`bundle: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}
