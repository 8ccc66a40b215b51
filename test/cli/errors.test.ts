/**
 * The one-line error texts of src/io/os-errors.ts: a file error names its
 * reason once, a missing privilege names the capabilities and the setcap line.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CAPABILITY_HINT, errorText, isPermissionError, setupErrorText } from '../../src/io/os-errors.js';

function fsError(path: string): Error {
  try {
    readFileSync(path);
  } catch (e) {
    return e as Error;
  }
  throw new Error(`${path} exists`);
}

describe('os-errors', () => {
  it('a file error says its reason once: no "ENOENT ENOENT", no repeated path', () => {
    const e = fsError('/nonexistent/pptp-ts/file');
    assert.match(e.message, /^ENOENT: .*open '\/nonexistent/, 'what Node gives');
    assert.equal(errorText(e), 'no such file or directory (ENOENT)');
    assert.equal(errorText(e).match(/ENOENT/g)?.length, 1);
  });

  it('other errors keep their message', () => {
    assert.equal(errorText(new Error('boom')), 'boom');
    assert.equal(errorText('text'), 'text');
  });

  it('EPERM/EACCES from the native addon get the capability hint with the setcap line', () => {
    const native = Object.assign(new Error('socket(AF_INET, SOCK_RAW): Operation not permitted (EPERM)'), {
      code: 'EPERM',
    });
    assert.ok(isPermissionError(native));
    assert.equal(
      setupErrorText(native),
      `socket(AF_INET, SOCK_RAW): Operation not permitted (EPERM): ${CAPABILITY_HINT}`,
    );
    assert.match(CAPABILITY_HINT, /needs root or CAP_NET_ADMIN \+ CAP_NET_RAW/);
    assert.match(CAPABILITY_HINT, /setcap cap_net_admin,cap_net_raw\+ep \$\(command -v node\)/);
    const tun = new Error('open /dev/net/tun: TUNSETIFF: Operation not permitted');
    assert.ok(isPermissionError(tun), 'recognised by its text too');
  });

  it('other set-up errors get no hint', () => {
    const e = Object.assign(new Error('bind: Address already in use (EADDRINUSE)'), { code: 'EADDRINUSE' });
    assert.equal(isPermissionError(e), false);
    assert.equal(setupErrorText(e), 'bind: Address already in use (EADDRINUSE)');
  });
});
