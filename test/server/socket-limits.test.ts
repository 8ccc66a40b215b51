/**
 * `limits.listen-backlog` and `limits.gre-socket-buffer`: validated like the
 * other limits, and what the server asks of its listening socket and its GRE
 * socket when it starts (the system tests check the kernel's side of both).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateServerConfig } from '../../src/server/config.js';
import { serverConfig, World } from '../e2e/world.js';

const minimal = { 'local-ip': '10.99.0.1', pool: '10.99.0.10-20', secrets: '/etc/ppp/chap-secrets' };

describe('limits.listen-backlog and limits.gre-socket-buffer', () => {
  it('default to 4096 connections and 16 MiB', () => {
    const l = validateServerConfig(minimal).limits;
    assert.equal(l['listen-backlog'], 4096);
    assert.equal(l['gre-socket-buffer'], 16 << 20);
  });

  it('refuse what the kernel would not take, naming the key', () => {
    for (const bad of [0, -1, 65536, 2.5, 'many']) {
      assert.throws(
        () => validateServerConfig({ ...minimal, limits: { 'listen-backlog': bad } }),
        /listen-backlog/,
      );
    }
    for (const bad of [0, 1024, 65535, (1 << 30) + 1, 1.5]) {
      assert.throws(
        () => validateServerConfig({ ...minimal, limits: { 'gre-socket-buffer': bad } }),
        /gre-socket-buffer/,
      );
    }
  });

  it('reach the listening socket and the GRE socket when the server starts', async () => {
    const w = new World({
      config: serverConfig({ limits: { 'listen-backlog': 20000, 'gre-socket-buffer': 1 << 26 } }),
    });
    await w.start();
    try {
      assert.deepEqual(w.listenOptions, [{ backlog: 20000 }]);
      assert.deepEqual(w.greBufferBytes, [1 << 26]);
    } finally {
      await w.server.shutdown();
    }
    const d = new World();
    await d.start();
    try {
      assert.deepEqual(d.listenOptions, [{ backlog: 4096 }]);
      assert.deepEqual(d.greBufferBytes, [16 << 20]);
    } finally {
      await d.server.shutdown();
    }
  });
});
