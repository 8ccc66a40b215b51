/**
 * A GRE garbage flood against a real `pptp-ts serve`, from a third
 * namespace, while a real `pptp-ts connect` session pings through the
 * tunnel: 200,000 well-formed enhanced GRE packets with random Call IDs
 * (from the client's own address, the worst case) at full speed, plus
 * 20,000 that are not PPTP's GRE at all. The designed answer
 * (docs/data-path.md "Early drop"): the kernel filter drops what is not
 * enhanced GRE (the server never sees it: `greBad` stays 0), the addon
 * drops unknown Call IDs before JavaScript (`greFiltered`), and the
 * session's pings keep getting through with little loss.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { prng } from '../fuzz/mutate.js';
import { createLab } from '../helpers/netns.js';
import { requireRoot } from '../helpers/tools.js';
import { Attacker, forgedGre, ping, sessionFields, threeHosts } from './attack-lab.js';
import {
  serverStatus,
  startClient,
  startServer,
  statusCounter,
  TUNNEL_LOCAL,
  tempDir,
  waitUp,
  writePassword,
  writeServerConfig,
} from './tunnel-lab.js';

const FLOOD = 200_000;
const NOT_PPTP = 20_000;

describe('attack: GRE garbage flood', () => {
  before(() => requireRoot());
  const lab = createLab('atkflood');
  const dir = tempDir('atkflood');

  it('200,000 random-Call-ID packets at full speed: dropped below JavaScript, the session keeps pinging', async (t) => {
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
      const before = await ping(lab, ns.client, TUNNEL_LOCAL, 20, 0.05);
      assert.equal(before.received, 20, 'the session works before the attack');
      const [session] = sessionFields(await serverStatus(server));
      const liveCallId = Number(session!.call);

      const rnd = prng(2026);
      const during = ping(lab, ns.client, TUNNEL_LOCAL, 80, 0.05);
      await new Promise((r) => setTimeout(r, 300));
      // Random Call IDs (never the live one), Sequence Numbers and sizes.
      const flood = await attacker.send(FLOOD, () => {
        let callId = Math.floor(rnd() * 65536);
        if (callId === liveCallId) callId ^= 1;
        return forgedGre({
          callId,
          seq: Math.floor(rnd() * 2 ** 32),
          ppp: new Uint8Array(20 + Math.floor(rnd() * 200)).fill(0x42),
        });
      });
      // Not PPTP's GRE: version 0 (RFC 2784) and a wrong protocol type, with the live Call ID.
      const garbage = await attacker.send(NOT_PPTP, (i) => {
        const p = forgedGre({ callId: liveCallId, seq: i });
        if (i & 1) p[21] = 0x00;
        else p[23] = 0x00;
        return p;
      });
      const r = await during;
      const after = await ping(lab, ns.client, TUNNEL_LOCAL, 20, 0.05);
      const status = await serverStatus(server);
      t.diagnostic(
        `flood ${flood.sent} at ${flood.pps} pps; ping during: ${r.received}/${r.transmitted}, ` +
          `${r.lossPct.toFixed(1)} % loss, rtt avg ${r.avgMs} ms max ${r.maxMs} ms (before: avg ${before.avgMs} ms)`,
      );
      assert.equal(flood.sent, FLOOD);
      assert.equal(garbage.sent, NOT_PPTP);
      assert.ok(r.lossPct <= 5, `ping loss during the flood: ${r.lossPct.toFixed(1)} %`);
      assert.ok(after.received >= 19, `pings after the flood: ${after.received}/20`);
      // The designed answer: unknown Call IDs dropped in the addon (some may have been dropped by the kernel
      // for a full receive queue instead, never by JS), nothing that is not enhanced GRE reaches the server.
      const filtered = statusCounter(status, 'greFiltered');
      assert.ok(filtered >= FLOOD * 0.5, `dropped before JavaScript: ${filtered}`);
      assert.ok(statusCounter(status, 'greNoCall') <= FLOOD * 0.01, 'unknown Call IDs reaching JavaScript');
      assert.equal(statusCounter(status, 'greBad'), 0, 'the kernel filter kept non-PPTP GRE out');
      assert.equal(client.child.exitCode, null, 'the client is still connected');
    } finally {
      attacker.close();
      await client.kill();
      await server.kill();
    }
  });
});
