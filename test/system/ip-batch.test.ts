/**
 * The server's long-lived `ip -force -batch -` process (src/server/ip-batch.ts)
 * and the session routes that use it (src/server/server-host.ts), against the real
 * iproute2 in a namespace of our own (a veth pair stands in for an
 * interface; this kernel has no dummy driver): answers matched to commands, errors to
 * the command that failed, output returned, the kernel's routing table as
 * the oracle, a process that dies replaced, and nothing left running.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { IpError } from '../../src/io/ip.js';
import { IpBatch } from '../../src/server/ip-batch.js';
import { systemServerHost } from '../../src/server/server-host.js';
import { createLab, settledResources } from '../helpers/netns.js';
import { requireRoot } from '../helpers/tools.js';

describe('IpBatch (real iproute2)', () => {
  before(() => requireRoot('ip'));
  const lab = createLab('ipbatch');

  async function routes(ns: string): Promise<string[]> {
    const r = await lab.exec(ns, ['ip', '-4', 'route', 'show', 'dev', 'dummy0']);
    return r.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .sort();
  }

  it('runs commands in order, returns output, rejects exactly the failing ones', async () => {
    const ns = await lab.addNamespace('a');
    await lab.exec(ns, ['ip', 'link', 'add', 'dummy0', 'type', 'veth', 'peer', 'name', 'dummy1']);
    await lab.exec(ns, ['ip', 'link', 'set', 'dummy0', 'up']);
    await lab.exec(ns, ['ip', 'link', 'set', 'dummy1', 'up']);
    const batch = new IpBatch({ netns: ns, globalArgs: ['-4'] });
    // 200 commands at once, every fifth one failing (no such device).
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) =>
        batch.run([
          'route',
          'add',
          `10.78.${i >> 8}.${i & 255}/32`,
          'dev',
          i % 5 === 4 ? 'nosuch0' : 'dummy0',
        ]),
      ),
    );
    for (const [i, r] of results.entries()) {
      if (i % 5 === 4) {
        assert.equal(r.status, 'rejected', `command ${i}`);
        const e = (r as PromiseRejectedResult).reason as IpError;
        assert.ok(e instanceof IpError);
        assert.match(e.stderr, /Cannot find device "nosuch0"/);
        assert.ok(!e.stderr.includes('pptp-ts-done'), 'the marker is not part of the error');
      } else {
        assert.equal(r.status, 'fulfilled', `command ${i}: ${(r as PromiseRejectedResult).reason}`);
      }
    }
    const table = await routes(ns);
    assert.equal(table.length, 160);
    assert.ok(table.includes('10.78.0.0 scope link'));
    assert.ok(!table.includes('10.78.0.4 scope link'));
    // Output comes back with its command.
    const shown = await batch.run(['route', 'show', '10.78.0.3/32']);
    assert.equal(shown.trim(), '10.78.0.3 dev dummy0 scope link');
    assert.equal(batch.inFlight, 0);
    await batch.close();
    await assert.rejects(batch.run(['route', 'show']), /closed/);
  });

  it('the commands of one turn reach the pipe in one write', async () => {
    const ns = await lab.addNamespace('t');
    const batch = new IpBatch({ netns: ns });
    try {
      await batch.run(['link', 'show', 'dev', 'lo']);
      const child = (batch as unknown as { child: { stdin: { write: (t: string) => boolean } } }).child;
      const writes: string[] = [];
      const original = child.stdin.write.bind(child.stdin);
      child.stdin.write = (t: string) => {
        writes.push(t);
        return original(t);
      };
      const outs = await Promise.all(
        Array.from({ length: 100 }, () => batch.run(['link', 'show', 'dev', 'lo'])),
      );
      assert.equal(outs.length, 100);
      for (const o of outs) assert.match(o, /^1: lo: /);
      assert.equal(writes.length, 1, 'one write for the hundred commands');
      assert.equal(writes[0]!.split('\n').filter((l) => l === 'link show dev lo').length, 100);
    } finally {
      await batch.close();
    }
  });

  it('a process that never answers is ended when the oldest command times out, and every pending command fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ipbatch-'));
    const silent = join(dir, 'silent-ip');
    writeFileSync(silent, '#!/bin/sh\nexec cat >/dev/null\n', { mode: 0o755 });
    const batch = new IpBatch({ ipPath: silent, timeoutMs: 400 });
    try {
      const t0 = performance.now();
      const first = batch.run(['route', 'show']).then(
        () => assert.fail('answered'),
        (e: unknown) => ({ e, at: performance.now() - t0 }),
      );
      await new Promise((r) => setTimeout(r, 150));
      const second = batch.run(['route', 'show']).then(
        () => assert.fail('answered'),
        (e: unknown) => ({ e, at: performance.now() - t0 }),
      );
      const [a, b] = await Promise.all([first, second]);
      for (const r of [a, b]) {
        assert.ok(r.e instanceof IpError);
        assert.match((r.e as IpError).stderr, /no answer within 400 ms/);
      }
      assert.ok(a.at >= 390 && a.at < 3000, `the oldest command timed out after ${a.at} ms`);
      assert.equal(batch.inFlight, 0);
      assert.equal(batch.running, false, 'the silent process was ended');
    } finally {
      await batch.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('many idle/busy cycles add no listeners to the closed stderr pipe and raise no warning', async () => {
    const ns = await lab.addNamespace('w');
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    const batch = new IpBatch({ netns: ns });
    try {
      // Each command references the process, its answer unreferences it again.
      for (let i = 0; i < 20; i++) await batch.run(['link', 'show', 'dev', 'lo']);
      const child = (batch as unknown as { child: { stdin: Socket; stdout: Socket; stderr: Socket } }).child;
      for (const s of [child.stdin, child.stdout, child.stderr]) assert.ok(s.listenerCount('connect') <= 1);
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(warnings, []);
    } finally {
      process.off('warning', onWarning);
      await batch.close();
    }
  });

  it('a batch process that dies fails what was in flight; the next command starts a new one', async () => {
    const ns = await lab.addNamespace('b');
    await lab.exec(ns, ['ip', 'link', 'add', 'dummy0', 'type', 'veth', 'peer', 'name', 'dummy1']);
    const batch = new IpBatch({ netns: ns });
    await batch.run(['link', 'set', 'dummy0', 'up']);
    await batch.run(['link', 'set', 'dummy1', 'up']);
    assert.ok(batch.running);
    // Kill the ip process (the child of sh -c exec: the same PID).
    const pids = await lab.exec(ns, ['sh', '-c', 'pgrep -x ip || true'], { allowFail: true });
    const ours = (batch as unknown as { child: { pid: number } }).child.pid;
    assert.ok(pids.stdout.split(/\s+/).includes(String(ours)), 'the batch process runs in the namespace');
    const inFlight = batch.run(['route', 'add', '10.79.0.1/32', 'dev', 'dummy0']).catch((e: unknown) => e);
    process.kill(ours, 'SIGKILL');
    const r = await inFlight;
    // Either it made it before the kill or it failed with an IpError; never hangs.
    if (r !== '') assert.ok(r instanceof IpError, String(r));
    for (let i = 0; i < 100 && batch.running; i++) await new Promise((res) => setTimeout(res, 20));
    assert.equal(batch.running, false, 'the death was noticed');
    await batch.run(['route', 'replace', '10.79.0.2/32', 'dev', 'dummy0']);
    assert.ok(batch.running);
    assert.notEqual((batch as unknown as { child: { pid: number } }).child.pid, ours, 'a new process');
    assert.ok((await routes(ns)).includes('10.79.0.2 scope link'));
    await batch.close();
  });

  it('systemServerHost: session routes go through one batch process; undo removes them; close leaves nothing running', async () => {
    const ns = await lab.addNamespace('c');
    await lab.exec(ns, ['ip', 'link', 'add', 'dummy0', 'type', 'veth', 'peer', 'name', 'dummy1']);
    await lab.exec(ns, ['ip', 'link', 'set', 'dummy0', 'up']);
    await lab.exec(ns, ['ip', 'link', 'set', 'dummy1', 'up']);
    await lab.exec(ns, ['ip', 'addr', 'add', '10.98.0.1/32', 'dev', 'dummy0']);
    const before = await settledResources();
    const host = systemServerHost({ netns: ns });
    const undos = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        host.addClientRoute('dummy0', `10.99.0.${10 + i}`, '10.98.0.1', 1400),
      ),
    );
    const table = await routes(ns);
    assert.equal(table.length, 50);
    assert.ok(table.includes('10.99.0.10 scope link src 10.98.0.1 mtu 1400'), table[0]);
    // The same route twice is refused (it would not be ours to delete).
    await assert.rejects(host.addClientRoute('dummy0', '10.99.0.10', '10.98.0.1', 1400), /exists/);
    await Promise.all(undos.slice(0, 25).map((u) => u.undo()));
    assert.equal((await routes(ns)).length, 25);
    // "Already gone" counts as done: the interface (and its routes) vanished first.
    await lab.exec(ns, ['ip', 'link', 'del', 'dummy0']);
    await Promise.all(undos.slice(25).map((u) => u.undo()));
    await host.close!();
    assert.deepEqual(await settledResources(), before, 'no process or pipe left');
  });
});
