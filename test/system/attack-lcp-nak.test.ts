/**
 * A peer that Naks every LCP Configure-Request, against a real `pptp-ts
 * serve`, from a third namespace, while a real `pptp-ts connect` session
 * pings through the tunnel. The designed answer (docs/ppp.md "Negotiations
 * that do not converge end"): the server sends Max-Failure + Max-Configure
 * + 1 = 16 Configure-Requests, then ends the call with the reason, long
 * before its handshake time-out; the other session never notices.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { createLab } from '../helpers/netns.js';
import { requireRoot } from '../helpers/tools.js';
import { ATTACKER_IP, ping, threeHosts } from './attack-lab.js';
import {
  ROOT,
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

describe('attack: a peer that Naks every LCP Configure-Request', () => {
  before(() => requireRoot());
  const lab = createLab('atklcp');
  const dir = tempDir('atklcp');

  it('gets 16 Configure-Requests, then the call ends with the reason; the other session keeps pinging', async () => {
    const ns = await threeHosts(lab);
    const server = await startServer(lab, ns.server, writeServerConfig(dir));
    const client = startClient(lab, ns.client, [
      '--user',
      'alice',
      '--password-file',
      writePassword(dir, 'correct horse'),
    ]);
    try {
      await waitUp(client);
      const during = ping(lab, ns.client, TUNNEL_LOCAL, 40);
      const t0 = Date.now();
      const peer = lab.spawn(ns.attacker, [
        process.execPath,
        '--import',
        'tsx',
        join(ROOT, 'test', 'system', 'lcp-nak-peer.ts'),
        SERVER_IP,
        ATTACKER_IP,
      ]);
      const r = await waitExit(peer, 70_000);
      const seconds = (Date.now() - t0) / 1000;
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^call \d+ result 1$/m, 'the call was accepted');
      const m = /^cdn (\d+) requests (\d+)$/m.exec(r.stdout);
      assert.ok(m, r.stdout);
      assert.equal(Number(m[2]), 16, 'Configure-Requests the server sent');
      assert.ok(seconds < 20, `ended after ${seconds} s, well before the 30 s handshake time-out`);
      await server.waitFor(/session end .*reason=.*configuration not converging/, 10_000);
      const p = await during;
      assert.ok(p.received >= 38, `pings of the other session: ${p.received}/40`);
      assert.equal(client.child.exitCode, null, 'the other session is still up');
    } finally {
      await client.kill();
      await server.kill();
    }
  });
});
