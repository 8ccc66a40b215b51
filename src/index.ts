/**
 * The library entry point of the pptp-ts package (package.json `exports`
 * "."): `import … from 'pptp-ts'` resolves here, compiled to dist/index.js
 * with its declarations in dist/index.d.ts. It loads nothing at import time:
 * no native addon, no sockets.
 */
export {};
