/**
 * Enforces the number-field rule of docs/style.md: in src/, a class field
 * of type `number` that is not `readonly` is declared with a number
 * initializer (`private rttMs = 0`), never bare (`private rttMs: number`).
 *
 * Why it matters: the project compiles to ES2022 class fields, so a bare
 * declaration defines the field as `undefined` when the object is made.
 * V8 then gives the field a tagged representation, in which every
 * non-integer (or ≥ 2^31) value stored is a new heap number: the GRE
 * acknowledgment time-out estimator allocated two at every acknowledgment
 * that way, which a server with tens of thousands of idle sessions turned
 * into old-space garbage. A field that starts as a number keeps a double
 * representation and is written in place. The second test shows the
 * allocation itself.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { AdaptiveTimeout } from '../src/pptp/gre-timeout.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** `file:line name` of every mutable, bare `number` class field in `text`. */
function bareNumberFields(file: string, text: string): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isPropertyDeclaration(node) &&
      node.initializer === undefined &&
      node.type?.kind === ts.SyntaxKind.NumberKeyword &&
      !node.modifiers?.some(
        (m) => m.kind === ts.SyntaxKind.ReadonlyKeyword || m.kind === ts.SyntaxKind.DeclareKeyword,
      ) &&
      !node.questionToken
    ) {
      const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
      found.push(`${relative(root, file)}:${line} ${node.name.getText(sf)}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

describe('number fields', () => {
  it('the rule catches a bare mutable number field, and only that', () => {
    const text = `class A {
  private a: number;
  private readonly b: number;
  private c = 0;
  d?: number;
  e: number | undefined;
  constructor() { this.a = 1; this.b = 2; }
}
interface I { f: number }`;
    assert.deepEqual(bareNumberFields(join(root, 'src/x.ts'), text), ['src/x.ts:2 a']);
  });

  it('src/ declares every mutable number field with an initializer', () => {
    const found = walk(join(root, 'src')).flatMap((f) => bareNumberFields(f, readFileSync(f, 'utf8')));
    assert.deepEqual(found, [], 'give these fields a number initializer (docs/style.md)');
  });

  it('the acknowledgment time-out estimator updates its figures without allocating', async () => {
    const ato = new AdaptiveTimeout({ minTimeoutMs: 10, maxTimeoutMs: 5000, initialRttMs: 100 });
    const run = (n: number): void => {
      for (let i = 0; i < n; i++) ato.sample((i * 0.37) % 97.3);
    };
    run(100_000); // warm up (optimised code)
    let collections = 0;
    const obs = new PerformanceObserver((l) => {
      collections += l.getEntries().length;
    });
    obs.observe({ entryTypes: ['gc'] });
    // Two heap numbers per sample made 16 MiB of garbage per 500,000 samples: dozens of collections.
    run(5_000_000);
    await new Promise((r) => setTimeout(r, 20));
    obs.disconnect();
    assert.ok(collections <= 3, `${collections} collections while sampling`);
    assert.ok(ato.timeoutMs > 0);
  });
});
