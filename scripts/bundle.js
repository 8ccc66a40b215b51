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
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

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
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    await bundle();
  } catch (e) {
    console.error(`bundle: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}
