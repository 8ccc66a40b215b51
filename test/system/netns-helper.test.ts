/** The namespace helper the system tests stand on. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLab, listNamespaces } from '../helpers/netns.js';
import { requireRoot } from '../helpers/tools.js';

describe('test/helpers/netns.ts', () => {
  before(() => requireRoot('ip'));
  const lab = createLab('nshelper');
  after(() => lab.cleanup());

  it('waitFor rejects as soon as the process exits without printing the pattern', async () => {
    const ns = await lab.addNamespace('a');
    const p = lab.spawn(ns, ['sh', '-c', 'echo starting; echo oops >&2; exit 3']);
    const t0 = Date.now();
    await assert.rejects(p.waitFor(/ready/, 10_000), /exited before printing/);
    assert.ok(Date.now() - t0 < 5_000, 'did not wait out the time-out');
    assert.equal((await p.exited).code, 3);
  });

  it('waitFor resolves on the pattern', async () => {
    const ns = lab.namespaces[0]!;
    const p = lab.spawn(ns, ['sh', '-c', 'echo ready; exec sleep 30']);
    await p.waitFor(/ready/, 5_000);
    const r = await p.kill(500);
    assert.equal(r.signal, 'SIGTERM');
  });

  it('cleanup removes the namespaces', async () => {
    const names = [...lab.namespaces];
    await lab.cleanup();
    const left = await listNamespaces();
    for (const n of names) assert.ok(!left.includes(n), `${n} removed`);
  });
});
