/**
 * A TCP transfer through the tunnel, with a userspace impairment relay on
 * the GRE path (test/helpers/impair-relay.ts: loss, duplication,
 * reordering, corruption; this kernel has no netem), for MPPE-128
 * stateless and stateful: 2 MB from the client to a TCP receiver on the
 * server's side of the tunnel arrive with the right SHA-256. Three
 * namespaces: client — relay (socat for TCP 1723, the relay for GRE) —
 * server; the client dials the relay's address.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { type Impairments, ImpairRelay } from '../helpers/impair-relay.js';
import { createLab } from '../helpers/netns.js';
import { requireRoot } from '../helpers/tools.js';
import {
  CLIENT_IP,
  SERVER_IP,
  startClient,
  startServer,
  TUNNEL_LOCAL,
  tempDir,
  waitExit,
  waitUp,
  writePassword,
  writeServerConfig,
} from './tunnel-lab.js';

const RELAY_SERVER_SIDE = '192.0.2.1';
const REAL_SERVER = '192.0.2.2';
const BYTES = 2 * 1024 * 1024;
const IMPAIRED: Impairments = { loss: 0.02, duplicate: 0.02, reorder: 0.05, corrupt: 0.01 };

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('TCP through the tunnel over an impaired GRE path', () => {
  before(() => requireRoot());
  const lab = createLab('impair');
  const dir = tempDir('impair');
  const source = join(dir, 'source.bin');
  writeFileSync(source, randomBytes(BYTES));
  const expected = sha256(readFileSync(source));
  let ns: { client: string; relay: string; server: string };

  before(async () => {
    const client = await lab.addNamespace('cli');
    const relay = await lab.addNamespace('mid');
    const server = await lab.addNamespace('srv');
    await lab.addVeth(client, 'vcli', relay, 'vmc');
    await lab.addVeth(relay, 'vms', server, 'vsm');
    await lab.exec(client, ['ip', 'addr', 'add', `${CLIENT_IP}/24`, 'dev', 'vcli']);
    await lab.exec(relay, ['ip', 'addr', 'add', `${SERVER_IP}/24`, 'dev', 'vmc']);
    await lab.exec(relay, ['ip', 'addr', 'add', `${RELAY_SERVER_SIDE}/24`, 'dev', 'vms']);
    await lab.exec(server, ['ip', 'addr', 'add', `${REAL_SERVER}/24`, 'dev', 'vsm']);
    ns = { client, relay, server };
  });

  for (const mode of ['stateless', 'stateful'] as const) {
    it(`MPPE-128 ${mode}: 2 MB arrive intact through 2 % loss, 2 % duplication, 5 % reordering, 1 % corruption`, async (t) => {
      const impair: Impairments = { loss: 0, duplicate: 0, reorder: 0, corrupt: 0 };
      const relay = new ImpairRelay(
        ns.relay,
        {
          client: CLIENT_IP,
          relayClientSide: SERVER_IP,
          relayServerSide: RELAY_SERVER_SIDE,
          server: REAL_SERVER,
        },
        impair,
        mode === 'stateless' ? 11 : 12,
      );
      const control = lab.spawn(ns.relay, [
        'socat',
        `TCP4-LISTEN:1723,bind=${SERVER_IP},reuseaddr,fork`,
        `TCP4:${REAL_SERVER}:1723`,
      ]);
      const server = await startServer(
        lab,
        ns.server,
        writeServerConfig(dir, { listen: REAL_SERVER, ppp: { 'mppe-stateful': mode === 'stateful' } }),
      );
      const client = startClient(lab, ns.client, [
        '--user',
        'alice',
        '--password-file',
        writePassword(dir, 'correct horse'),
        '--mppe',
        `required,128,${mode}`,
      ]);
      const received = join(dir, `received-${mode}.bin`);
      try {
        const up = await waitUp(client);
        assert.equal(up.mppe, `128-bit ${mode}`);
        Object.assign(impair, IMPAIRED);
        const sink = lab.spawn(ns.server, [
          'socat',
          '-u',
          `TCP4-LISTEN:5001,bind=${TUNNEL_LOCAL},reuseaddr`,
          `CREATE:${received}`,
        ]);
        await new Promise((r) => setTimeout(r, 500));
        const t0 = Date.now();
        // The transfer races the client: a tunnel that dies fails here at once, with what the client said.
        const clientGone = client.exited.then((r) => {
          throw new Error(`the client exited (${r.code}) during the transfer:\n${r.stdout}\n${r.stderr}`);
        });
        clientGone.catch(() => {});
        await Promise.race([
          lab.exec(ns.client, ['socat', '-u', `OPEN:${source}`, `TCP4:${TUNNEL_LOCAL}:5001`], {
            timeoutMs: 180_000,
          }),
          clientGone,
        ]);
        // A bound, not a speed claim: stateful MPPE drops everything from a loss to the next
        // FLUSHED packet (RFC 3078 §3), which the sender's resend on a Reset-Request brings at
        // once; 10-20 s is usual on a loaded machine (speed lives in the benchmarks).
        const done = await waitExit(sink, 150_000);
        assert.equal(done.code, 0, done.stderr);
        t.diagnostic(
          `${mode}: ${BYTES} bytes in ${Date.now() - t0} ms; relay ${JSON.stringify(relay.counters)}`,
        );
        assert.equal(sha256(readFileSync(received)), expected, 'the SHA-256 of what arrived');
        const c = relay.counters;
        assert.ok(c.lost > 0 && c.duplicated > 0 && c.reordered > 0 && c.corrupted > 0, JSON.stringify(c));
        assert.equal(client.child.exitCode, null, 'the tunnel is still up');
      } finally {
        await client.kill();
        await server.kill();
        await control.kill();
        relay.close();
      }
    });
  }
});
