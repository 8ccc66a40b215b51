/**
 * Enforces the dependency rule of docs/style.md §1 and docs/architecture.md §2 by parsing
 * every import in src/:
 *   log → nothing (the Logger interface every floor above wire may take)
 *   wire → wire only, and no Node built-ins
 *   crypto → crypto, and node:crypto only
 *   mppe → mppe, wire, crypto (the MPPE engine: key state, encrypt, decrypt)
 *   ppp, pptp → themselves, wire, crypto, mppe (no Node built-ins but node:crypto)
 *   radius → radius, wire, crypto (the RADIUS client engine)
 *   io → io, wire, capture (the OS lives here; capture/ is the pure pcap writer)
 *   session → the engines and io (the glue of one PPTP call: channel + unit + data path)
 *   client, server → session and below (not each other, not cli); server also radius (the NAS)
 *   capture → capture, wire (pcap/pcapng files, TCP reassembly: pure)
 *   decode → decode, capture, wire, crypto, mppe, dns-packet (the dissector behind `pptp-ts decode`)
 *   cli → anything
 *   api → everything but cli (the library: src/index.ts exports it)
 * and that there are no import cycles. The sans-IO layers may not read
 * time or start timers either.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

const IMPORT_RE =
  /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

interface FileInfo {
  layer: string;
  imports: string[]; // resolved project files
  builtins: string[]; // node: / bare specifiers
  text: string;
}

const files = new Map<string, FileInfo>();
for (const f of walk(src)) {
  const rel = relative(src, f);
  const text = readFileSync(f, 'utf8');
  const info: FileInfo = { layer: rel.split('/')[0]!, imports: [], builtins: [], text };
  for (const m of text.matchAll(IMPORT_RE)) {
    const spec = (m[1] ?? m[2])!;
    if (spec.startsWith('.')) {
      info.imports.push(relative(src, resolve(dirname(f), spec.replace(/\.js$/, '.ts'))));
    } else {
      info.builtins.push(spec);
    }
  }
  files.set(rel, info);
}

const ALLOWED: Record<string, { layers: string[]; packages: (s: string) => boolean }> = {
  log: { layers: ['log'], packages: () => false },
  wire: { layers: ['wire'], packages: () => false },
  crypto: { layers: ['crypto'], packages: (s) => ['node:crypto', 'js-md4', 'des.js'].includes(s) },
  mppe: { layers: ['log', 'mppe', 'wire', 'crypto'], packages: () => false },
  ppp: { layers: ['log', 'ppp', 'wire', 'crypto', 'mppe'], packages: (s) => s === 'node:crypto' },
  pptp: { layers: ['log', 'pptp', 'wire', 'crypto', 'mppe', 'ppp'], packages: (s) => s === 'node:crypto' },
  radius: { layers: ['log', 'radius', 'wire', 'crypto'], packages: () => false },
  io: { layers: ['log', 'io', 'wire', 'capture'], packages: () => true },
  capture: { layers: ['capture', 'wire'], packages: () => false },
  decode: {
    layers: ['log', 'decode', 'capture', 'wire', 'crypto', 'mppe'],
    packages: (s) => s === 'dns-packet',
  },
  session: {
    layers: ['log', 'session', 'io', 'ppp', 'pptp', 'wire', 'crypto', 'mppe'],
    packages: () => true,
  },
  client: {
    layers: ['log', 'client', 'session', 'io', 'ppp', 'pptp', 'wire', 'crypto', 'mppe'],
    packages: () => true,
  },
  server: {
    layers: ['log', 'server', 'session', 'io', 'ppp', 'pptp', 'wire', 'crypto', 'mppe', 'radius'],
    packages: () => true,
  },
  cli: {
    layers: [
      'log',
      'cli',
      'client',
      'server',
      'session',
      'io',
      'ppp',
      'pptp',
      'wire',
      'crypto',
      'mppe',
      'capture',
      'decode',
    ],
    packages: () => true,
  },
  api: {
    layers: [
      'log',
      'api',
      'client',
      'server',
      'session',
      'io',
      'ppp',
      'pptp',
      'wire',
      'crypto',
      'mppe',
      'capture',
      'decode',
    ],
    packages: () => true,
  },
  'index.ts': {
    layers: [
      'log',
      'api',
      'client',
      'server',
      'session',
      'io',
      'ppp',
      'pptp',
      'wire',
      'crypto',
      'mppe',
      'capture',
      'decode',
    ],
    packages: () => false,
  },
};

describe('layering (docs/style.md §1)', () => {
  it('finds the source tree', () => assert.ok(files.size > 0));

  for (const [rel, info] of files) {
    it(`${rel} imports only what its layer may`, () => {
      const rule = ALLOWED[info.layer];
      assert.ok(rule, `${rel}: unknown layer ${info.layer}`);
      for (const imp of info.imports) {
        const layer = imp.split('/')[0]!;
        assert.ok(rule.layers.includes(layer), `${rel} (${info.layer}) may not import ${imp} (${layer})`);
        assert.ok(files.has(imp), `${rel} imports missing file ${imp}`);
      }
      for (const b of info.builtins) {
        assert.ok(rule.packages(b), `${rel} (${info.layer}) may not import package ${b}`);
      }
    });
  }

  it('sans-IO layers neither read the clock nor start timers', () => {
    const banned = /\b(setTimeout|setInterval|setImmediate|Date\.now|performance\.now|process\.hrtime)\b/;
    for (const [rel, info] of files) {
      if (
        !['log', 'wire', 'crypto', 'mppe', 'ppp', 'pptp', 'radius', 'capture', 'decode'].includes(info.layer)
      )
        continue;
      const code = info.text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      assert.ok(!banned.test(code), `${rel} uses ${banned.exec(code)?.[0]}`);
    }
  });

  it('has no import cycles', () => {
    const state = new Map<string, 'visiting' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'visiting') {
        assert.fail(`import cycle: ${[...stack.slice(stack.indexOf(f)), f].join(' → ')}`);
      }
      state.set(f, 'visiting');
      stack.push(f);
      for (const imp of files.get(f)?.imports ?? []) visit(imp);
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of files.keys()) visit(f);
  });
});
