/**
 * The pptp-ts contender's files, checked by the server's own parsers: the
 * config it writes must pass src/server/config.ts's validation with the
 * intended MPPE policy, and the secrets line must give the bench user its
 * password and the client's tunnel address.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lookupSecret, parseSecrets } from '../../../src/server/chap-secrets.js';
import { validateServerConfig } from '../../../src/server/config.js';
import { parsePoolSpec } from '../../../src/server/ip-pool.js';
import { ipv4ToString, parseIpv4 } from '../../../src/wire/bytes.js';
import type { TunnelPlan } from '../contender.js';
import { secretsFile, serverConfig, USER } from '../contenders/pptp-ts.js';
import type { Lab } from '../netns.js';

const lab = { serverUnderlay: '198.18.0.1' } as Lab;
const plan: TunnelPlan = {
  serverAddress: '198.19.6.1',
  clientAddress: '198.19.6.2',
  prefixLength: 24,
  subnet: '198.19.6.0/24',
  mtu: 1440,
  unique: '1',
  upTimeoutMs: 1000,
};

describe('pptp-ts contender files', () => {
  it('MPPE off: a config the server accepts, with MPPE disabled', () => {
    const c = validateServerConfig(serverConfig(lab, plan, 'off', '/x/chap-secrets'));
    assert.equal(c.ppp.nomppe, true);
    assert.equal(c.ppp['require-mppe-128'], false);
    assert.equal(c.listen, '198.18.0.1');
    assert.equal(c['local-ip'], plan.serverAddress);
    assert.equal(c.ppp.mtu, 1440);
    assert.deepEqual(parsePoolSpec(c.pool).map(ipv4ToString), [plan.clientAddress]);
  });

  it('MPPE-128 stateless: required, not stateful, MS-CHAPv2', () => {
    const c = validateServerConfig(serverConfig(lab, plan, 'mppe-128-stateless', '/x/chap-secrets'));
    assert.equal(c.ppp.nomppe, false);
    assert.equal(c.ppp['require-mppe-128'], true);
    assert.equal(c.ppp['mppe-stateful'], false);
    assert.equal(c.ppp['require-mschap-v2'], true);
  });

  it('the secrets line gives the bench user its password and fixed address', () => {
    const entries = parseSecrets(secretsFile(USER, '0123abcd', plan.clientAddress));
    const e = lookupSecret(entries, USER, 'pptp-ts');
    assert.ok(e);
    assert.equal(e.secret, '0123abcd');
    assert.deepEqual(e.addresses.fixed, [parseIpv4(plan.clientAddress)]);
  });
});
