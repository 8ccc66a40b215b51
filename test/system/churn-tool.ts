/**
 * The client side of the churn system test (run inside the client
 * namespace): ROUNDS × (open PER sessions, CONCURRENCY at a time; close
 * them all) through bench/sessions' load generator, one control connection
 * per session; with PASSWORD, every session uses that (wrong) password. Prints `round K up=N failed=F closed=C` per round, and
 * pauses 2 s after the first round, after round $CHURN_PAUSE_AFTER and after the last (the test samples the
 * server then). Usage: churn-tool.ts SERVER LOCAL ROUNDS PER CONCURRENCY [PASSWORD]
 */
import { LoadGenerator } from '../../bench/sessions/load.js';
import { realClock } from '../../src/io/clock.js';
import { createLogger } from '../../src/io/log.js';
import { RawGreSocket } from '../../src/io/raw-gre.js';
import { systemTcp } from '../../src/io/tcp.js';
import { GreEndpoint } from '../../src/session/gre-endpoint.js';

const [server, local, roundsText, perText, concText, password] = process.argv.slice(2);
const rounds = Number(roundsText);
/** One more round to pause after (CHURN_PAUSE_AFTER), e.g. the end of a warm-up. */
const pauseAfter = Number(process.env.CHURN_PAUSE_AFTER ?? 1);
const per = Number(perText);
const concurrency = Number(concText);
const log = createLogger('churn', { level: 'warn' });
const endpoint = new GreEndpoint(RawGreSocket.open({ bindAddress: local! }), realClock, log.child('gre'));
endpoint.start();
const gen = new LoadGenerator(
  {
    server: server!,
    port: 1723,
    localAddress: local!,
    credentials: (i) => ({ user: `u${i}`, password: password ?? `p${i}` }),
    setupTimeoutMs: 30_000,
  },
  { clock: realClock, tcp: systemTcp, endpoint, log },
);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
for (let k = 1; k <= rounds; k++) {
  const o = await gen.open(per, concurrency);
  const c = await gen.close(concurrency);
  process.stdout.write(`round ${k} up=${o.up} failed=${o.failed} closed=${c.clean}\n`);
  if (o.failed > 0) process.stdout.write(`failures ${JSON.stringify(o.failures)}\n`);
  if (k === 1 || k === pauseAfter || k === rounds) await sleep(2000);
}
endpoint.close();
process.stdout.write('done\n');
process.exit(0);
