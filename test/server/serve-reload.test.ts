/**
 * The reload path (SIGHUP, `pptp-ts reload`) with a changed `radius` block:
 * RADIUS clients, accounting and the DAS listener are built at start-up, so
 * a change is restart-only. The reload must say so in one warning naming
 * the key, keep saying it until the restart (the running server still uses
 * the old block), and still apply what is reloadable beside it.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
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
    sessionDetails: () => [],
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

/** A Disconnect-Request for `user`, signed with `secret` (RFC 5176 §2.3, RFC 2866 §3), built with node:crypto. */
function disconnectRequest(identifier: number, user: string, secret: string): Buffer {
  const name = Buffer.from(user, 'utf8');
  const p = Buffer.concat([
    Buffer.from([40, identifier, 0, 0]),
    Buffer.alloc(16),
    Buffer.from([1, name.length + 2]),
    name,
  ]);
  p.writeUInt16BE(p.length, 2);
  createHash('md5').update(p).update(secret).digest().copy(p, 4);
  return p;
}

/** Sends one datagram from 127.0.0.1 and returns the reply's code, or undefined after `ms` without one. */
async function ask(port: number, data: Buffer, ms = 1000): Promise<number | undefined> {
  const sock = createSocket('udp4');
  try {
    await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
    const reply = new Promise<number | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), ms);
      sock.once('message', (m) => {
        clearTimeout(timer);
        resolve(m[0]);
      });
    });
    sock.send(data, port, '127.0.0.1');
    return await reply;
  } finally {
    sock.close();
  }
}

describe('reload with changed Dynamic Authorization clients', () => {
  /** A UDP port free a moment ago (the listener's address takes no port 0). */
  async function freeUdpPort(): Promise<number> {
    const s = createSocket('udp4');
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
    const port = s.address().port;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    return port;
  }
  let dasPort = 0;
  const withDas = (clients: { address: string; secret: string }[], secret = 'old-secret') =>
    validateServerConfig({
      ...BASE,
      radius: {
        auth: [{ address: '127.0.0.1:1812', secret }],
        das: { listen: `127.0.0.1:${dasPort}`, clients },
      },
    });

  it('takes the new client list without a restart, and only when nothing else of radius changed', async () => {
    dasPort = await freeUdpPort();
    const { ops, setNext } = await operations(withDas([{ address: '127.0.0.2', secret: 'das-old' }]));
    try {
      const port = ops.dasAddress?.port;
      assert.equal(port, dasPort, 'the DAS listener is bound');
      // 127.0.0.1 is not a client yet: no answer at all (RFC 5176 §2.3: silently discarded).
      assert.equal(await ask(port, disconnectRequest(1, 'alice', 'das-new')), undefined);

      setNext(withDas([{ address: '127.0.0.1', secret: 'das-new' }]));
      const done = ops.reload();
      assert.ok(done.includes('radius.das.clients (1)'), done.join('; '));
      assert.ok(!done.some((l) => l.startsWith('restart needed')), done.join('; '));
      // Now a client: no such session, so a Disconnect-NAK (code 42).
      assert.equal(await ask(port, disconnectRequest(2, 'alice', 'das-new')), 42);
      assert.ok(!ops.reload().some((l) => l.includes('radius')), 'nothing left to apply the next time');

      // Clients and something else of radius: restart-only, and the clients stay as they are.
      setNext(withDas([{ address: '127.0.0.3', secret: 'das-other' }], 'new-secret'));
      const mixed = ops.reload();
      assert.ok(mixed.includes('restart needed for: radius'), mixed.join('; '));
      assert.equal(await ask(port, disconnectRequest(3, 'alice', 'das-new')), 42);
    } finally {
      await ops.close();
    }
  });
});
