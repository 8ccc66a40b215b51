/**
 * The operations keys of the server config (`metrics`, `control-socket`)
 * and the management helpers: which sessions a kick target names, how a
 * kick reason is cleaned, the `sessions` table.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sessionsTable } from '../../src/cli/sessions.js';
import { parseListenAddress } from '../../src/io/metrics-http.js';
import { ConfigError, DEFAULT_CONTROL_SOCKET, validateServerConfig } from '../../src/server/config.js';
import {
  cleanReason,
  DEFAULT_KICK_REASON,
  KICK_REASON_MAX,
  kickSelector,
} from '../../src/server/management.js';
import type { ServerSessionDetail } from '../../src/server/observer.js';

const BASE = { 'local-ip': '10.9.0.1', pool: '10.9.0.10-10.9.0.20', secrets: '/x' };

describe('operations config and management helpers', () => {
  it('metrics is off unless configured; listen must be HOST:PORT', () => {
    assert.equal(validateServerConfig(BASE).metrics, undefined);
    assert.deepEqual(validateServerConfig({ ...BASE, metrics: { listen: '127.0.0.1:9723' } }).metrics, {
      listen: '127.0.0.1:9723',
    });
    for (const bad of ['127.0.0.1', '127.0.0.1:0', '127.0.0.1:70000', '300.1.1.1:80', 'host:80x']) {
      assert.throws(() => validateServerConfig({ ...BASE, metrics: { listen: bad } }), ConfigError, bad);
    }
    assert.throws(
      () => validateServerConfig({ ...BASE, metrics: { listen: '127.0.0.1:1', port: 2 } }),
      /unknown key "metrics.port"/,
    );
    assert.deepEqual(parseListenAddress('[::1]:9723'), { host: '::1', port: 9723 });
  });

  it('control-socket: default path, an absolute path, or false', () => {
    assert.equal(validateServerConfig(BASE)['control-socket'], DEFAULT_CONTROL_SOCKET);
    assert.equal(validateServerConfig({ ...BASE, 'control-socket': false })['control-socket'], false);
    assert.throws(() => validateServerConfig({ ...BASE, 'control-socket': 'rel.sock' }), /control-socket/);
    assert.throws(
      () => validateServerConfig({ ...BASE, 'control-socket': `/${'x'.repeat(120)}` }),
      ConfigError,
    );
  });

  it('kick targets: a number is an id, an IPv4 address a tunnel or client address, else a user', () => {
    const d = (id: number, user: string, peer: string, address: string) =>
      ({ id, user, peer, address }) as unknown as ServerSessionDetail;
    const all = [d(1, 'alice', '198.51.100.2', '10.0.0.10'), d(2, '7', '198.51.100.3', '10.0.0.11')];
    const pick = (t: string) => all.filter(kickSelector(t)).map((s) => s.id);
    assert.deepEqual(pick('1'), [1]);
    assert.deepEqual(pick('10.0.0.11'), [2]);
    assert.deepEqual(pick('198.51.100.2'), [1]);
    assert.deepEqual(pick('alice'), [1]);
    assert.deepEqual(pick('7'), [], 'a number is an id, even when a user has that name');
  });

  it('kick reasons lose control characters and are bounded', () => {
    assert.equal(cleanReason(undefined), DEFAULT_KICK_REASON);
    assert.equal(cleanReason('  \n '), DEFAULT_KICK_REASON);
    assert.equal(cleanReason('a\nb\u0007c'), 'a b c');
    assert.equal(cleanReason('x'.repeat(500)).length, KICK_REASON_MAX);
    assert.throws(() => cleanReason(5), /string/);
  });

  it('the sessions table has a header and one line per session, user names escaped', () => {
    const t = sessionsTable([
      {
        id: 3,
        user: 'bob\nx',
        peer: '198.51.100.2',
        address: '10.0.0.77',
        ifname: 'pptps0',
        phase: 'network',
        up: true,
        uptimeSeconds: 3725,
        bytesIn: 2048,
        bytesOut: 5 * 1024 * 1024,
        packetsIn: 2,
        packetsOut: 5,
        mppe: '128-bit stateless',
        auth: 'MS-CHAP-v2',
      },
    ]).split('\n');
    assert.match(t[0]!, /^ID\s+USER\s+PEER\s+ADDRESS\s+UPTIME\s+IN\s+OUT\s+MPPE\s+AUTH\s+PHASE$/);
    assert.match(
      t[1]!,
      /^3\s+bob\\nx\s+198\.51\.100\.2\s+10\.0\.0\.77\s+1h2m5s\s+2\.0K\s+5\.0M\s+128-bit stateless\s+MS-CHAP-v2\s+network$/,
    );
  });
});
