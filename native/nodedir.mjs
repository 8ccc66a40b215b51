// Where node-gyp is, and where it finds Node's headers without a download.
//
// node-gyp downloads Node's headers unless it is told where local ones are,
// and the machines this project runs on reach no download site. Node
// installs its headers next to the binary (<prefix>/include/node), so point
// node-gyp there (--nodedir, or npm_config_nodedir for tools that run
// node-gyp themselves) when they exist and match this Node's version.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** This Node's install prefix when its headers are there and match its version, else undefined. */
export function localNodeDir() {
  const prefix = resolve(dirname(process.execPath), '..');
  const versionH = join(prefix, 'include', 'node', 'node_version.h');
  if (!existsSync(versionH)) return undefined;
  const text = readFileSync(versionH, 'utf8');
  const part = (name) => text.match(new RegExp(`#define NODE_${name}_VERSION (\\d+)`))?.[1];
  const version = `v${part('MAJOR')}.${part('MINOR')}.${part('PATCH')}`;
  return version === process.version ? prefix : undefined;
}

// npm puts its bundled node-gyp on PATH while it runs scripts; by hand, use
// the copy that ships inside npm next to this Node.
export function nodeGyp() {
  const bundled = join(
    dirname(process.execPath),
    '..',
    'lib',
    'node_modules',
    'npm',
    'node_modules',
    'node-gyp',
    'bin',
    'node-gyp.js',
  );
  return existsSync(bundled) ? [process.execPath, bundled] : ['node-gyp'];
}
