/**
 * `npm run bench`: the microbenchmarks (`npm run bench:micro`: codecs, MPPE,
 * GRE channel, in-process data path) and then the tunnel lab against real
 * contenders (`npm run bench:lab`: veth, VXLAN, socat, OpenVPN, wireguard-go,
 * pptp-ts). Each part runs as its own process, so one part's heap and JIT
 * state never colour the other's figures. Options go to the parts directly:
 * use the two scripts for that.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const parts: [string, string][] = [
  ['microbenchmarks', join(here, 'run.ts')],
  ['tunnel lab', join(here, 'lab', 'run.ts')],
];
if (process.argv.length > 2) {
  console.error(
    'bench: npm run bench takes no options; use npm run bench:micro -- ... or npm run bench:lab -- ...',
  );
  process.exit(2);
}
let status = 0;
for (const [title, file] of parts) {
  console.log(`\n══ ${title} ══`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], {
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    console.error(`bench: ${title} exited with ${r.status ?? r.signal}`);
    status = r.status ?? 1;
  }
}
process.exit(status);
