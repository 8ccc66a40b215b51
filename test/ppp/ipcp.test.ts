/**
 * The IPCP policy (RFC 1332, RFC 1877) on the RFC 1661 automaton: a server
 * assigning addresses and name servers, a client accepting them, Nak loops,
 * 0.0.0.0, VJ compression rejected.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Fsm, type FsmAction } from '../../src/ppp/fsm.js';
import { type IpcpConfig, type IpcpNote, IpcpPolicy } from '../../src/ppp/ipcp.js';
import { parseIpv4 } from '../../src/wire/bytes.js';
import { cp, expectActions, Harness, negotiatePair, notesOf, sentPackets } from './helpers.js';

const ip = (s: string) => parseIpv4(s)!;

function ipcp(config: Partial<IpcpConfig>) {
  const policy = new IpcpPolicy(config);
  const fsm = new Fsm(policy);
  const h = new Harness<FsmAction<IpcpNote>>(fsm);
  h.run(fsm.open());
  h.run(fsm.lowerUp());
  const req = sentPackets(
    expectActions(h, ['starting', 'send Configure-Request', 'startTimer ipcp.restart']),
  )[0]!;
  return { policy, fsm, h, req };
}

const SERVER: Partial<IpcpConfig> = {
  localAddress: ip('192.168.0.1'),
  remoteAddress: ip('192.168.0.10'),
  dns: [ip('8.8.8.8'), ip('1.1.1.1')],
};
const CLIENT: Partial<IpcpConfig> = { usePeerDns: true };

describe('IPCP: requests', () => {
  it('a client asks for an address and two DNS servers with 0.0.0.0 (RFC 1332 §3.3, RFC 1877)', () => {
    const { req } = ipcp(CLIENT);
    assert.equal(Buffer.from(req.data).toString('hex'), '030600000000' + '810600000000' + '830600000000');
  });
  it('a server states its own address', () => {
    const { req } = ipcp(SERVER);
    assert.equal(Buffer.from(req.data).toString('hex'), '0306c0a80001');
  });
});

describe('IPCP: the server judging a client', () => {
  it('Naks 0.0.0.0 with the assigned address and DNS, then acks the corrected request', () => {
    const { h } = ipcp(SERVER);
    h.deliver(cp(1, 1, '03 06 00 00 00 00 81 06 00 00 00 00 83 06 00 00 00 00'));
    expectActions(h, ['send Configure-Nak id=1 0306c0a8000a810608080808830601010101']);
    h.deliver(cp(1, 2, '03 06 c0 a8 00 0a 81 06 08 08 08 08 83 06 01 01 01 01'));
    expectActions(h, ['send Configure-Ack id=2']);
  });

  it('Naks another address than the one it assigns (no ipcp-accept-remote)', () => {
    const { h } = ipcp(SERVER);
    h.deliver(cp(1, 1, '03 06 0a 00 00 05'));
    expectActions(h, ['send Configure-Nak id=1 0306c0a8000a']);
  });

  it('with ipcp-accept-remote takes the client’s own address', () => {
    const { h } = ipcp({ ...SERVER, acceptRemote: true });
    h.deliver(cp(1, 1, '03 06 0a 00 00 05'));
    expectActions(h, ['send Configure-Ack id=1 03060a000005']);
  });

  it('rejects VJ compression, the deprecated IP-Addresses and NBNS it has none of', () => {
    const { h } = ipcp(SERVER);
    h.deliver(
      cp(1, 1, '02 06 00 2d 0f 01 01 0a c0 a8 00 0a c0 a8 00 01 82 06 00 00 00 00 03 06 c0 a8 00 0a'),
    );
    expectActions(h, ['send Configure-Reject id=1 0206002d0f01010ac0a8000ac0a80001820600000000']);
  });

  it('appends its address once to a Nak when the client sent none (RFC 1332 §3.3), then acks', () => {
    const { h } = ipcp(SERVER);
    h.deliver(cp(1, 1, ''));
    expectActions(h, ['send Configure-Nak id=1 0306c0a8000a']);
    h.deliver(cp(1, 2, ''));
    expectActions(h, ['send Configure-Ack id=2']);
  });

  it('Rejects 0.0.0.0 when it has no address to give (pppd)', () => {
    const { h } = ipcp({ localAddress: ip('10.0.0.1') });
    h.deliver(cp(1, 1, '03 06 00 00 00 00'));
    expectActions(h, ['send Configure-Reject id=1 030600000000']);
  });

  it('rejects a bad-length option and a duplicate', () => {
    const { h } = ipcp(SERVER);
    h.deliver(cp(1, 1, '03 05 c0 a8 00 03 06 c0 a8 00 0a'));
    expectActions(h, ['send Configure-Reject id=1 0305c0a800']);
  });
});

describe('IPCP: client and server', () => {
  it('negotiate: the client gets its address and the DNS servers; both know each other’s address', () => {
    const server = new IpcpPolicy(SERVER);
    const client = new IpcpPolicy(CLIENT);
    const s = new Fsm(server);
    const c = new Fsm(client);
    const { transcript, actionsA, actionsB } = negotiatePair(s, c);
    assert.equal(s.state, 'Opened');
    assert.equal(c.state, 'Opened');
    assert.deepEqual(client.negotiated, {
      localAddress: ip('192.168.0.10'),
      remoteAddress: ip('192.168.0.1'),
      dns: [ip('8.8.8.8'), ip('1.1.1.1')],
      nbns: [],
    });
    assert.equal(server.negotiated?.localAddress, ip('192.168.0.1'));
    assert.equal(server.negotiated?.remoteAddress, ip('192.168.0.10'));
    assert.deepEqual(notesOf(actionsA), []);
    assert.deepEqual(notesOf(actionsB), []);
    // One Nak round: Request, Request, Nak, Ack, Request, Ack.
    assert.equal(transcript.filter((t) => t.code === 3).length, 1);
  });

  it('a client that wants a fixed address the server won’t give loops until Max-Failure, then fails clearly', () => {
    const server = new IpcpPolicy(SERVER);
    const client = new IpcpPolicy({ localAddress: ip('10.9.9.9') }); // no ipcp-accept-local
    const s = new Fsm(server);
    const c = new Fsm(client);
    const { actionsB } = negotiatePair(s, c, 200);
    // The server Naks five times, then Rejects the address; the client stops asking and comes up without
    // one... which its policy reports as a failure.
    assert.equal(c.state, 'Opened');
    assert.equal(client.negotiated?.localAddress, 0);
    assert.deepEqual(notesOf(actionsB), [{ kind: 'failed', reason: 'could not determine local IP address' }]);
  });

  it('a client without an address whose server has none to give reports the failure at up', () => {
    const server = new IpcpPolicy({ localAddress: ip('10.0.0.1') });
    const client = new IpcpPolicy({});
    const { actionsB } = negotiatePair(new Fsm(server), new Fsm(client));
    assert.deepEqual(notesOf(actionsB), [{ kind: 'failed', reason: 'could not determine local IP address' }]);
  });

  it('ipcp-accept-local takes the server’s suggestion over a configured address', () => {
    const server = new IpcpPolicy(SERVER);
    const client = new IpcpPolicy({ localAddress: ip('10.9.9.9'), acceptLocal: true });
    negotiatePair(new Fsm(server), new Fsm(client));
    assert.equal(client.negotiated?.localAddress, ip('192.168.0.10'));
  });

  it('setRemoteAddress changes the address handed out at the next negotiation', () => {
    const server = new IpcpPolicy({ localAddress: ip('192.168.0.1') });
    server.setRemoteAddress(ip('192.168.0.77'));
    const client = new IpcpPolicy({});
    negotiatePair(new Fsm(server), new Fsm(client));
    assert.equal(client.negotiated?.localAddress, ip('192.168.0.77'));
  });
});
