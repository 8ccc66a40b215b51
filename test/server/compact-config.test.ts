import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateServerConfig } from '../../src/server/config.js';

describe('limits.compact-after-burst', () => {
  const minimal = { 'local-ip': '10.99.0.1', pool: '10.99.0.10-20', secrets: '/etc/ppp/chap-secrets' };
  it('is off (0) unless set', () => {
    assert.equal(validateServerConfig(minimal).limits['compact-after-burst'], 0);
    assert.equal(
      validateServerConfig({ ...minimal, limits: { 'compact-after-burst': 256 } }).limits[
        'compact-after-burst'
      ],
      256,
    );
  });
  it('refuses a negative or fractional count, naming the key', () => {
    for (const bad of [-1, 1.5, 'many']) {
      assert.throws(
        () => validateServerConfig({ ...minimal, limits: { 'compact-after-burst': bad } }),
        /compact-after-burst/,
      );
    }
  });
});
