/**
 * The shipped systemd units, as `pptp-ts install-units` writes them, pass
 * `systemd-analyze verify` (Debian `systemd`) without a single warning, and
 * carry the hardening and notify settings docs/operations.md promises.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { installedCommand, SHIPPED_COMMAND } from '../../src/cli/install-units.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'pptp-ts-units-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function systemdAnalyze(files: string[]): { code: number | null; output: string } {
  const r = spawnSync('systemd-analyze', ['verify', ...files], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) {
    throw new Error(
      `systemd-analyze is needed to verify the units (apt-get install -y systemd): ${r.error.message}`,
    );
  }
  return { code: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

/** Runs the real `pptp-ts install-units --prefix DIR` and returns the unit paths (the client as an instance). */
function install(prefix: string): { server: string; client: string } {
  const out = execFileSync(
    process.execPath,
    [join(ROOT, 'bin', 'pptp-ts.js'), 'install-units', '--prefix', prefix],
    { encoding: 'utf8' },
  );
  assert.match(out, /wrote .*pptp-ts-server\.service/);
  assert.match(out, /wrote .*pptp-ts-client@\.service/);
  const client = join(prefix, 'pptp-ts-client@office.service');
  copyFileSync(join(prefix, 'pptp-ts-client@.service'), client);
  return { server: join(prefix, 'pptp-ts-server.service'), client };
}

describe('systemd units', () => {
  const installed = install(join(dir, 'ok'));

  it('install-units points ExecStart at this installation', () => {
    for (const f of [installed.server, installed.client]) {
      const text = readFileSync(f, 'utf8');
      assert.ok(!text.includes(SHIPPED_COMMAND), `${f} still names ${SHIPPED_COMMAND}`);
      assert.match(
        text,
        new RegExp(`^ExecStart=${installedCommand().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `, 'm'),
      );
    }
  });

  it('systemd-analyze verify accepts both without a warning', () => {
    const r = systemdAnalyze([installed.server, installed.client]);
    // verify also loads units of this machine that ours pull in (e.g. a distribution's own unit
    // using a deprecated key): those lines are not about ours.
    const ours = r.output
      .split('\n')
      .filter((l) => l !== '' && !/^\/(?:lib|usr\/lib|etc|run)\/systemd\/system\//.test(l));
    assert.deepEqual(ours, [], r.output);
    assert.equal(r.code, 0);
  });

  it('systemd-analyze verify would catch a mistake (the check can fail)', () => {
    const bad = join(dir, 'bad');
    const b = install(bad);
    writeFileSync(
      b.server,
      readFileSync(b.server, 'utf8').replace('NoNewPrivileges=yes', 'NoNewPrivilege=yes'),
    );
    const r = systemdAnalyze([b.server]);
    assert.match(r.output, /Unknown key( name)? 'NoNewPrivilege'/);
  });

  for (const [name, key] of [
    ['server', 'server'],
    ['client', 'client'],
  ] as const) {
    it(`the ${name} unit is Type=notify, with a watchdog and the hardening`, () => {
      const text = readFileSync(installed[key], 'utf8');
      const settings = new Map<string, string[]>();
      for (const line of text.split('\n')) {
        const m = /^([A-Za-z]+)=(.*)$/.exec(line);
        if (m) settings.set(m[1]!, [...(settings.get(m[1]!) ?? []), m[2]!]);
      }
      const one = (k: string) => settings.get(k)?.join(' ');
      assert.equal(one('Type'), 'notify');
      assert.equal(one('NotifyAccess'), 'main');
      assert.match(one('WatchdogSec') ?? '', /^\d+$/);
      const caps = (one('CapabilityBoundingSet') ?? '').split(' ').sort();
      assert.ok(caps.includes('CAP_NET_ADMIN') && caps.includes('CAP_NET_RAW'));
      assert.ok(
        caps.every((c) => ['CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_NET_BIND_SERVICE'].includes(c)),
        caps.join(),
      );
      for (const [k, v] of [
        ['NoNewPrivileges', 'yes'],
        ['ProtectSystem', 'strict'],
        ['ProtectHome', 'yes'],
        ['PrivateTmp', 'yes'],
        ['DevicePolicy', 'closed'],
        ['DeviceAllow', '/dev/net/tun rw'],
      ]) {
        assert.equal(one(k!), v, k);
      }
      assert.ok(settings.has('ReadWritePaths'), 'ReadWritePaths');
    });
  }
});
