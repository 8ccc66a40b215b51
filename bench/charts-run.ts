/**
 * `npm run bench:charts -- RESULT.json...`: draws the charts of result
 * files the lab or the sessions bench wrote earlier (bench/charts.ts), as
 * SVG files beside each result. The benches draw their own charts when they
 * write a result; this redraws old ones.
 *
 * Exit status: 0 drawn; 2 bad usage or a file that is not a bench result.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseBenchArgs } from './args.js';
import { type Chart, labCharts, type SessionsChartInput, sessionsCharts } from './charts.js';
import { RESULT_SCHEMA as LAB_SCHEMA, type LabResult } from './lab/result.js';
import { SESSIONS_SCHEMA } from './sessions/report.js';

export const USAGE = `usage: npm run bench:charts -- RESULT.json [RESULT.json...]

  RESULT.json   a lab-*.json or sessions-*.json file from bench/results
  -h, --help    this text
`;

/** The charts of one result file (by its schema), named after the file. */
export async function chartsOfResult(path: string): Promise<Chart[]> {
  let r: { schema?: unknown };
  try {
    r = JSON.parse(readFileSync(path, 'utf8')) as { schema?: unknown };
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
  const stem = basename(path).replace(/\.json$/, '');
  if (r.schema === LAB_SCHEMA) return labCharts(r as LabResult, stem);
  if (r.schema === SESSIONS_SCHEMA) {
    const s = r as SessionsChartInput & { setup: { up: number } };
    return sessionsCharts(s, stem, s.setup.up);
  }
  throw new Error(`${path}: not a lab or sessions result (schema ${JSON.stringify(r.schema)})`);
}

async function main(argv: readonly string[]): Promise<number> {
  let files: readonly string[];
  try {
    const a = parseBenchArgs(argv, { help: 'boolean' } as const, { positionals: true });
    if (a.flags.some((f) => f.name === '--help')) {
      process.stdout.write(USAGE);
      return 0;
    }
    files = a.positionals;
    if (files.length === 0) throw new Error('name at least one result file');
  } catch (e) {
    process.stderr.write(`bench:charts: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  for (const f of files) {
    try {
      for (const c of await chartsOfResult(f)) {
        const out = join(dirname(f), c.file);
        writeFileSync(out, c.svg);
        process.stdout.write(`${out}\n`);
      }
    } catch (e) {
      process.stderr.write(`bench:charts: ${(e as Error).message}\n`);
      return 2;
    }
  }
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
