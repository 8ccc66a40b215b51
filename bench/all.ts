/**
 * `npm run bench`: the microbenchmarks (`npm run bench:micro`: codecs, MPPE,
 * GRE channel, in-process data path), the tunnel lab against real
 * contenders (`npm run bench:lab`: veth, VXLAN, socat, OpenVPN, wireguard-go,
 * pptp-ts), the compiled command's start-up, time to tunnel up and client
 * RSS (`npm run bench:startup`), and 10,000 sessions against one server
 * (`npm run bench:sessions`: RSS per idle session). Each part runs as its own
 * process, so one part's heap and JIT state never colour the other's figures.
 * Options go to the parts directly: use the scripts for that. Every part that
 * starts `pptp-ts` runs the compiled build (bin/pptp-ts.js → dist/), rebuilt
 * first if a source is newer (bench/dist.ts).
 *
 * Files: the lab writes `bench/results/lab-STAMP.{json,md}`, the start-up
 * bench `startup-STAMP.{json,md}`, the sessions bench
 * `sessions-STAMP.{json,md}`; the microbenchmarks go next to them as
 * `micro-STAMP.{json,md}`, kept only when the lab measured (on a machine it
 * found idle, it refuses a busy one with exit status 3): otherwise they stay
 * `*.tmp`, which git ignores.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDist } from './dist.js';

const here = dirname(fileURLToPath(import.meta.url));
if (process.argv.length > 2) {
  console.error(
    'bench: npm run bench takes no options; use npm run bench:micro -- ... or npm run bench:lab -- ...',
  );
  process.exit(2);
}
ensureDist();
const out = join(here, 'results');
mkdirSync(out, { recursive: true });
const stamp = new Date()
  .toISOString()
  .replace(/[:.]/g, '-')
  .replace(/-\d+Z$/, 'Z');
const micro = { json: join(out, `micro-${stamp}.json`), md: join(out, `micro-${stamp}.md`) };
const parts: [string, string, string[]][] = [
  ['microbenchmarks', join(here, 'run.ts'), ['--json', `${micro.json}.tmp`, '--md', `${micro.md}.tmp`]],
  ['tunnel lab', join(here, 'lab', 'run.ts'), []],
  ['start-up, time to tunnel up, client RSS (compiled vs tsx)', join(here, 'startup', 'run.ts'), []],
  ['10,000 sessions against one server', join(here, 'sessions', 'run.ts'), []],
];
let status = 0;
const statuses: (number | null)[] = [];
for (const [title, file, args] of parts) {
  console.log(`\n══ ${title} ══`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file, ...args], {
    stdio: 'inherit',
  });
  statuses.push(r.status);
  if (r.status !== 0) {
    console.error(`bench: ${title} exited with ${r.status ?? r.signal}`);
    status = r.status ?? 1;
  }
}
// The lab measured (0: all ran, 1: some contender failed a round): keep the microbenchmarks too.
if (statuses[0] === 0 && (statuses[1] === 0 || statuses[1] === 1)) {
  renameSync(`${micro.json}.tmp`, micro.json);
  renameSync(`${micro.md}.tmp`, micro.md);
  console.log(`bench: microbenchmarks written to ${micro.json} and ${micro.md}`);
}
process.exit(status);
