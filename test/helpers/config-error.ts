/** The message of the {@link ConfigError} a server config gets; fails the test when it is accepted. */
import assert from 'node:assert/strict';
import { ConfigError, validateServerConfig } from '../../src/server/config.js';

export function configErrorOf(value: unknown): string {
  try {
    validateServerConfig(value, 'server.json');
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e.message;
  }
  assert.fail('config was accepted');
}
