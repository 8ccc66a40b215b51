/**
 * A process that fills an accounting spool and then waits to be killed
 * (test/io/accounting-spool.test.ts): `node --import tsx THIS PATH N`
 * adds records 1..N, removes the even ones, prints "ready" and sleeps.
 */
import { AccountingSpool } from '../../src/io/accounting-spool.js';

const [path, n] = [process.argv[2]!, Number(process.argv[3])];
const { spool } = AccountingSpool.open(path);
for (let id = 1; id <= n; id++) {
  spool.add({
    id,
    kind: id % 3 === 0 ? 'stop' : 'interim',
    sessionId: `S-${id}`,
    createdAt: 1_700_000_000_000 + id,
    attributes: [
      { type: 40, value: Uint8Array.of(0, 0, 0, id % 3 === 0 ? 2 : 3) },
      { type: 44, value: new TextEncoder().encode(`S-${id}`) },
      { type: 25, value: Uint8Array.of(0, 255, id & 0xff) },
    ],
  });
}
for (let id = 2; id <= n; id += 2) spool.remove(id);
process.stdout.write('ready\n');
setInterval(() => {}, 1000);
