/**
 * Forged GRE Sequence Numbers against a real `pptp-ts serve`, from a third
 * namespace, while a real `pptp-ts connect` session pings through the
 * tunnel the whole time: one packet with the session's Call ID, the
 * client's source address and a Sequence Number 2^30 ahead; then a blind
 * sweep of all 65,536 Call IDs × 2 Sequence Numbers. The designed answer
 * (docs/data-path.md "Accept window"): each forged packet for the live call
 * is dropped and counted (`greOutOfWindow`), none moves the receive side
 * (`greResyncs=0`), and the session's pings keep getting through, during
 * and after.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createLab } from '../helpers/netns.js';
import { requireRoot } from '../helpers/tools.js';
import { Attacker, forgedGre, ping, sessionFields, threeHosts } from './attack-lab.js';
import {
  serverStatus,
  startClient,
  startServer,
  TUNNEL_LOCAL,
  tempDir,
  waitUp,
  writePassword,
  writeServerConfig,
} from './tunnel-lab.js';

describe('attack: forged GRE Sequence Numbers', () => {
  before(() => requireRoot());
  const lab = createLab('atkseq');
  const dir = tempDir('atkseq');

  it('one packet 2^30 ahead, then a sweep of every Call ID x 2: the session keeps working', async () => {
    const ns = await threeHosts(lab);
    const server = await startServer(lab, ns.server, writeServerConfig(dir));
    const client = startClient(lab, ns.client, [
      '--user',
      'alice',
      '--password-file',
      writePassword(dir, 'correct horse'),
    ]);
    const attacker = new Attacker(ns.attacker);
    try {
      await waitUp(client);
      const before = await ping(lab, ns.client, TUNNEL_LOCAL, 10);
      assert.equal(before.received, 10, 'the session works before the attack');
      const [session] = sessionFields(await serverStatus(server));
      const callId = Number(session!.call);
      assert.equal(session!.greOutOfWindow, '0');

      // 1. One forged packet for the live call, 2^30 ahead of anything the client sent, during a ping.
      const during1 = ping(lab, ns.client, TUNNEL_LOCAL, 30);
      await new Promise((r) => setTimeout(r, 500));
      await attacker.send(1, () => forgedGre({ callId, seq: 2 ** 30 + 7 }));
      const r1 = await during1;
      const after1 = await ping(lab, ns.client, TUNNEL_LOCAL, 20);
      const [s1] = sessionFields(await serverStatus(server));
      assert.ok(r1.received >= 27, `pings during the attack: ${r1.received}/30`);
      assert.equal(after1.received, 20, `pings after the attack: ${after1.received}/20`);
      assert.equal(s1!.greOutOfWindow, '1', 'the forged packet was dropped and counted');
      assert.equal(s1!.greResyncs, '0', 'it did not move the receive side');

      // 2. A blind sweep: every Call ID, two Sequence Numbers half the space apart, at full speed.
      const during2 = ping(lab, ns.client, TUNNEL_LOCAL, 40);
      await new Promise((r) => setTimeout(r, 500));
      const sweep = await attacker.send(65536 * 2, (i) =>
        forgedGre({ callId: i >>> 1, seq: (i & 1 ? 0xc0000000 : 0x40000000) + 12345 }),
      );
      const r2 = await during2;
      const after2 = await ping(lab, ns.client, TUNNEL_LOCAL, 20);
      const [s2] = sessionFields(await serverStatus(server));
      assert.equal(sweep.sent, 131072);
      assert.equal(s2!.greOutOfWindow, '3', 'the two packets with the live Call ID were dropped and counted');
      assert.equal(s2!.greResyncs, '0');
      assert.ok(r2.received >= 36, `pings during the sweep: ${r2.received}/40`);
      assert.equal(after2.received, 20, `pings after the sweep: ${after2.received}/20`);
      assert.equal(client.child.exitCode, null, 'the client is still connected');
    } finally {
      attacker.close();
      await client.kill();
      await server.kill();
    }
  });
});
