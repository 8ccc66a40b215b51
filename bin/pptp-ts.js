#!/usr/bin/env node
// The pptp-ts command: runs the compiled JavaScript in dist/ (no TypeScript
// loader at run time). A package from `npm pack` or the registry ships dist/;
// a clone builds it at `npm install` (the `prepare` script) or `npm run build`.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [, , first] = process.argv;
if (first === '--version' || first === '-V') {
  // Answered here: package.json is all `--version` reads (as dist/cli/main.js would).
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`pptp-ts ${pkg.version}\n`);
} else {
  const main = new URL('../dist/cli/main.js', import.meta.url);
  if (!existsSync(main)) {
    const root = fileURLToPath(new URL('..', import.meta.url));
    process.stderr.write(`pptp-ts: ${fileURLToPath(main)} is missing: run \`npm run build\` in ${root}\n`);
    process.exit(1);
  }
  await import(main.href);
}
