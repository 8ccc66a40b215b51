import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseServerConfig, validateServerConfig } from '../../src/server/config.js';
import { configErrorOf as errorOf } from '../helpers/config-error.js';

const minimal = { 'local-ip': '10.99.0.1', pool: '10.99.0.10-20', secrets: '/etc/ppp/chap-secrets' };

describe('server config', () => {
  it('fills pppd-style defaults: MS-CHAPv2 with MPPE-128 required', () => {
    const c = validateServerConfig(minimal);
    assert.equal(c.port, 1723);
    assert.equal(c.listen, '0.0.0.0');
    assert.equal(c.ppp['require-mschap-v2'], true);
    assert.equal(c.ppp['require-pap'], false);
    assert.equal(c.ppp['require-mppe-128'], true);
    assert.equal(c.ppp.nomppe, false);
    assert.equal(c.ppp['lcp-echo-interval'], 30);
    assert.equal(c.interface.mode, 'shared');
    assert.equal(c.pptp['echo-interval'], 60);
    assert.equal(c.limits['max-sessions'], 10000);
  });
  it('names an unknown key with its path', () => {
    assert.match(
      errorOf({ ...minimal, ppp: { 'lcp-echo-intervall': 5 } }),
      /unknown key "ppp\.lcp-echo-intervall"/,
    );
    assert.match(errorOf({ ...minimal, colour: 'blue' }), /unknown key "colour"/);
  });
  it('names a bad value with its path', () => {
    assert.match(errorOf({ ...minimal, 'local-ip': '10.99.0.300' }), /local-ip: not an IPv4 address/);
    assert.match(errorOf({ ...minimal, port: 70000 }), /port: /);
    assert.match(
      errorOf({ ...minimal, interface: { name: 'this-name-is-far-too-long' } }),
      /interface\.name: /,
    );
    assert.match(errorOf({ ...minimal, 'ms-dns': ['1.1.1.1', '8.8.8.8', '9.9.9.9'] }), /ms-dns: /);
    assert.match(errorOf({ ...minimal, pool: '10.0.0.9-10.0.0.1' }), /pool: .*ends before it starts/);
  });
  it('pptp.ack-timeout-ms: 100 by default, 0 allowed (acknowledgments on data only), negative refused', () => {
    assert.equal(validateServerConfig(minimal).pptp['ack-timeout-ms'], 100);
    assert.equal(
      validateServerConfig({ ...minimal, pptp: { 'ack-timeout-ms': 0 } }).pptp['ack-timeout-ms'],
      0,
    );
    assert.match(errorOf({ ...minimal, pptp: { 'ack-timeout-ms': -1 } }), /pptp\.ack-timeout-ms: /);
  });
  it('names a missing required key', () => {
    assert.match(errorOf({ pool: 'x', secrets: 'y' }), /local-ip: /);
  });
  it('refuses contradictions', () => {
    assert.match(errorOf({ ...minimal, ppp: { 'require-mschap-v2': false } }), /no authentication method/);
    assert.match(errorOf({ ...minimal, ppp: { 'require-pap': true } }), /nomppe/);
    assert.doesNotThrow(() =>
      validateServerConfig({ ...minimal, ppp: { 'require-pap': true, nomppe: true } }),
    );
  });
  it('refuses nomppe beside an explicit require-mppe-128 or require-mppe-40 (the default alone is fine)', () => {
    assert.equal(
      errorOf({ ...minimal, ppp: { nomppe: true, 'require-mppe-128': true } }),
      'server.json: ppp: "nomppe": true contradicts "require-mppe-128": true (MPPE cannot be off and required)',
    );
    assert.match(
      errorOf({ ...minimal, ppp: { nomppe: true, 'require-mppe-40': true } }),
      /"require-mppe-40": true/,
    );
    assert.doesNotThrow(() => validateServerConfig({ ...minimal, ppp: { nomppe: true } }));
    assert.doesNotThrow(() =>
      validateServerConfig({ ...minimal, ppp: { nomppe: true, 'require-mppe-128': false } }),
    );
  });
  it('reports broken JSON with the file name', () => {
    assert.throws(() => parseServerConfig('{ "pool": ', 'srv.json'), /srv\.json: not valid JSON/);
  });
});
