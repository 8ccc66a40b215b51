/** Loads every `targets` export from test/fuzz/targets/*.ts. */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { FuzzTarget } from './mutate.js';

export async function loadFuzzTargets(): Promise<FuzzTarget[]> {
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'targets');
  const out: FuzzTarget[] = [];
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.ts')) continue;
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as { targets?: FuzzTarget[] };
    if (!mod.targets) throw new Error(`${f} exports no targets`);
    out.push(...mod.targets);
  }
  return out;
}
