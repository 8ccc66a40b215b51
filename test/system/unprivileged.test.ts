/**
 * pptp-ts run by an unprivileged user, from a test running as root, wherever
 * root cloned the repository: /root is mode 0700, so a child running as
 * nobody cannot read a checkout there. The child runs a readable copy
 * (test/helpers/unprivileged.ts); the first test proves that this works from
 * a checkout inside a 0700 directory, and that running the checkout itself
 * would not. Then each privilege error says what to do, in one line.
 */
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { requireRoot } from '../helpers/tools.js';
import { NOBODY, readableCopy, runAsNobody } from '../helpers/unprivileged.js';

const CAPABILITY_LINE =
  /needs root or CAP_NET_ADMIN \+ CAP_NET_RAW \(run as root, or: setcap cap_net_admin,cap_net_raw\+ep \$\(command -v node\)\)\n$/;

describe('pptp-ts as an unprivileged user', () => {
  const made: string[] = [];
  let copy = '';
  before(() => {
    requireRoot();
    copy = readableCopy();
    made.push(copy);
  });
  after(() => {
    for (const d of made) rmSync(d, { recursive: true, force: true });
  });

  it('works from a checkout inside a 0700 directory (as /root is)', () => {
    const home = mkdtempSync(join(tmpdir(), 'pptp-ts-home-'));
    made.push(home);
    assert.equal(statSync(home).mode & 0o777, 0o700, 'a private parent directory');
    // The "checkout": the repository's files under the private directory.
    const checkout = readableCopy(undefined, home);
    // Run from there directly, the unprivileged child cannot even load the command.
    const direct = runAsNobody(checkout, ['demo']);
    assert.notEqual(direct.status, 0);
    assert.doesNotMatch(direct.stderr, /not root/);
    assert.match(direct.stderr, /Cannot find module|EACCES|permission denied/i);
    // Through a readable copy of that checkout, it gets as far as its own check.
    const fromPrivate = readableCopy(checkout);
    made.push(fromPrivate);
    const r = runAsNobody(fromPrivate, ['demo']);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^pptp-ts demo: not root: [^\n]*\n$/);
  });

  it('serve: a missing capability is one line with the setcap command, exit 4', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pptp-ts-nobody-serve-'));
    made.push(dir);
    chmodSync(dir, 0o755);
    const secrets = join(dir, 'chap-secrets');
    writeFileSync(secrets, 'alice * secret *\n', { mode: 0o600 });
    chownSync(secrets, NOBODY, NOBODY); // readable by its user only: no warning about its mode
    const config = join(dir, 'server.json');
    writeFileSync(
      config,
      JSON.stringify({
        listen: '127.0.0.1',
        port: 11723,
        'local-ip': '10.99.0.1',
        pool: '10.99.0.10-20',
        secrets,
      }),
      { mode: 0o644 },
    );
    const r = runAsNobody(copy, ['serve', '--config', config]);
    assert.equal(r.status, 4, r.stderr);
    assert.equal(r.stderr.split('\n').length, 2, `one line: ${r.stderr}`);
    assert.match(r.stderr, /^pptp-ts serve: cannot start: .*(EPERM|EACCES)\): /);
    assert.match(r.stderr, CAPABILITY_LINE);
  });
});
