/**
 * Many PPTP clients in one process, for the 50-client system test
 * (`node --import tsx test/system/tunnel-fleet.ts SPEC_JSON`, run inside the
 * namespace that carries the TCP and GRE side). Each client is a real
 * {@link PptpClient} with its own TCP control connection and call; they
 * share one raw GRE socket (a GreEndpoint demultiplexes by Call ID, as the
 * server does), and each client's TUN interface lives in a namespace of its
 * own, so that one client's traffic to another really crosses the server.
 *
 * Prints `up I LOCAL` when client I is up; on SIGTERM stops every client
 * and prints `done I CODE`, then `fleet done`.
 */

import { PptpClient } from '../../src/client/client.js';
import { systemClientHost } from '../../src/client/client-host.js';
import { RealClock } from '../../src/io/clock.js';
import { routeMtu } from '../../src/io/ip.js';
import { createLogger } from '../../src/io/log.js';
import { RawGreSocket } from '../../src/io/raw-gre.js';
import { systemTcp } from '../../src/io/tcp.js';
import { Tun } from '../../src/io/tun.js';
import { GreEndpoint } from '../../src/session/gre-endpoint.js';

interface FleetSpec {
  server: string;
  localAddress: string;
  routes: string[];
  clients: { user: string; password: string; netns: string }[];
}

const spec = JSON.parse(process.argv[2] ?? '{}') as FleetSpec;
const clock = new RealClock();
const log = createLogger('', { level: 'warn' });
const endpoint = new GreEndpoint(
  RawGreSocket.open({ bindAddress: spec.localAddress }),
  clock,
  log.child('gre'),
);
endpoint.start();

const clients = spec.clients.map((c, i) => {
  const host = systemClientHost({ netns: c.netns });
  const client = new PptpClient(
    {
      server: spec.server,
      user: c.user,
      password: c.password,
      ifname: 'pptp0',
      hostRoute: false,
      routes: spec.routes,
      setupTimeoutMs: 90_000,
    },
    {
      clock,
      log: log.child(`c${i}`),
      tcp: systemTcp,
      host: { ...host, pathMtu: (server) => routeMtu(server) },
      openTun: (name) => Tun.open({ name, netns: c.netns }),
      openGre: () => ({ endpoint, release: () => {} }),
    },
  );
  client.onUp = (info) => process.stdout.write(`up ${i} ${info.localAddress}\n`);
  return client;
});

const outcomes = clients.map((c, i) =>
  c.run().then((o) => {
    process.stdout.write(`done ${i} ${o.code} ${o.reason}\n`);
    return o;
  }),
);

process.on('SIGTERM', () => {
  for (const c of clients) c.stop();
});

await Promise.all(outcomes);
endpoint.close();
process.stdout.write('fleet done\n');
