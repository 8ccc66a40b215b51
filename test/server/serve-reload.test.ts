/**
 * The reload path (SIGHUP, `pptp-ts reload`) with a changed `radius` block:
 * RADIUS clients, accounting and the DAS listener are built at start-up, so
 * a change is restart-only. The reload must say so in one warning naming
 * the key, keep saying it until the restart (the running server still uses
 * the old block), and still apply what is reloadable beside it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startServeOperations } from '../../src/cli/serve-ops.js';
import { ManualClock } from '../../src/io/clock.js';
import { createMemoryLogger } from '../../src/io/log.js';
import { type ServerConfig, validateServerConfig } from '../../src/server/config.js';
import type { PptpServer } from '../../src/server/server.js';
import type { SystemServerEnv } from '../../src/server/server-env.js';

const BASE = {
  'local-ip': '10.99.0.1',
  pool: '10.99.0.10-20',
  'control-socket': false,
  radius: { auth: [{ address: '127.0.0.1:1812', secret: 'old-secret' }] },
} as const;

async function operations(first: ServerConfig) {
  let next = first;
  const applied: ServerConfig[] = [];
  const server = {
    applyReload: (c: ServerConfig) => {
      applied.push(c);
      return c.limits['max-sessions'] !== first.limits['max-sessions'] ? ['limits.max-sessions'] : [];
    },
    secretsReloaded: () => {},
  } as unknown as PptpServer;
  const env = {
    clock: new ManualClock(),
    reloadSecrets: () => {},
    secrets: () => [],
  } as unknown as SystemServerEnv;
  const log = createMemoryLogger('debug');
  const ops = await startServeOperations({
    server,
    config: first,
    rereadConfig: () => next,
    env,
    log,
    logOptions: {},
    levelFixed: false,
  });
  return { ops, log, applied, setNext: (c: ServerConfig) => (next = c) };
}

describe('reload with a changed radius block', () => {
  it('names radius as restart-only in one warning, every time, and applies the reloadable rest', async () => {
    const first = validateServerConfig(BASE);
    const { ops, log, applied, setNext } = await operations(first);
    try {
      const same = ops.reload();
      assert.ok(!same.some((l) => l.startsWith('restart needed')), same.join('; '));
      assert.ok(!log.lines.some((l) => l.includes('take effect only after a restart')));

      setNext(
        validateServerConfig({
          ...BASE,
          limits: { 'max-sessions': 5 },
          radius: { auth: [{ address: '127.0.0.1:1812', secret: 'new-secret' }], timeout: 1 },
        }),
      );
      const done = ops.reload();
      assert.ok(done.includes('restart needed for: radius'), done.join('; '));
      assert.ok(done.includes('limits.max-sessions'), 'the reloadable part is applied beside it');
      const warnings = log.lines.filter((l) => l.includes('take effect only after a restart'));
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /keys=radius\b/);
      assert.ok(!warnings[0]!.includes('new-secret'), 'the log never shows a secret');

      // Still not applied: the next reload says it again.
      const again = ops.reload();
      assert.ok(again.includes('restart needed for: radius'), again.join('; '));
      assert.equal(applied.length, 3);
    } finally {
      await ops.close();
    }
  });

  it('adding or removing the radius block is restart-only too', async () => {
    const { ops, setNext } = await operations(validateServerConfig(BASE));
    try {
      const { radius: _, ...without } = BASE;
      setNext(validateServerConfig({ ...without, secrets: '/etc/ppp/chap-secrets' }));
      const done = ops.reload();
      assert.ok(
        done.some((l) => l.startsWith('restart needed for:') && l.includes('radius')),
        done.join('; '),
      );
    } finally {
      await ops.close();
    }
  });
});
