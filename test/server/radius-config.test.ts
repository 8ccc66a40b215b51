import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRadiusAddress, validateServerConfig } from '../../src/server/config.js';
import { configErrorOf as errorOf } from '../helpers/config-error.js';

const base = { 'local-ip': '10.99.0.1', pool: '10.99.0.10-20' };
const auth = [{ address: '10.0.0.5', secret: 'testing123' }];

describe('server config: radius', () => {
  it('fills RFC 2865 defaults: port 1812/1813, 3 s time-out, 2 retries, RADIUS only', () => {
    const c = validateServerConfig({ ...base, radius: { auth, accounting: auth } });
    assert.equal(c.secrets, undefined);
    assert.deepEqual(c.radius?.order, ['radius']);
    assert.equal(c.radius?.timeout, 3);
    assert.equal(c.radius?.retries, 2);
    assert.equal(c.radius?.das, undefined);
    assert.equal(c.radius?.['accounting-queue']['max-records'], 100_000);
    assert.deepEqual(parseRadiusAddress(c.radius!.auth[0]!.address, 1812), { host: '10.0.0.5', port: 1812 });
    assert.deepEqual(parseRadiusAddress('10.0.0.5:18120', 1813), { host: '10.0.0.5', port: 18120 });
  });
  it('names a bad server address, an empty secret and a missing source', () => {
    assert.match(
      errorOf({ ...base, radius: { auth: [{ address: '10.0.0.5:99999', secret: 'x' }] } }),
      /radius\.auth\.0\.address: expected an IPv4 address/,
    );
    assert.match(
      errorOf({ ...base, radius: { auth: [{ address: '10.0.0.5', secret: '' }] } }),
      /radius\.auth\.0\.secret: a RADIUS shared secret must not be empty/,
    );
    assert.match(errorOf({ ...base }), /secrets: required \(or configure radius\)/);
    assert.match(
      errorOf({ ...base, radius: { auth, order: ['secrets', 'radius'] } }),
      /secrets: required when radius\.order includes "secrets"/,
    );
    assert.match(errorOf({ ...base, radius: {} }), /radius\.auth: at least one server/);
    assert.match(
      errorOf({ ...base, radius: { auth, order: ['radius', 'radius'] } }),
      /each source at most once/,
    );
    assert.match(errorOf({ ...base, radius: { auth, das: { clients: [] } } }), /radius\.das\.clients/);
  });
  it('takes chap-secrets and RADIUS together, in the order given', () => {
    const c = validateServerConfig({
      ...base,
      secrets: '/etc/ppp/chap-secrets',
      radius: {
        auth,
        order: ['secrets', 'radius'],
        das: { clients: [{ address: '10.0.0.5', secret: 's' }] },
      },
    });
    assert.deepEqual(c.radius?.order, ['secrets', 'radius']);
    assert.equal(c.radius?.das?.listen, '0.0.0.0:3799');
  });
  it('allows MPPE with PAP or CHAP when RADIUS authenticates (the Accept may carry the keys), not without', () => {
    const ppp = { 'require-pap': true, 'require-chap': true, 'require-mschap-v2': true };
    assert.doesNotThrow(() => validateServerConfig({ ...base, radius: { auth }, ppp }));
    assert.match(
      errorOf({ ...base, secrets: '/etc/ppp/chap-secrets', ppp }),
      /MPPE keys come from MS-CHAP \(or a RADIUS Access-Accept\)/,
    );
  });
});
