/**
 * `bench:sessions --radius`: the flag, and the FreeRADIUS users file the
 * bench writes for its generated users (the run itself is a system test,
 * test/system/bench-sessions.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { benchUsers } from '../../bench/sessions/radius.js';
import { parseSessionsArgs } from '../../bench/sessions/run.js';

describe('bench:sessions --radius', () => {
  it('is off by default and on with --radius; it takes no value', () => {
    const plain = parseSessionsArgs([]);
    assert.ok(plain !== 'help');
    assert.equal(plain.radius, undefined);
    const r = parseSessionsArgs(['--radius', '--sessions', '20']);
    assert.ok(r !== 'help');
    assert.equal(r.radius, true);
    assert.equal(r.sessions, 20);
    assert.throws(() => parseSessionsArgs(['--radius=yes']));
  });

  it('writes one users-file entry per generated user, with its password in clear for MS-CHAP', () => {
    assert.equal(
      benchUsers(2, 'load', 'secret-'),
      'load0\tCleartext-Password := "secret-0"\nload1\tCleartext-Password := "secret-1"\n',
    );
  });
});
