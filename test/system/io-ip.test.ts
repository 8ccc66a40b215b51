/**
 * src/io/ip.ts against the real kernel, inside namespaces made for this test:
 * every change shows up in `ip -j` output, and every undo takes it away.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  addDefaultRoute,
  addHostRouteViaGateway,
  addLinkLocalAddress,
  addPointToPointAddress,
  addRoute,
  IpError,
  linkInfo,
  routeGet,
  routeMtu,
  setLinkDown,
  setLinkUp,
  setMtu,
  UndoStack,
} from '../../src/io/ip.js';
import { Tun } from '../../src/io/tun.js';
import { linkLocalAddress } from '../../src/wire/ipv6cp.js';
import { createLab, listNamespaces, run } from '../helpers/netns.js';
import { requireRoot } from '../helpers/tools.js';

interface AddrInfo {
  family: string;
  local: string;
  address?: string;
  prefixlen: number;
}

async function addrs(ns: string, dev: string): Promise<AddrInfo[]> {
  const r = await run(['ip', '-n', ns, '-j', 'addr', 'show', 'dev', dev]);
  return (JSON.parse(r.stdout) as { addr_info: AddrInfo[] }[])[0]!.addr_info;
}

async function routes(ns: string, family = '-4'): Promise<string[]> {
  const r = await run(['ip', '-n', ns, family, 'route', 'show']);
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

describe('io/ip.ts on a real kernel', () => {
  before(() => requireRoot('ip'));
  const lab = createLab('ioip');
  let ns = '';
  let tun: Tun | undefined;

  before(async () => {
    ns = await lab.addNamespace('host');
    const peer = await lab.addNamespace('gw');
    await lab.addVeth(ns, 'up0', peer, 'gw0');
    await run(['ip', '-n', ns, 'addr', 'add', '192.0.2.10/24', 'dev', 'up0']);
    await run(['ip', '-n', ns, 'route', 'add', 'default', 'via', '192.0.2.1']);
    tun = Tun.open({ name: 'ptest%d', netns: ns });
    assert.match(tun.name, /^ptest\d+$/);
  });

  it('MTU and up/down, each undone', async () => {
    const opts = { netns: ns };
    const before = await linkInfo(tun!.name, opts);
    assert.equal(before.up, false);
    assert.ok(before.flags.includes('POINTOPOINT'), `flags ${before.flags}`);
    assert.ok(before.flags.includes('NOARP'));
    const mtu = await setMtu(tun!.name, 1400, opts);
    assert.equal((await linkInfo(tun!.name, opts)).mtu, 1400);
    await mtu.undo();
    assert.equal((await linkInfo(tun!.name, opts)).mtu, before.mtu);
    const up = await setLinkUp(tun!.name, opts);
    assert.equal((await linkInfo(tun!.name, opts)).up, true);
    await up.undo();
    assert.equal((await linkInfo(tun!.name, opts)).up, false);
    await up.undo(); // idempotent
    const down = await setLinkDown(tun!.name, opts);
    await down.undo();
    assert.equal((await linkInfo(tun!.name, opts)).up, true);
    await assert.rejects(setMtu(tun!.name, 20, opts), RangeError);
  });

  it('point-to-point IPv4 and IPv6 link-local addresses, each undone', async () => {
    const opts = { netns: ns };
    const v4 = await addPointToPointAddress(tun!.name, '10.64.0.2', '10.64.0.1', opts);
    let a = await addrs(ns, tun!.name);
    assert.ok(
      a.some(
        (x) =>
          x.family === 'inet' && x.local === '10.64.0.2' && x.address === '10.64.0.1' && x.prefixlen === 32,
      ),
      JSON.stringify(a),
    );
    const lid = Uint8Array.of(0x02, 0, 0, 0, 0, 0, 0, 0x11);
    const pid = Uint8Array.of(0x02, 0, 0, 0, 0, 0, 0, 0x22);
    assert.equal(linkLocalAddress(lid), 'fe80::200:0:0:11');
    const v6 = await addLinkLocalAddress(tun!.name, lid, pid, opts);
    a = await addrs(ns, tun!.name);
    assert.ok(
      a.some(
        (x) => x.family === 'inet6' && x.local === 'fe80::200:0:0:11' && x.address === 'fe80::200:0:0:22',
      ),
      JSON.stringify(a),
    );
    await v6.undo();
    await v4.undo();
    a = await addrs(ns, tun!.name);
    assert.ok(!a.some((x) => x.local === '10.64.0.2' || x.local === 'fe80::200:0:0:11'), JSON.stringify(a));
    await v4.undo();
    await assert.rejects(addPointToPointAddress(tun!.name, '10.64.0.300', '10.64.0.1', opts), TypeError);
  });

  it('routes: look-up via the gateway, host route to the server, CIDR and split default routes, MTU', async () => {
    const opts = { netns: ns };
    const r = await routeGet('198.51.100.7', opts);
    assert.deepEqual(
      { gateway: r.gateway, dev: r.dev, prefsrc: r.prefsrc },
      { gateway: '192.0.2.1', dev: 'up0', prefsrc: '192.0.2.10' },
    );
    assert.equal(await routeMtu('198.51.100.7', opts), 1500, 'no route MTU: the device MTU');

    const stack = new UndoStack();
    stack.push(await setLinkUp(tun!.name, opts));
    stack.push(await addPointToPointAddress(tun!.name, '10.64.0.2', '10.64.0.1', opts));
    stack.push(await addHostRouteViaGateway('198.51.100.7', opts));
    stack.push(await addDefaultRoute(tun!.name, opts));
    stack.push(await addRoute('172.16.0.0/12', { dev: tun!.name, mtu: 1300 }, opts));
    const rs = await routes(ns);
    assert.ok(rs.includes('198.51.100.7 via 192.0.2.1 dev up0'), rs.join('\n'));
    assert.ok(rs.includes(`0.0.0.0/1 dev ${tun!.name} scope link`), rs.join('\n'));
    assert.ok(rs.includes(`128.0.0.0/1 dev ${tun!.name} scope link`), rs.join('\n'));
    assert.ok(
      rs.some((l) => l.startsWith(`172.16.0.0/12 dev ${tun!.name}`) && l.includes('mtu 1300')),
      rs.join('\n'),
    );
    assert.ok(rs.includes('default via 192.0.2.1 dev up0'), 'the old default route is untouched');
    // The tunnel now carries everything except the server itself.
    assert.equal((await routeGet('203.0.113.5', opts)).dev, tun!.name);
    assert.equal((await routeGet('198.51.100.7', opts)).dev, 'up0');
    assert.equal(await routeMtu('172.20.0.1', opts), 1300, 'the route MTU metric wins');
    // A second host route to the same server is left alone (it exists).
    const again = await addHostRouteViaGateway('198.51.100.7', opts);
    await again.undo();
    assert.ok((await routes(ns)).includes('198.51.100.7 via 192.0.2.1 dev up0'));

    assert.equal(stack.size, 5);
    await stack.undoAll();
    assert.deepEqual(await routes(ns), [
      'default via 192.0.2.1 dev up0',
      '192.0.2.0/24 dev up0 proto kernel scope link src 192.0.2.10',
    ]);
    assert.deepEqual(
      (await addrs(ns, tun!.name)).filter((x) => x.family === 'inet'),
      [],
    );
  });

  it('undo after the interface is gone (TUN closed) succeeds; other failures are reported', async () => {
    const opts = { netns: ns };
    const stack = new UndoStack();
    stack.push(await setLinkUp(tun!.name, opts));
    stack.push(await addPointToPointAddress(tun!.name, '10.64.0.2', '10.64.0.1', opts));
    stack.push(await addRoute('10.99.0.0/16', { dev: tun!.name }, opts));
    tun!.close();
    await assert.rejects(linkInfo(tun!.name, opts), IpError);
    await stack.undoAll();
    const bad = new UndoStack();
    bad.push({
      description: 'fails',
      undo: async () => {
        throw new Error('boom');
      },
    });
    let ran = false;
    bad.push({
      description: 'runs first',
      undo: async () => {
        ran = true;
      },
    });
    await assert.rejects(bad.undoAll(), AggregateError);
    assert.ok(ran);
  });

  it('leaves no namespace behind', async () => {
    await lab.cleanup();
    const left = (await listNamespaces()).filter((n) => n.startsWith(lab.prefix));
    assert.deepEqual(left, []);
  });
});
