import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { HOOK_PATH, hookInvocation, runHook } from '../../src/io/hooks.js';
import { createMemoryLogger } from '../../src/io/log.js';

const dir = mkdtempSync(join(tmpdir(), 'pptp-ts-hooks-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ctx = {
  ifname: 'pptp0',
  device: '192.0.2.1',
  localIp: '10.0.0.2',
  remoteIp: '10.0.0.1',
  peerName: 'alice',
  ipparam: 'office',
  dns: ['10.0.0.53', '10.0.0.54', '10.0.0.55'],
};

describe('pppd-compatible hooks', () => {
  it('passes pppd arguments and environment', () => {
    const { args, env } = hookInvocation(ctx);
    assert.deepEqual(args, ['pptp0', '192.0.2.1', '0', '10.0.0.2', '10.0.0.1', 'office']);
    assert.equal(env.IFNAME, 'pptp0');
    assert.equal(env.IPLOCAL, '10.0.0.2');
    assert.equal(env.IPREMOTE, '10.0.0.1');
    assert.equal(env.PEERNAME, 'alice');
    assert.equal(env.DNS1, '10.0.0.53');
    assert.equal(env.DNS2, '10.0.0.54');
    assert.equal(env.DNS3, undefined, 'pppd exports two DNS servers');
    assert.equal(env.USEPEERDNS, '1');
    assert.equal(env.PATH, HOOK_PATH);
    assert.equal(env.HOME, undefined, 'our environment does not leak');
  });

  it('runs a script and gives it exactly that', async () => {
    const out = join(dir, 'out.txt');
    const script = join(dir, 'ip-up');
    writeFileSync(script, `#!/bin/sh\necho "$@|$IFNAME|$DNS1|$BYTES_SENT" > ${out}\necho hello\n`);
    chmodSync(script, 0o755);
    const log = createMemoryLogger();
    const r = await runHook(script, 'ip-up', { ...ctx, bytesSent: 42 }, log);
    assert.deepEqual(r, { code: 0, signal: null, timedOut: false });
    assert.equal(
      readFileSync(out, 'utf8').trim(),
      'pptp0 192.0.2.1 0 10.0.0.2 10.0.0.1 office|pptp0|10.0.0.53|42',
    );
    assert.ok(
      log.lines.some((l) => l.includes('hello')),
      'script output is logged',
    );
  });

  it('reports a failing script without throwing', async () => {
    const script = join(dir, 'fails');
    writeFileSync(script, '#!/bin/sh\nexit 3\n');
    chmodSync(script, 0o755);
    const r = await runHook(script, 'ip-down', ctx, createMemoryLogger());
    assert.equal(r.code, 3);
    const missing = await runHook(join(dir, 'missing'), 'ip-down', ctx, createMemoryLogger());
    assert.notEqual(missing.code, 0);
  });

  it('kills a script that runs too long', async () => {
    const script = join(dir, 'slow');
    writeFileSync(script, '#!/bin/sh\nexec sleep 30\n');
    chmodSync(script, 0o755);
    const r = await runHook(script, 'ip-up', ctx, createMemoryLogger(), 200);
    assert.equal(r.timedOut, true);
  });
});
