/**
 * The load generator process of `npm run bench:sessions`
 * (`node --import tsx bench/sessions/generator.ts SPEC_JSON`, started by
 * bench.ts inside the client namespace): one raw GRE socket, one TCP
 * connection per control connection, the project's client engines for
 * every session (load.ts). Commands arrive as JSON lines on stdin, events
 * leave as JSON lines on stdout (protocol.ts); logs go to stderr.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { type Clock, realClock } from '../../src/io/clock.js';
import { createLogger } from '../../src/io/log.js';
import { RawGreSocket } from '../../src/io/raw-gre.js';
import { systemTcp } from '../../src/io/tcp.js';
import { GreEndpoint } from '../../src/session/gre-endpoint.js';
import { BatchClock } from '../../src/session/timers.js';
import { LoadGenerator } from './load.js';
import type { GeneratorCommand, GeneratorEvent, GeneratorSpec } from './protocol.js';

const spec = JSON.parse(process.argv[2] ?? '{}') as GeneratorSpec;

function emit(e: GeneratorEvent): void {
  process.stdout.write(`${JSON.stringify(e)}\n`);
}

function fileLimit(): string {
  try {
    const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? `${m[1]}/${m[2]}` : 'unknown';
  } catch {
    return 'unknown';
  }
}

const log = createLogger('gen', { level: spec.logLevel });
const clock: Clock = spec.clock === 'node' ? realClock : new BatchClock(realClock);
const endpoint = new GreEndpoint(
  // With several source addresses the socket takes GRE for all of them (no bind address).
  RawGreSocket.open({
    ...(spec.localAddresses.length > 1 ? {} : { bindAddress: spec.localAddress }),
    rcvbufBytes: 8 << 20,
    sndbufBytes: 8 << 20,
  }),
  clock,
  log.child('gre'),
);
endpoint.start();
const gen = new LoadGenerator(
  {
    server: spec.server,
    port: spec.port,
    localAddress: spec.localAddress,
    localAddresses: spec.localAddresses,
    credentials: (i) => ({ user: `${spec.userPrefix}${i}`, password: `${spec.passwordPrefix}${i}` }),
    callsPerConnection: spec.callsPerConnection,
    lcpEchoInterval: spec.lcpEchoInterval,
    pptpEchoInterval: spec.pptpEchoInterval,
    ackTimeoutMs: spec.ackTimeoutMs,
    setupTimeoutMs: spec.setupTimeoutMs,
    mppe: spec.mppe,
  },
  { clock, tcp: systemTcp, endpoint, log },
);

async function handle(c: GeneratorCommand): Promise<boolean> {
  switch (c.cmd) {
    case 'open': {
      const t0 = clock.now();
      let lastReport = t0;
      const first = gen.records.length;
      const r = await gen.open(c.sessions, c.concurrency, (p) => {
        const now = clock.now();
        if (now - lastReport >= 1000) {
          lastReport = now;
          emit({ ev: 'progress', up: p.up, failed: p.failed, elapsedMs: now - t0 });
        }
      });
      const recs = gen.records.slice(first);
      const sources: Record<string, number> = {};
      for (const x of recs)
        if (x.upAt !== undefined && x.source) sources[x.source] = (sources[x.source] ?? 0) + 1;
      emit({
        ev: 'opened',
        startMs: recs.map((x) => Math.round((x.startedAt - t0) * 10) / 10),
        upMs: recs.map((x) => (x.upAt === undefined ? -1 : Math.round((x.upAt - t0) * 10) / 10)),
        failures: r.failures,
        sources,
        durationMs: r.endedAt - t0,
        gre: { ...endpoint.counters },
      });
      return true;
    }
    case 'status': {
      const m = process.memoryUsage();
      emit({ ev: 'status', ...gen.status(), rssKb: m.rss >> 10, heapUsedKb: m.heapUsed >> 10 });
      return true;
    }
    case 'ping':
      emit({ ev: 'pinged', ...(await gen.ping(c.sample, c.timeoutMs)) });
      return true;
    case 'close':
      emit({ ev: 'closed', ...(await gen.close(c.concurrency)), greAttached: endpoint.size });
      return true;
    case 'forget': {
      const sessions = gen.forget();
      emit({ ev: 'forgot', sessions, greAttached: endpoint.size });
      return true;
    }
    case 'exit':
      return false;
  }
}

emit({ ev: 'ready', pid: process.pid, fileLimit: fileLimit() });
const lines = createInterface({ input: process.stdin });
let queue = Promise.resolve(true);
lines.on('line', (line) => {
  if (!line.trim()) return;
  queue = queue.then(async (go) => {
    if (!go) return false;
    try {
      const more = await handle(JSON.parse(line) as GeneratorCommand);
      if (!more) {
        endpoint.close();
        lines.close();
        process.exit(0);
      }
      return more;
    } catch (err) {
      emit({ ev: 'error', message: (err as Error).stack ?? String(err) });
      return true;
    }
  });
});
lines.on('close', () => {
  // The bench went away: leave at once (the kernel closes our sockets).
  void queue.then(() => process.exit(0));
});
