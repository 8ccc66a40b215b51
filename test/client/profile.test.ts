/**
 * Client profiles (src/cli/profile.ts): a JSON file of `connect` options,
 * validated with zod, then parsed exactly as the command line; options after
 * `--profile` add to or override it; a bad profile is one clear line and exit
 * code 2 from the real command.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseConnectArgs } from '../../src/cli/connect.js';
import { expandProfile, ProfileError, parseProfile } from '../../src/cli/profile.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'pptp-ts-profile-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const FULL = {
  server: 'vpn.example.com',
  user: 'alice',
  'password-file': '/etc/pptp-ts/office.password',
  auth: ['mschap-v2', 'mschap'],
  port: 1724,
  'local-address': '192.0.2.44',
  ifname: 'office0',
  mtu: 1400,
  mppe: 'required,128,stateful',
  'default-route': false,
  route: ['10.1.0.0/16', '10.2.0.1'],
  usepeerdns: true,
  'lcp-echo-interval': 10,
  'lcp-echo-failure': 3,
  'ack-timeout-ms': 0,
  persist: true,
  maxfail: 0,
  holdoff: 2,
  'log-format': 'json',
};

function write(name: string, value: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof value === 'string' ? value : JSON.stringify(value));
  return p;
}

describe('client profiles', () => {
  it('a full profile means the same as its command line', () => {
    const cmd = parseConnectArgs(expandProfile(['--profile', write('full.json', FULL)]));
    assert.equal(cmd.options.server, 'vpn.example.com');
    assert.equal(cmd.options.user, 'alice');
    assert.equal(cmd.passwordFile, '/etc/pptp-ts/office.password');
    assert.deepEqual(cmd.options.auth, ['mschap-v2', 'mschap']);
    assert.equal(cmd.options.port, 1724);
    assert.equal(cmd.options.localAddress, '192.0.2.44');
    assert.equal(cmd.options.ifname, 'office0');
    assert.equal(cmd.options.mtu, 1400);
    assert.deepEqual(cmd.options.mppe, { mode: 'required', bits: [128], stateful: true });
    assert.equal(cmd.options.defaultRoute, false);
    assert.deepEqual(cmd.options.routes, ['10.1.0.0/16', '10.2.0.1/32']);
    assert.equal(cmd.options.usePeerDns, true);
    assert.equal(cmd.options.lcpEchoInterval, 10);
    assert.equal(cmd.options.lcpEchoFailure, 3);
    assert.deepEqual(cmd.options.gre, { ackTimeoutMs: 0 });
    assert.equal(cmd.persist, true);
    assert.equal(cmd.maxfail, 0);
    assert.equal(cmd.holdoff, 2);
    assert.equal(cmd.logFormat, 'json');
  });

  it('options after --profile add to or override it', () => {
    const p = write('base.json', { server: '192.0.2.1', user: 'bob', 'password-file': '/run/pw' });
    const cmd = parseConnectArgs(
      expandProfile([`--profile=${p}`, '--user', 'carol', '--route', '10.9.0.0/24']),
    );
    assert.equal(cmd.options.user, 'carol');
    assert.deepEqual(cmd.options.routes, ['10.9.0.0/24']);
    assert.equal(cmd.options.server, '192.0.2.1');
  });

  it('arguments without --profile pass through untouched', () => {
    assert.deepEqual(expandProfile(['192.0.2.1', '--user', 'x']), ['192.0.2.1', '--user', 'x']);
  });

  for (const [what, text, message] of [
    ['not JSON', '{server:', /bad\.json: not JSON/],
    ['an unknown key', { ...FULL, pasword: 'x' }, /bad\.json: .*pasword/],
    ['no password file', { server: 's', user: 'u' }, /bad\.json: password-file: /],
    [
      'a relative password file',
      { ...FULL, 'password-file': 'pw' },
      /password-file: must be an absolute path/,
    ],
    ['a password in the profile', { ...FULL, password: 'secret' }, /bad\.json: .*password/],
    ['a wrong type', { ...FULL, port: '1723' }, /bad\.json: port: /],
    ['an unknown method', { ...FULL, auth: ['eap'] }, /bad\.json: auth\.0: /],
  ] as const) {
    it(`refuses ${what}, naming the file and the key`, () => {
      const p = write('bad.json', text);
      assert.throws(
        () => parseProfile(typeof text === 'string' ? text : JSON.stringify(text), p),
        (e) => {
          assert.ok(e instanceof ProfileError);
          assert.match(e.message, message);
          return true;
        },
      );
    });
  }

  it('pptp-ts connect --profile with a bad profile: one line, exit code 2', () => {
    const p = write('broken.json', { server: 's', user: 'u', 'password-file': '/x', mtu: 'big' });
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'pptp-ts.js'), 'connect', '--profile', p], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^pptp-ts connect: .*broken\.json: mtu: .*\n\(see pptp-ts connect --help\)\n$/);
  });

  it('pptp-ts connect --profile with a missing file: exit code 2', () => {
    const r = spawnSync(
      process.execPath,
      [join(ROOT, 'bin', 'pptp-ts.js'), 'connect', '--profile', join(dir, 'none.json')],
      { encoding: 'utf8', timeout: 30_000 },
    );
    assert.equal(r.status, 2);
    assert.match(r.stderr, /cannot read .*none\.json/);
  });
});
