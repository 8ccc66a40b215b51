/**
 * `pptp-ts serve` and `pptp-ts connect --profile` as systemd would run them
 * (Type=notify): real processes in two network namespaces, each with a real
 * unix datagram socket (bound by python3) as NOTIFY_SOCKET. The server sends
 * READY=1 once it listens, WATCHDOG=1 at half WATCHDOG_USEC, a STATUS= line
 * when a session comes up, and STOPPING=1 on SIGTERM; the client sends
 * STATUS= while it dials, READY=1 with its tunnel addresses once the tunnel
 * is up, and STOPPING=1 on SIGTERM. Each in that order.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { createLab } from '../helpers/netns.js';
import { NotifyReceiver } from '../helpers/notify-socket.js';
import { requireRoot } from '../helpers/tools.js';
import {
  PPTP_TS,
  SERVER_IP,
  tempDir,
  twoHosts,
  waitExit,
  waitUp,
  writePassword,
  writeServerConfig,
} from './tunnel-lab.js';

/** Index of the first line matching `re`, failing when there is none. */
function indexOf(lines: readonly string[], re: RegExp): number {
  const i = lines.findIndex((l) => re.test(l));
  assert.ok(i >= 0, `no ${re} in ${JSON.stringify(lines)}`);
  return i;
}

describe('sd_notify from real pptp-ts processes', () => {
  before(() => requireRoot());
  const lab = createLab('sdnotify');
  const dir = tempDir('sdnotify');

  it('server: READY=1, WATCHDOG=1, STATUS=, STOPPING=1; client: STATUS=, READY=1, STOPPING=1', async () => {
    const ns = await twoHosts(lab);
    const srvRx = await NotifyReceiver.start(join(dir, 'server.sock'));
    const cliRx = await NotifyReceiver.start(join(dir, 'client.sock'));

    const server = lab.spawn(ns.server, [
      'env',
      `NOTIFY_SOCKET=${srvRx.path}`,
      'WATCHDOG_USEC=1000000',
      ...PPTP_TS,
      'serve',
      '--config',
      writeServerConfig(dir),
    ]);
    await srvRx.waitFor(/^READY=1$/, 30_000);
    assert.match(server.stdout(), /listening on /, 'READY=1 came before the server listened');
    assert.match(
      srvRx.lines()[indexOf(srvRx.lines(), /^READY=1$/) + 1]!,
      /^STATUS=listening on 198\.51\.100\.1:1723; 0 sessions/,
    );
    await srvRx.waitFor(/^WATCHDOG=1$/, 5000);

    const profile = join(dir, 'office.json');
    writeFileSync(
      profile,
      JSON.stringify({
        server: SERVER_IP,
        user: 'alice',
        'password-file': writePassword(dir, 'correct horse'),
      }),
    );
    const client = lab.spawn(ns.client, [
      'env',
      `NOTIFY_SOCKET=${cliRx.path}`,
      ...PPTP_TS,
      'connect',
      '--profile',
      profile,
    ]);
    const ready = await cliRx.waitFor(/^STATUS=tunnel up/, 30_000);
    const up = await waitUp(client);
    assert.equal(ready, `STATUS=tunnel up: ${up.ifname} ${up.local} -> ${up.remote} via ${SERVER_IP}`);
    await srvRx.waitFor(/^STATUS=1 sessions \(1 up\), 1 connections/, 10_000);

    await client.kill(10_000);
    assert.equal((await waitExit(client)).code, 0);
    await cliRx.waitFor(/^STOPPING=1$/, 5000);
    const c = cliRx.lines();
    assert.ok(indexOf(c, /^STATUS=connecting to 198\.51\.100\.1 \(attempt 1\)$/) < indexOf(c, /^READY=1$/));
    assert.ok(indexOf(c, /^READY=1$/) < indexOf(c, /^STOPPING=1$/));
    assert.equal(c.filter((l) => l === 'READY=1').length, 1);

    await server.kill(15_000);
    await srvRx.waitFor(/^STOPPING=1$/, 5000);
    const s = srvRx.lines();
    assert.ok(indexOf(s, /^READY=1$/) < indexOf(s, /^STATUS=1 sessions/));
    assert.ok(indexOf(s, /^STATUS=1 sessions/) < indexOf(s, /^STOPPING=1$/));
    assert.equal(s.filter((l) => l === 'READY=1').length, 1);
  });
});
