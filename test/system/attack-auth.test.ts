/**
 * Attacks on a real `pptp-ts serve` that need no password, from a second
 * address of the client host, while a legitimate `pptp-ts connect` session
 * pings through the tunnel (docs/client-server.md "Limits"):
 *  - password guessing at full speed: the tarpit lets only a handful of
 *    attempts through in 10 s, and a real user from another address still
 *    logs in at once;
 *  - call-slot exhaustion: 64 connections opening calls that never
 *    authenticate get refused beyond the per-address limits, and a real
 *    user still dials in.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { createLab, type Spawned } from '../helpers/netns.js';
import { requireRoot } from '../helpers/tools.js';
import {
  ROOT,
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

const ATTACKER_IP = '198.51.100.3';

/** 64 connections from ATTACKER_IP, each SCCRQ and 4 OCRQs, then silence; prints the OCRP result codes. */
const SLOTS = `
const net = require('node:net');
const results = [];
let open = 0;
function msg(len, type) { const b = Buffer.alloc(len); b.writeUInt16BE(len, 0); b.writeUInt16BE(1, 2); b.writeUInt32BE(0x1a2b3c4d, 4); b.writeUInt16BE(type, 8); return b; }
for (let c = 0; c < 64; c++) {
  const s = net.connect({ port: 1723, host: process.argv[1], localAddress: process.argv[2] });
  s.on('error', () => {});
  s.on('connect', () => {
    open++;
    const q = msg(156, 1); q.writeUInt16BE(0x100, 12); q.writeUInt32BE(1, 16); q.writeUInt32BE(1, 20); s.write(q);
    for (let i = 0; i < 4; i++) { const o = msg(168, 7); o.writeUInt16BE(c * 4 + i + 1, 12); o.writeUInt32BE(300, 16); o.writeUInt32BE(1e8, 20); o.writeUInt32BE(3, 24); o.writeUInt32BE(3, 28); o.writeUInt16BE(64, 32); s.write(o); }
  });
  let buf = Buffer.alloc(0);
  s.on('data', (d) => { buf = Buffer.concat([buf, d]); while (buf.length >= 2 && buf.length >= buf.readUInt16BE(0)) { const len = buf.readUInt16BE(0); if (buf.readUInt16BE(8) === 8) results.push(buf[16]); buf = buf.subarray(len); } });
}
setTimeout(() => { console.log('results ' + JSON.stringify(results)); process.exit(0); }, 4000);
`;

function startPing(lab: ReturnType<typeof createLab>, ns: string, count: number): Spawned {
  return lab.spawn(ns, ['ping', '-n', '-i', '0.2', '-W', '1', '-c', String(count), TUNNEL_LOCAL]);
}

function pingOk(out: string): boolean {
  const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
  return m !== null && Number(m[1]) >= 20 && Number(m[2]) >= Number(m[1]) - 2;
}

describe('password guessing and call-slot exhaustion against a real server', () => {
  before(() => requireRoot());
  const lab = createLab('atkauth');
  const dir = tempDir('atkauth');
  let ns: { server: string; client: string };
  let alicePw = '';
  let server: Spawned;
  let alice: Spawned;

  before(async () => {
    ns = await twoHosts(lab);
    await lab.exec(ns.client, ['ip', 'addr', 'add', `${ATTACKER_IP}/24`, 'dev', 'vcli']);
    alicePw = writePassword(dir, 'correct horse');
    const users = Array.from({ length: 200 }, (_, i) => `u${i} * p${i} *`).join('\n');
    server = await startServer(
      lab,
      ns.server,
      writeServerConfig(dir, {}, `alice * "correct horse" *\ncarol * s3cret *\n${users}\n`),
    );
    alice = startClient(lab, ns.client, ['--user', 'alice', '--password-file', alicePw]);
    await waitUp(alice);
  });

  it('100 wrong passwords as fast as possible: few answered in 10 s, a real user still logs in at once', async () => {
    const ping = startPing(lab, ns.client, 60);
    const guesser = lab.spawn(ns.client, [
      process.execPath,
      '--import',
      'tsx',
      join(ROOT, 'test', 'system', 'churn-tool.ts'),
      SERVER_IP,
      ATTACKER_IP,
      '1',
      '100',
      '8',
      'wrong',
    ]);
    await new Promise((r) => setTimeout(r, 10_000));
    const failures = statusCounter(await serverStatus(server), 'authFailures');
    assert.ok(failures >= 4 && failures <= 30, `${failures} attempts judged in 10 s`);
    const carol = startClient(lab, ns.client, [
      '--user',
      'carol',
      '--password-file',
      writePassword(dir, 's3cret'),
    ]);
    const t0 = Date.now();
    await waitUp(carol, 10_000);
    assert.ok(Date.now() - t0 < 5000, `carol up after ${Date.now() - t0} ms`);
    carol.child.kill('SIGTERM');
    await waitExit(carol);
    await guesser.kill();
    assert.match(
      server.stderr(),
      /auth failure event=auth-failure peer=198\.51\.100\.3 user=u\d+ method=MS-CHAP-v2 reason=wrong-password callId=\d+ delayMs=\d+/,
    );
    const p = await waitExit(ping, 30_000);
    assert.ok(pingOk(p.stdout), p.stdout);
  });

  it('64 connections opening calls that never authenticate: refused beyond the limits, a real user still dials in', async () => {
    const ping = startPing(lab, ns.client, 40);
    const before = await serverStatus(server);
    const slots = lab.spawn(ns.client, [process.execPath, '-e', SLOTS, SERVER_IP, ATTACKER_IP]);
    const r = await waitExit(slots, 20_000);
    const results = JSON.parse(/results (.*)/.exec(r.stdout)![1]!) as number[];
    const connected = results.filter((x) => x === 1).length;
    assert.ok(connected <= 8, `${connected} calls connected`);
    assert.ok(results.length >= 200, `${results.length} replies`);
    const after = await serverStatus(server);
    const refused = statusCounter(after, 'callsRefused') - statusCounter(before, 'callsRefused');
    assert.equal(refused, results.length - connected);
    const carol = startClient(lab, ns.client, [
      '--user',
      'carol',
      '--password-file',
      writePassword(dir, 's3cret'),
    ]);
    await waitUp(carol, 10_000);
    carol.child.kill('SIGTERM');
    await waitExit(carol);
    const p = await waitExit(ping, 30_000);
    assert.ok(pingOk(p.stdout), p.stdout);
  });

  it('stops', async () => {
    alice.child.kill('SIGTERM');
    assert.equal((await waitExit(alice)).code, 0);
    await server.kill();
  });
});
