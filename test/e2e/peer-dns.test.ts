/**
 * `usePeerDns` in the client driver: the host's resolver way when it has
 * one (systemd-resolved / resolvconf, src/client/resolver.ts), undone at the
 * end; the file when it has none or the resolver fails; `--resolv-conf`
 * always the file.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClientHost } from '../../src/client/client-host.js';
import { ExitCode } from '../../src/client/exit-codes.js';
import type { Undo } from '../../src/io/ip.js';
import { World } from './world.js';

type Mode = 'resolver' | 'fails' | 'none';

async function run(mode: Mode, resolvConfPath?: string) {
  const w = new World();
  await w.start();
  const c = w.startClient({ usePeerDns: true, ...(resolvConfPath ? { resolvConfPath } : {}) });
  const resolver: string[] = [];
  if (mode !== 'none') {
    (c.host as ClientHost).setPeerDns = async (
      ifname: string,
      dns: readonly string[],
    ): Promise<Undo | undefined> => {
      if (mode === 'fails') throw new Error('resolvectl: failed');
      resolver.push(`+ ${ifname} ${dns.join(' ')}`);
      return { description: 'resolver', undo: async () => void resolver.push(`- ${ifname}`) };
    };
  }
  const info = await w.wait(c.up);
  const applied = [...c.host.applied];
  c.client.stop();
  const outcome = await w.wait(c.outcome);
  assert.equal(outcome.code, ExitCode.Ok);
  assert.deepEqual([...c.host.applied], [], 'everything undone');
  await w.server.shutdown();
  return { info, applied, resolver, log: c.log.lines };
}

describe('client usePeerDns ways', () => {
  it('through the resolver when the host has one, undone at the end; no file', async () => {
    const r = await run('resolver');
    assert.deepEqual(r.resolver, ['+ ppp1 10.99.0.1 10.99.0.2', '- ppp1']);
    assert.ok(!r.applied.some((d) => d.startsWith('resolv ')), r.applied.join(', '));
  });

  it('the file when the resolver fails (and says so)', async () => {
    const r = await run('fails');
    assert.ok(r.applied.includes('resolv /etc/ppp/resolv.conf 10.99.0.1 10.99.0.2'));
    assert.ok(r.log.some((l) => /DNS not set through the resolver.*resolvectl: failed/.test(l)));
  });

  it('the file when the host has no resolver way, and always with resolvConfPath', async () => {
    assert.ok((await run('none')).applied.includes('resolv /etc/ppp/resolv.conf 10.99.0.1 10.99.0.2'));
    const r = await run('resolver', '/tmp/x.conf');
    assert.deepEqual(r.resolver, []);
    assert.ok(r.applied.includes('resolv /tmp/x.conf 10.99.0.1 10.99.0.2'));
  });
});
