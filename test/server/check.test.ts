/**
 * serve --check's cross-checks (src/server/check.ts): the pool and the
 * secrets built as the running server builds them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSecrets } from '../../src/server/chap-secrets.js';
import { checkServerSetup } from '../../src/server/check.js';
import { validateServerConfig } from '../../src/server/config.js';

const PATH = '/etc/ppp/chap-secrets';

function check(pool: string, secrets: string, mode = 0o100600) {
  const config = validateServerConfig({ 'local-ip': '10.9.0.1', pool, secrets: PATH });
  return checkServerSetup({
    config,
    secrets: parseSecrets(secrets, { fileName: PATH }),
    secretsPath: PATH,
    secretsMode: mode,
  });
}

describe('serve --check cross-checks', () => {
  it('a sound setup has no findings', () => {
    assert.deepEqual(check('10.9.0.1-10.9.0.20', 'alice * a *\nbob * b 10.9.0.50\ncarol * c 10.9.0.5\n'), []);
  });

  it('a pool that holds only local-ip is an error', () => {
    assert.deepEqual(check('10.9.0.1', 'alice * a *\n'), [
      {
        level: 'error',
        message: "pool: '10.9.0.1' holds only local-ip 10.9.0.1; no address is left for clients",
      },
    ]);
  });

  it('a pool used up by local-ip and fixed addresses is an error only when someone needs it', () => {
    const f = check('10.9.0.1-10.9.0.2', 'alice * a 10.9.0.2\nbob * b *\n');
    assert.equal(f.length, 1);
    assert.match(
      f[0]!.message,
      /^pool: '10\.9\.0\.1-10\.9\.0\.2' is used up by local-ip and the fixed addresses .*1 user\(s\) without a fixed address would get none \(first: line 2\)$/,
    );
    assert.deepEqual(
      check('10.9.0.1-10.9.0.2', 'alice * a 10.9.0.2\nbob * b -\n'),
      [],
      'bob asks for no address',
    );
  });

  it('a fixed address equal to local-ip is an error naming the line', () => {
    assert.deepEqual(check('10.9.0.10-20', 'alice * a *\nbob * b 10.9.0.1\n'), [
      {
        level: 'error',
        message: `${PATH}:2: fixed address 10.9.0.1 is local-ip, the server's own end of every tunnel`,
      },
    ]);
  });

  it('one fixed address on two lines is an error naming both', () => {
    assert.deepEqual(check('10.9.0.10-20', 'alice * a 10.9.0.50\nbob * b 10.9.0.50\n'), [
      { level: 'error', message: `${PATH}:2: fixed address 10.9.0.50 is already given on line 1` },
    ]);
  });

  it('warns, as pppd does, when the secrets file has group or world access', () => {
    for (const mode of [0o100644, 0o100640, 0o100604, 0o100660]) {
      const f = check('10.9.0.10-20', 'alice * a *\n', mode);
      assert.equal(f.length, 1, mode.toString(8));
      assert.equal(f[0]!.level, 'warning');
      assert.equal(
        f[0]!.message,
        `${PATH} has group and/or world access (mode ${(mode & 0o777).toString(8)}): chmod 600 ${PATH}`,
      );
    }
    assert.deepEqual(check('10.9.0.10-20', 'alice * a *\n', 0o100400), []);
  });
});
