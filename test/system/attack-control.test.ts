/**
 * Attacks on a real `pptp-ts serve`'s control plane from a network
 * namespace, while a legitimate `pptp-ts connect` session pings through the
 * tunnel the whole time (docs/client-server.md "Limits"):
 *  - a control connection that floods Echo-Requests and never reads: the
 *    server stops reading from it, then drops it; its RSS stays bounded;
 *  - SIGTERM with live sessions and a peer that never answers: every peer
 *    is told (Call-Disconnect-Notify, Stop-Control-Connection-Request), the
 *    client logs the reason, and the server exits within the bound.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { createLab, type Spawned } from '../helpers/netns.js';
import { requireRoot } from '../helpers/tools.js';
import {
  eventually,
  SERVER_IP,
  serverStatus,
  startClient,
  startServer,
  statusCounter,
  TUNNEL_LOCAL,
  tempDir,
  twoHosts,
  waitExit,
  waitUp,
  writePassword,
  writeServerConfig,
} from './tunnel-lab.js';

/**
 * The attacker: SCCRQ, then Echo-Requests as fast as the socket takes them,
 * never reading; prints `sent N` every second and `closed N` when the
 * server drops it. Its own queue is kept under 1 MiB.
 */
const FLOODER = `
const net = require('node:net');
const s = net.connect(1723, process.argv[1]);
const sccrq = Buffer.alloc(156); sccrq.writeUInt16BE(156, 0); sccrq.writeUInt16BE(1, 2); sccrq.writeUInt32BE(0x1a2b3c4d, 4);
sccrq.writeUInt16BE(1, 8); sccrq.writeUInt16BE(0x100, 12); sccrq.writeUInt32BE(1, 16); sccrq.writeUInt32BE(1, 20);
const echo = Buffer.alloc(16); echo.writeUInt16BE(16, 0); echo.writeUInt16BE(1, 2); echo.writeUInt32BE(0x1a2b3c4d, 4); echo.writeUInt16BE(5, 8);
const batch = Buffer.concat(Array.from({ length: 4096 }, () => echo));
let sent = 0; let closed = false;
s.on('connect', () => { s.pause(); s.write(sccrq); pump(); });
s.on('error', () => {});
s.on('close', () => { closed = true; console.log('closed ' + sent); process.exit(0); });
function pump() { if (closed) return; if (s.writableLength < (1 << 20)) { s.write(batch); sent += batch.length; } setImmediate(pump); }
setInterval(() => console.log('sent ' + sent), 1000);
setTimeout(() => { console.log('still open ' + sent); process.exit(1); }, 60000);
`;

/** A peer that completes SCCRQ/SCCRP and places a call, then never reads or answers again. */
const SILENT = `
const net = require('node:net');
const s = net.connect(1723, process.argv[1]);
const sccrq = Buffer.alloc(156); sccrq.writeUInt16BE(156, 0); sccrq.writeUInt16BE(1, 2); sccrq.writeUInt32BE(0x1a2b3c4d, 4);
sccrq.writeUInt16BE(1, 8); sccrq.writeUInt16BE(0x100, 12); sccrq.writeUInt32BE(1, 16); sccrq.writeUInt32BE(1, 20);
const ocrq = Buffer.alloc(168); ocrq.writeUInt16BE(168, 0); ocrq.writeUInt16BE(1, 2); ocrq.writeUInt32BE(0x1a2b3c4d, 4);
ocrq.writeUInt16BE(7, 8); ocrq.writeUInt16BE(4242, 12); ocrq.writeUInt16BE(1, 14); ocrq.writeUInt32BE(300, 16); ocrq.writeUInt32BE(100000000, 20);
ocrq.writeUInt32BE(3, 24); ocrq.writeUInt32BE(3, 28); ocrq.writeUInt16BE(64, 32);
s.on('connect', () => { s.write(sccrq); setTimeout(() => { s.write(ocrq); setTimeout(() => { s.pause(); console.log('silent'); }, 300); }, 300); });
s.on('error', () => {});
setTimeout(() => process.exit(0), 60000);
`;

function rssKb(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

/** Starts `ping` through the tunnel: one every 200 ms for `count`. */
function startPing(lab: ReturnType<typeof createLab>, ns: string, count: number): Spawned {
  return lab.spawn(ns, ['ping', '-n', '-i', '0.2', '-W', '1', '-c', String(count), TUNNEL_LOCAL]);
}

function received(pingOut: string): { sent: number; received: number } {
  const m = /(\d+) packets transmitted, (\d+) received/.exec(pingOut);
  return { sent: Number(m?.[1] ?? 0), received: Number(m?.[2] ?? 0) };
}

describe('attacks on the control plane of a real server', () => {
  before(() => requireRoot());
  const lab = createLab('atkctl');
  const dir = tempDir('atkctl');
  let ns: { server: string; client: string };
  let alicePw = '';

  before(async () => {
    ns = await twoHosts(lab);
    alicePw = writePassword(dir, 'correct horse');
  });

  it('an Echo-Request flood that never reads is paused, then dropped; RSS stays bounded; the session keeps pinging', async () => {
    const server = await startServer(lab, ns.server, writeServerConfig(dir));
    try {
      const c = startClient(lab, ns.client, ['--user', 'alice', '--password-file', alicePw]);
      await waitUp(c);
      const rss0 = rssKb(server.pid);
      const ping = startPing(lab, ns.client, 75);
      const flood = lab.spawn(ns.client, [process.execPath, '-e', FLOODER, SERVER_IP]);
      let peak = rss0;
      const sampler = setInterval(() => {
        try {
          peak = Math.max(peak, rssKb(server.pid));
        } catch {}
      }, 200);
      const r = await waitExit(flood, 40_000);
      clearInterval(sampler);
      assert.equal(r.code, 0, `the flooder was not dropped: ${r.stdout.slice(-300)}`);
      assert.match(r.stdout, /closed \d+/);
      const growthMiB = (peak - rss0) / 1024;
      assert.ok(growthMiB < 64, `server RSS grew ${growthMiB.toFixed(1)} MiB`);
      const status = await serverStatus(server);
      assert.equal(statusCounter(status, 'controlWriteOverflows'), 1);
      assert.match(
        server.stderr(),
        /control connection dropped: the peer does not read what we send .*peer=198\.51\.100\.2/,
      );
      const p = await waitExit(ping, 30_000);
      const got = received(p.stdout);
      assert.ok(got.sent >= 70 && got.received >= got.sent - 3, `ping: ${got.received} of ${got.sent}`);
      c.child.kill('SIGTERM');
      assert.equal((await waitExit(c)).code, 0);
    } finally {
      await server.kill();
    }
  });

  it('SIGTERM with a live session and a silent peer: both are told, the client logs why, the server exits within 3 s', async () => {
    const server = await startServer(
      lab,
      ns.server,
      writeServerConfig(dir, { limits: { 'shutdown-timeout': 3 } }),
    );
    const c = startClient(lab, ns.client, ['--user', 'alice', '--password-file', alicePw]);
    await waitUp(c);
    const silent = lab.spawn(ns.client, [process.execPath, '-e', SILENT, SERVER_IP]);
    await silent.waitFor(/silent/, 10_000);
    await eventually(
      async () => statusCounter(await serverStatus(server), 'sessionsStarted') === 2,
      10_000,
      'two calls',
    );
    const t0 = Date.now();
    process.kill(server.pid, 'SIGTERM');
    const r = await waitExit(server, 10_000);
    const took = Date.now() - t0;
    assert.equal(r.code, 0, r.stderr);
    assert.ok(took < 4500, `the server took ${took} ms to exit`);
    assert.match(r.stdout, /stopped/);
    const o = await waitExit(c, 10_000);
    assert.equal(o.code, 16, o.stderr);
    assert.match(o.stderr, /server shutting down|AdminShutdown|Stop-Control-Connection|stopped by the peer/);
    await silent.kill();
  });
});
