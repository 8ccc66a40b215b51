#!/usr/bin/env node
// The pptp-ts command: runs the compiled JavaScript in dist/ (no TypeScript
// loader at run time). A package from `npm pack` or the registry ships dist/;
// a clone builds it at `npm install` (the `prepare` script) or `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  process.stderr.write(`pptp-ts: ${fileURLToPath(main)} is missing: run \`npm run build\` in ${root}\n`);
  process.exit(1);
}
await import(main.href);
