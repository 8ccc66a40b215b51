/**
 * `limits.compact-after-burst` in a real `pptp-ts serve`: with a threshold
 * of 2, one client's session up and then its end make a burst, and 5 s
 * later the server compacts its heap once and says so; with 0 it never does.
 * (The lever's effect on RSS is measured by `npm run bench:sessions`, see
 * docs/sessions.md; here: that the server runs it, and only when asked.)
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createLab } from '../helpers/netns.js';
import { requireRoot } from '../helpers/tools.js';
import {
  startClient,
  startServer,
  tempDir,
  twoHosts,
  waitUp,
  writePassword,
  writeServerConfig,
} from './tunnel-lab.js';

const COMPACTED = /heap compacted after a burst of session set-ups and ends, in \d+ ms/;

describe('limits.compact-after-burst', () => {
  before(() => requireRoot('ip'));
  const lab = createLab('compact');
  const dir = tempDir('compact');
  let hosts: ReturnType<typeof twoHosts> | undefined;

  for (const burst of [2, 0]) {
    it(`${burst}: ${burst ? 'one compaction 5 s after the burst' : 'none'}`, {
      timeout: 120_000,
    }, async () => {
      hosts ??= twoHosts(lab);
      const ns = await hosts;
      const server = await startServer(
        lab,
        ns.server,
        writeServerConfig(dir, { limits: { 'compact-after-burst': burst } }),
      );
      try {
        const client = startClient(lab, ns.client, [
          '--user',
          'alice',
          '--password-file',
          writePassword(dir, 'correct horse'),
          '--ifname',
          'pptpc0',
        ]);
        await waitUp(client);
        await client.kill();
        await server.waitFor(/session end .*user=alice/, 20_000);
        if (burst) {
          await server.waitFor(COMPACTED, 30_000);
          assert.equal(`${server.stdout()}${server.stderr()}`.match(new RegExp(COMPACTED, 'g'))?.length, 1);
        } else {
          // The same wait as the threshold's quiet period, twice over.
          await new Promise((r) => setTimeout(r, 10_000));
          assert.doesNotMatch(`${server.stdout()}${server.stderr()}`, COMPACTED);
        }
      } finally {
        await server.kill();
      }
    });
  }
});
