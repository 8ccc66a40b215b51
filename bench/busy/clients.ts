/**
 * The client side of `npm run bench:busy` in one process
 * (`node --import tsx bench/busy/clients.ts SPEC_JSON`, started by bench.ts
 * inside the client namespace, `--clients one-process`): every session is a
 * library `PptpClient` with its own TUN and its own underlay address, as
 * `pptp-ts connect --local-address` would run it, but all of them share one
 * event loop, one timer wheel and one raw GRE socket (not bound: each
 * session's packets carry its own source address, and the endpoint hands
 * each received packet to its call by Call ID and server address), the way
 * a load generator or a concentrator's far side carries many sessions.
 *
 * Sessions to bring up arrive as JSON lines on stdin (`{"n":1,...}`); the
 * bench watches each TUN get its address, as it does for separate
 * processes. SIGTERM or SIGINT hangs every session up (LCP Terminate,
 * Call-Clear, Stop-Control-Connection, each bounded), closes the socket
 * and exits 0; a session that ends before is logged on stderr.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { PptpClient } from '../../src/client/client.js';
import { systemClientEnv } from '../../src/client/client-env.js';
import type { ClientEnv, MppePolicy } from '../../src/client/options.js';
import { realClock } from '../../src/io/clock.js';
import { createLogger } from '../../src/io/log.js';
import { RawGreSocket } from '../../src/io/raw-gre.js';
import { GreEndpoint } from '../../src/session/gre-endpoint.js';
import { BatchClock, waitAtMost } from '../../src/session/timers.js';

/** What bench.ts passes on the command line. */
export interface ClientsSpec {
  readonly server: string;
  readonly passwordFile: string;
  readonly mtu: number;
  readonly mppe: 'on' | 'off';
}

/** One session to bring up (a stdin line). */
export interface ClientLine {
  readonly n: number;
  readonly underlay: string;
  readonly user: string;
  readonly device: string;
}

/** Bound on hanging every session up at the end. */
const STOP_MS = 8000;

const spec = JSON.parse(process.argv[2] ?? '{}') as ClientsSpec;
const password = readFileSync(spec.passwordFile, 'utf8').trimEnd();
const log = createLogger('', { level: 'warn' });
const clock = new BatchClock(realClock);
const socket = RawGreSocket.open({ rcvbufBytes: 8 << 20, sndbufBytes: 8 << 20, pptpFilter: true });
const endpoint = new GreEndpoint(socket, clock, log.child('gre'));
endpoint.start();
const env: ClientEnv = {
  ...systemClientEnv({ log, clock, print: () => {} }),
  // A shared endpoint: nothing to close per session, and no per-call kernel filter.
  openGre: () => ({ endpoint, release: () => {} }),
};
const mppe: MppePolicy =
  spec.mppe === 'on' ? { mode: 'required', bits: [128], stateful: false } : { mode: 'off' };

const running = new Map<number, { client: PptpClient; outcome: Promise<unknown> }>();
let stopping = false;

function start(line: ClientLine): void {
  if (running.has(line.n)) return;
  const client = new PptpClient(
    {
      server: spec.server,
      localAddress: line.underlay,
      user: line.user,
      password,
      ifname: line.device,
      mtu: spec.mtu,
      mru: spec.mtu,
      hostRoute: false,
      mppe,
    },
    env,
  );
  const outcome = client.run().then(
    (o) => {
      if (!stopping) process.stderr.write(`session ${line.n} ended: ${JSON.stringify(o)}\n`);
    },
    (e: unknown) => process.stderr.write(`session ${line.n} failed: ${(e as Error).message}\n`),
  );
  running.set(line.n, { client, outcome });
}

createInterface({ input: process.stdin }).on('line', (text) => {
  if (stopping || text.trim() === '') return;
  try {
    start(JSON.parse(text) as ClientLine);
  } catch (e) {
    process.stderr.write(`bad session line: ${(e as Error).message}\n`);
  }
});

async function stopAll(): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const r of running.values()) r.client.stop('the bench is done');
  await waitAtMost(realClock, STOP_MS, (wake) => {
    void Promise.allSettled([...running.values()].map((r) => r.outcome)).then(wake);
  });
  endpoint.close();
  process.exit(0);
}

process.on('SIGTERM', () => void stopAll());
process.on('SIGINT', () => void stopAll());
