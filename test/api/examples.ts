/** Where the library's examples are and how to run one (docs/examples, docs/api.md). */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const EXAMPLES = join(ROOT, 'docs', 'examples');
/** The examples' tsconfig: its `paths` say what 'pptp-ts' is. */
export const TSCONFIG = join(EXAMPLES, 'tsconfig.json');

/** The argv that runs example `name` under tsx (with {@link EXAMPLE_ENV} in the environment). */
export function exampleArgv(name: string, args: readonly string[] = []): string[] {
  return [process.execPath, '--import', 'tsx', join(EXAMPLES, `${name}.ts`), ...args];
}

/** tsx reads `paths` from this tsconfig, so `import 'pptp-ts'` resolves as the type check does. */
export const EXAMPLE_ENV = { TSX_TSCONFIG_PATH: TSCONFIG };
