/**
 * `--usepeerdns` ways (src/client/resolver.ts): which one a host gets, the
 * exact resolvectl / resolvconf command lines (through a recording runner:
 * neither may touch this machine's resolver), their undo, and the file
 * way when the host has neither.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { systemClientHost } from '../../src/client/client-host.js';
import {
  type CommandRunner,
  chooseDnsBackend,
  type DnsProbe,
  setInterfaceDns,
} from '../../src/client/resolver.js';

function recorder(failOn?: string): { run: CommandRunner; calls: { argv: string[]; input?: string }[] } {
  const calls: { argv: string[]; input?: string }[] = [];
  return {
    calls,
    run: async (argv, input) => {
      calls.push({ argv: [...argv], ...(input !== undefined ? { input } : {}) });
      if (failOn && argv.join(' ').includes(failOn)) throw new Error(`${argv[0]}: failed`);
    },
  };
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const probe = (resolved: boolean, resolvconf: boolean): DnsProbe => ({
  resolvedRunning: () => resolved,
  hasResolvconf: () => resolvconf,
});

describe('client DNS (--usepeerdns)', () => {
  it('prefers systemd-resolved, then resolvconf, then the file; --resolv-conf always means the file', () => {
    assert.equal(chooseDnsBackend(probe(true, true), false), 'resolved');
    assert.equal(chooseDnsBackend(probe(false, true), false), 'resolvconf');
    assert.equal(chooseDnsBackend(probe(false, false), false), 'file');
    assert.equal(chooseDnsBackend(probe(true, true), true), 'file');
  });

  it('resolved: resolvectl dns IF ADDR..., domain IF ~.; undo: resolvectl revert IF (once)', async () => {
    const r = recorder();
    const u = await setInterfaceDns('resolved', 'pptp0', ['10.0.0.1', '10.0.0.2'], r.run);
    assert.deepEqual(r.calls, [
      { argv: ['resolvectl', 'dns', 'pptp0', '10.0.0.1', '10.0.0.2'] },
      { argv: ['resolvectl', 'domain', 'pptp0', '~.'] },
    ]);
    await u.undo();
    await u.undo();
    assert.deepEqual(r.calls.slice(2), [{ argv: ['resolvectl', 'revert', 'pptp0'] }]);
  });

  it('resolvconf: resolvconf -a IF with nameserver lines on stdin; undo: resolvconf -d IF', async () => {
    const r = recorder();
    const u = await setInterfaceDns('resolvconf', 'pptp3', ['192.0.2.53'], r.run);
    assert.deepEqual(r.calls, [{ argv: ['resolvconf', '-a', 'pptp3'], input: 'nameserver 192.0.2.53\n' }]);
    await u.undo();
    assert.deepEqual(r.calls[1], { argv: ['resolvconf', '-d', 'pptp3'] });
  });

  it('a failing step undoes what was done and rejects', async () => {
    const r = recorder('domain');
    await assert.rejects(setInterfaceDns('resolved', 'pptp0', ['10.0.0.1'], r.run), /resolvectl: failed/);
    assert.deepEqual(
      r.calls.map((c) => c.argv.join(' ')),
      ['resolvectl dns pptp0 10.0.0.1', 'resolvectl domain pptp0 ~.', 'resolvectl revert pptp0'],
    );
  });

  it('the system host: resolver ways through the runner, none when the host has neither (the file way)', async () => {
    const r = recorder();
    const viaResolved = systemClientHost({}, { probe: probe(true, false), run: r.run });
    const u = await viaResolved.setPeerDns!('pptp9', ['10.1.1.1']);
    assert.ok(u);
    assert.equal(r.calls[0]!.argv[0], 'resolvectl');
    const plain = systemClientHost({}, { probe: probe(false, false), run: r.run });
    assert.equal(await plain.setPeerDns!('pptp9', ['10.1.1.1']), undefined);

    // The file way: written, then removed at teardown.
    const dir = mkdtempSync(join(tmpdir(), 'pptp-ts-dns-'));
    try {
      const file = join(dir, 'resolv.conf');
      const fu = await plain.writeResolvConf(file, ['10.1.1.1', '10.1.1.2']);
      assert.equal(readFileSync(file, 'utf8'), 'nameserver 10.1.1.1\nnameserver 10.1.1.2\n');
      await fu.undo();
      assert.equal(existsSync(file), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('uses the resolver ways only in the host network namespace, not in a new one', () => {
    assert.equal(process.getuid?.(), 0, 'needs root (unshare -n): run the tests as root');
    const src = pathToFileURL(join(ROOT, 'src', 'client', 'resolver.ts')).href;
    const r = spawnSync(
      'unshare',
      [
        '-n',
        process.execPath,
        '--import',
        'tsx',
        '-e',
        `import(${JSON.stringify(src)}).then((m) => console.log(m.inInitialNetworkNamespace(), m.systemDnsProbe.hasResolvconf(), m.systemDnsProbe.resolvedRunning()))`,
      ],
      { encoding: 'utf8', cwd: ROOT, timeout: 30_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'false false false');
  });
});
