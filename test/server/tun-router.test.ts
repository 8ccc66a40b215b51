/**
 * The server's shared-TUN router on its own (src/server/tun-router.ts): a
 * packet from the shared TUN goes to the session owning its destination; a
 * packet from a session must carry the session's source address; traffic
 * between sessions follows `client-to-client`, read per packet so a reload
 * takes effect at once. Sessions and interfaces are recording stand-ins.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TunDevice } from '../../src/io/types.js';
import type { LogFields, Logger, LogLevel } from '../../src/log/logger.js';
import type { ServerConfig } from '../../src/server/config.js';
import { type ServerCall, zeroServerCounters } from '../../src/server/server-types.js';
import { TunRouter } from '../../src/server/tun-router.js';
import { parseIpv4 } from '../../src/wire/bytes.js';
import { PppProtocol } from '../../src/wire/ppp.js';

function ipv4(src: string, dst: string, length = 28): Uint8Array {
  const p = new Uint8Array(length);
  p[0] = 0x45;
  p[9] = 17;
  new DataView(p.buffer).setUint32(12, parseIpv4(src)!);
  new DataView(p.buffer).setUint32(16, parseIpv4(dst)!);
  return p;
}

class RecordingLog implements Logger {
  readonly name = 'test';
  readonly lines: { level: LogLevel; message: string; fields?: LogFields }[] = [];
  enabled(): boolean {
    return true;
  }
  log(level: LogLevel, message: string, fields?: LogFields): void {
    this.lines.push({ level, message, ...(fields ? { fields } : {}) });
  }
  child(): Logger {
    return this;
  }
}

/** A call whose session records what it is given to send. */
function call(address: string | undefined, tun?: TunDevice): ServerCall & { sent: Uint8Array[] } {
  const sent: Uint8Array[] = [];
  return {
    sent,
    address: address === undefined ? undefined : parseIpv4(address),
    session: { sendPacket: (p: Uint8Array) => sent.push(p) },
    tun,
    ipv6: undefined,
    spoofed: 0,
    c2cDropped: 0,
    conn: { remote: '198.51.100.7' },
    callId: 9,
    user: 'alice',
  } as unknown as ServerCall & { sent: Uint8Array[] };
}

function fakeTun(name: string): TunDevice & { written: Uint8Array[] } {
  const written: Uint8Array[] = [];
  return { name, written, write: (p: Uint8Array) => written.push(p) } as unknown as TunDevice & {
    written: Uint8Array[];
  };
}

function setup(clientToClient = false) {
  const config = { 'client-to-client': clientToClient } as { 'client-to-client': boolean };
  const c = zeroServerCounters();
  const log = new RecordingLog();
  const router = new TunRouter(config as unknown as ServerConfig, c, log);
  const shared = fakeTun('pptps0');
  router.sharedTun = shared;
  return { config, c, log, router, shared };
}

describe('TunRouter', () => {
  it('hands a packet from the shared TUN to the session owning its destination, the same buffer', () => {
    const { c, router } = setup();
    const a = call('10.0.0.10');
    const b = call('10.0.0.11');
    router.route(a.address!, a);
    router.route(b.address!, b);
    const p = ipv4('192.0.2.1', '10.0.0.11');
    router.fromSharedTun(p);
    assert.equal(b.sent.length, 1);
    assert.equal(b.sent[0], p);
    assert.equal(a.sent.length, 0);
    assert.equal(router.size, 2);
    assert.equal(c.noSessionDropped + c.notIpv4Dropped, 0);
  });

  it('counts and drops what no session owns, and what is not IPv4 or too short', () => {
    const { c, router } = setup();
    const a = call('10.0.0.10');
    router.route(a.address!, a);
    router.fromSharedTun(ipv4('192.0.2.1', '10.0.0.99'));
    assert.equal(c.noSessionDropped, 1);
    const v6 = new Uint8Array(40);
    v6[0] = 0x60;
    router.fromSharedTun(v6);
    router.fromSharedTun(ipv4('192.0.2.1', '10.0.0.10').subarray(0, 19));
    assert.equal(c.notIpv4Dropped, 2);
    assert.equal(a.sent.length, 0);
  });

  it('writes a session packet with its own source to the shared TUN, and drops a forged source (logging only the first three)', () => {
    const { c, log, router, shared } = setup();
    const a = call('10.0.0.10');
    router.route(a.address!, a);
    const good = ipv4('10.0.0.10', '192.0.2.1');
    router.fromSession(a, PppProtocol.Ipv4, good);
    assert.deepEqual(shared.written, [good]);
    for (let i = 0; i < 5; i++) router.fromSession(a, PppProtocol.Ipv4, ipv4('10.0.0.99', '192.0.2.1'));
    router.fromSession(a, PppProtocol.Ipv4, new Uint8Array(12));
    assert.equal(a.spoofed, 6);
    assert.equal(c.spoofedDropped, 6);
    assert.equal(shared.written.length, 1);
    const warned = log.lines.filter((l) => l.message === 'spoofed source address dropped');
    assert.equal(warned.length, 3);
    assert.equal(warned[0]!.fields!.source, '10.0.0.99');
  });

  it('a session with no address yet may send nothing', () => {
    const { c, router, shared } = setup();
    const a = call(undefined);
    router.fromSession(a, PppProtocol.Ipv4, ipv4('10.0.0.10', '192.0.2.1'));
    assert.equal(c.spoofedDropped, 1);
    assert.equal(shared.written.length, 0);
  });

  it('session-to-session traffic follows client-to-client, read per packet (a reload applies at once)', () => {
    const { config, c, router, shared } = setup(false);
    const a = call('10.0.0.10');
    const b = call('10.0.0.11');
    router.route(a.address!, a);
    router.route(b.address!, b);
    const p = ipv4('10.0.0.10', '10.0.0.11');
    router.fromSession(a, PppProtocol.Ipv4, p);
    assert.equal(c.clientToClientDropped, 1);
    assert.equal(a.c2cDropped, 1);
    assert.equal(b.sent.length, 0);
    config['client-to-client'] = true;
    router.fromSession(a, PppProtocol.Ipv4, p);
    assert.equal(c.clientToClientForwarded, 1);
    assert.deepEqual(b.sent, [p]);
    assert.equal(shared.written.length, 0, 'forwarded between sessions, not through the host');
    // To its own address: the host's business, not another session's.
    router.fromSession(a, PppProtocol.Ipv4, ipv4('10.0.0.10', '10.0.0.10'));
    assert.equal(shared.written.length, 1);
  });

  it('shared mode carries IPv4 only; a per-session TUN takes IPv6 from the negotiated identifier only', () => {
    const { c, router } = setup();
    const a = call('10.0.0.10');
    const v6 = new Uint8Array(48);
    v6[0] = 0x60;
    v6[6] = 17;
    v6[8] = 0xfe;
    v6[9] = 0x80;
    v6.set([1, 2, 3, 4, 5, 6, 7, 8], 16);
    router.fromSession(a, PppProtocol.Ipv6, v6);
    assert.equal(c.notIpv4Dropped, 1);
    const own = fakeTun('pptps3');
    const b = call('10.0.0.11', own);
    router.fromSession(b, PppProtocol.Ipv6, v6);
    assert.equal(c.spoofedDropped, 1, 'before IPV6CP is up nothing passes');
    (b as { ipv6: unknown }).ipv6 = { remoteIdentifier: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) };
    router.fromSession(b, PppProtocol.Ipv6, v6);
    assert.deepEqual(own.written, [v6]);
  });

  it('unroutes a call only from its own address, and only while it still owns it', () => {
    const { c, router } = setup();
    const a = call('10.0.0.10');
    const b = call('10.0.0.10');
    router.route(a.address!, a);
    router.route(b.address!, b);
    router.unroute(a);
    assert.equal(router.routedAt(b.address!), b, 'a stale owner does not remove the new one');
    router.unroute(b);
    assert.equal(router.size, 0);
    router.fromSharedTun(ipv4('192.0.2.1', '10.0.0.10'));
    assert.equal(c.noSessionDropped, 1);
  });
});
