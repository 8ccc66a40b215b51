/**
 * RFC 5176 dynamic authorization of a real `pptp-ts serve` by FreeRADIUS's
 * `radclient`, with two real client sessions in network namespaces:
 *
 * - `radclient ... disconnect` naming alice: Disconnect-ACK, alice's session
 *   ends within a second (cause admin-reset), bob's stays up;
 * - `radclient ... coa` with Session-Timeout=2 for bob: CoA-ACK, and bob's
 *   session ends about two seconds later (cause session-timeout);
 * - `radclient ... coa` with Idle-Timeout=2 for a session that carries no
 *   data: CoA-ACK, and the session ends a few seconds later (cause
 *   idle-timeout), keep-alives running all along;
 * - a NAK with Error-Cause 503 for a user who has no session;
 * - a wrong secret, and a client address that is not configured: no answer;
 * - the DAS counters in the metrics, checked by `promtool check metrics`.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { requireFreeRadius } from '../helpers/freeradius.js';
import { createLab, type NetnsLab } from '../helpers/netns.js';
import { checkMetricsWithPromtool, requireRoot } from '../helpers/tools.js';
import {
  PPTP_TS,
  SERVER_IP,
  startClient,
  tempDir,
  twoHosts,
  waitExit,
  waitUp,
  writePassword,
  writeServerConfig,
} from './tunnel-lab.js';

const SECRET = 'das shared secret';
const METRICS_PORT = 9724;

/**
 * radclient in `ns`: `attrs` (one per line) as a `kind` request to `to`; `tries` sends, `wait` seconds
 * each (a retransmission is answered from the duplicate cache).
 */
async function radclient(
  lab: NetnsLab,
  dir: string,
  ns: string,
  to: string,
  kind: 'disconnect' | 'coa',
  secret: string,
  attrs: string,
  tries = 3,
  wait = 3,
): Promise<{ code: number | null; out: string; ms: number }> {
  const file = join(dir, `req-${Math.random().toString(36).slice(2, 8)}`);
  writeFileSync(file, `${attrs}\n`);
  const t0 = performance.now();
  const r = await lab.exec(
    ns,
    ['radclient', '-x', '-r', String(tries), '-t', String(wait), '-f', file, to, kind, secret],
    {
      allowFail: true,
      timeoutMs: 20_000,
    },
  );
  return { code: r.code, out: r.stdout + r.stderr, ms: performance.now() - t0 };
}

async function scrape(lab: NetnsLab, ns: string): Promise<string> {
  const js = `fetch('http://127.0.0.1:${METRICS_PORT}/metrics').then(async (r) => { if (!r.ok) process.exit(3); process.stdout.write(await r.text()); })`;
  return (await lab.exec(ns, [process.execPath, '-e', js])).stdout;
}

describe('RFC 5176 dynamic authorization with radclient', () => {
  before(() => {
    requireRoot();
    requireFreeRadius();
  });
  const lab = createLab('das');
  const dir = tempDir('das');
  let ns: { server: string; client: string };

  before(async () => {
    ns = await twoHosts(lab);
  });

  it('Disconnect ends the named session only; CoA Session-Timeout=2 ends the other 2 s later; strangers get nothing', async () => {
    const config = writeServerConfig(dir, {
      radius: {
        order: ['secrets'],
        das: { listen: '0.0.0.0:3799', clients: [{ address: '127.0.0.1', secret: SECRET }] },
      },
      metrics: { listen: `127.0.0.1:${METRICS_PORT}` },
    });
    const server = lab.spawn(ns.server, [...PPTP_TS, 'serve', '--config', config, '--log-format', 'json']);
    await server.waitFor(/listening on /, 120_000);
    await server.waitFor(/dynamic authorization listening/, 10_000);
    const local = '127.0.0.1:3799';
    try {
      const alice = startClient(lab, ns.client, [
        '--user',
        'alice',
        '--password-file',
        writePassword(dir, 'correct horse'),
        '--ifname',
        'ppa0',
      ]);
      const bob = startClient(lab, ns.client, [
        '--user',
        'bob',
        '--password-file',
        writePassword(dir, 'hunter2'),
        '--ifname',
        'ppb0',
      ]);
      await Promise.all([waitUp(alice, 90_000), waitUp(bob, 90_000)]);

      // A stranger (the client host's address is not a DAS client) and a wrong secret: no answer at all.
      const stranger = await radclient(
        lab,
        dir,
        ns.client,
        `${SERVER_IP}:3799`,
        'disconnect',
        SECRET,
        'User-Name=alice',
      );
      assert.notEqual(stranger.code, 0);
      assert.match(stranger.out, /No reply from server/);
      const wrong = await radclient(
        lab,
        dir,
        ns.server,
        local,
        'disconnect',
        'not the secret',
        'User-Name=alice',
      );
      assert.notEqual(wrong.code, 0);
      assert.match(wrong.out, /No reply from server/);
      assert.doesNotMatch(server.stdout() + server.stderr(), /"event":"session-down"/, 'nothing ended');

      // No such user: Disconnect-NAK with Error-Cause Session-Context-Not-Found (503).
      const none = await radclient(lab, dir, ns.server, local, 'disconnect', SECRET, 'User-Name=carol');
      assert.match(none.out, /Received Disconnect-NAK/);
      assert.match(none.out, /Error-Cause = Session-Context-Not-Found/);

      // Disconnect alice: ACK, and her session is gone within a second; bob's is untouched.
      const ack = await radclient(lab, dir, ns.server, local, 'disconnect', SECRET, 'User-Name=alice');
      assert.equal(ack.code, 0, `${ack.out}\n${server.stdout().slice(-4000)}`);
      assert.match(ack.out, /Received Disconnect-ACK/);
      await server.waitFor(/"event":"session-down"[^\n]*"user":"alice"[^\n]*"cause":"admin-reset"/, 1000);
      await waitExit(alice, 20_000);
      const log = server.stdout() + server.stderr();
      assert.doesNotMatch(log, /"event":"session-down"[^\n]*"user":"bob"/);
      assert.equal(bob.child.exitCode, null, "bob's client is still running");

      // CoA for bob: Session-Timeout=2 from now on.
      const coa = await radclient(
        lab,
        dir,
        ns.server,
        local,
        'coa',
        SECRET,
        'User-Name=bob\nSession-Timeout=2',
      );
      assert.equal(coa.code, 0, coa.out);
      assert.match(coa.out, /Received CoA-ACK/);
      const t0 = performance.now();
      await server.waitFor(/"event":"session-down"[^\n]*"user":"bob"[^\n]*"cause":"session-timeout"/, 5000);
      const took = performance.now() - t0;
      assert.ok(took > 1500 && took < 4000, `bob's session ended ${Math.round(took)} ms after the CoA-ACK`);
      await waitExit(bob, 20_000);

      const text = await scrape(lab, ns.server);
      checkMetricsWithPromtool(text);
      const das = text
        .split('\n')
        .filter((l) => l.startsWith('pptp_das_'))
        .join('\n');
      const count = (labels: string): number => {
        const m = new RegExp(`^pptp_das_requests_total\\{${labels}\\} (\\d+)$`, 'm').exec(das);
        return m ? Number(m[1]) : 0;
      };
      assert.equal(count('kind="disconnect",result="ack"'), 1, das);
      assert.equal(count('kind="disconnect",result="nak"'), 1, das);
      assert.equal(count('kind="coa",result="ack"'), 1, das);
      // radclient may send a request it hears nothing for more than once.
      assert.ok(count('kind="disconnect",result="unknown-client"') >= 1, das);
      assert.ok(count('kind="disconnect",result="bad-authenticator"') >= 1, das);
      assert.match(das, /^pptp_das_naks_total\{kind="disconnect",error_cause="503"\} 1$/m);
    } finally {
      await server.kill();
    }
  });

  it('CoA Idle-Timeout=2 ends a session without data a few seconds later, cause idle-timeout', async () => {
    const config = writeServerConfig(dir, {
      radius: {
        order: ['secrets'],
        das: { listen: '0.0.0.0:3799', clients: [{ address: '127.0.0.1', secret: SECRET }] },
      },
    });
    const server = lab.spawn(ns.server, [...PPTP_TS, 'serve', '--config', config, '--log-format', 'json']);
    await server.waitFor(/listening on /, 120_000);
    await server.waitFor(/dynamic authorization listening/, 10_000);
    try {
      const alice = startClient(lab, ns.client, [
        '--user',
        'alice',
        '--password-file',
        writePassword(dir, 'correct horse'),
        '--ifname',
        'ppa0',
      ]);
      await waitUp(alice, 90_000);
      const coa = await radclient(
        lab,
        dir,
        ns.server,
        '127.0.0.1:3799',
        'coa',
        SECRET,
        'User-Name=alice\nIdle-Timeout=2',
      );
      assert.equal(coa.code, 0, coa.out);
      assert.match(coa.out, /Received CoA-ACK/);
      const t0 = performance.now();
      await server.waitFor(/"event":"session-down"[^\n]*"user":"alice"[^\n]*"cause":"idle-timeout"/, 15_000);
      const took = performance.now() - t0;
      // No limit before the CoA, so idleness counts from the CoA: at least 2 s (less the log's latency).
      assert.ok(took > 1500 && took < 15_000, `ended ${Math.round(took)} ms after the CoA-ACK`);
      assert.match(server.stdout() + server.stderr(), /idle timeout: call cleared[^\n]*"seconds":2/);
      await waitExit(alice, 20_000);
    } finally {
      await server.kill();
    }
  });
});
