/**
 * The control connection as a PAC (the VPN server): scripted exchanges
 * against RFC 2637 §3.1.2 (receiver), §3.2.4.1 (PAC outgoing calls),
 * §3.2.3.1 (PAC incoming calls) and §3.1.3 (collisions).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pptpCollisionWinner } from '../../src/pptp/control-start.js';
import type { PptpControlConfig } from '../../src/pptp/control-types.js';
import { fromHex, parseIpv4 } from '../../src/wire/bytes.js';
import { decodePptpMessage, type PptpMessage, PptpMessageType as T } from '../../src/wire/pptp/index.js';
import { WINDOWS_SCCRQ } from '../wire/pptp/fixtures.js';
import { Script, scriptedRandom, send } from './harness.js';

/** The SCCRQ a Windows client sends: Maximum Channels 0, empty Host Name (test/vectors/README.md). */
const WINDOWS_SCCRQ_MSG = decodePptpMessage(fromHex(WINDOWS_SCCRQ.hex));

/** The OCRQ a Windows client sends (values from the same RouterOS log): Call ID 0. */
function windowsOcrq(callId = 0): PptpMessage {
  return {
    type: T.OutgoingCallRequest,
    callId,
    callSerialNumber: 31240,
    minimumBps: 300,
    maximumBps: 100_000_000,
    bearerType: 3,
    framingType: 3,
    packetRecvWindowSize: 64,
    packetProcessingDelay: 0,
    phoneNumberLength: 0,
    phoneNumber: '',
    subaddress: '',
  };
}

function pac(draws: number[] = [999], extra: Partial<PptpControlConfig> = {}): Script {
  return new Script({
    role: 'pac',
    hostName: 'vpn.example',
    connectSpeed: 10_000_000,
    randomInt: scriptedRandom([1000, 500, ...draws]),
    ...extra,
  });
}

function established(draws?: number[], extra?: Partial<PptpControlConfig>): Script {
  const s = pac(draws, extra).open().deliver(WINDOWS_SCCRQ_MSG);
  s.drain();
  return s;
}

/** Established with call 1000 up for the Windows client's Call ID 0. */
function withCall(extra?: Partial<PptpControlConfig>): Script {
  const s = established([999], extra).deliver(windowsOcrq());
  s.drain();
  return s;
}

describe('PAC control connection: handshake (RFC 2637 §3.1.2)', () => {
  it('waits for the SCCRQ, sending nothing, for at most 60 s', () => {
    const s = pac().open();
    s.expectActions([{ kind: 'startTimer', id: 'handshake', ms: 60_000 }]);
    assert.equal(s.engine.state, 'idle');
    s.advance(60_000);
    s.expectActions([{ kind: 'close', reason: { kind: 'handshake-timeout' } }]);
  });

  it("accepts Windows' SCCRQ (Maximum Channels 0, empty Host Name) and answers 1.0", () => {
    const s = pac().open();
    s.drain();
    s.deliver(WINDOWS_SCCRQ_MSG);
    s.expectActions([
      send({
        type: T.StartControlConnectionReply,
        protocolVersion: 0x0100,
        resultCode: 1,
        errorCode: 0,
        maximumChannels: 64,
        hostName: 'vpn.example',
      }),
      { kind: 'stopTimer', id: 'handshake' },
      { kind: 'startTimer', id: 'echo', ms: 60_000 },
      {
        kind: 'established',
        peer: {
          maximumChannels: 0,
          hostName: '',
          vendorString: 'Microsoft Windows NT',
          firmwareRevision: 2600,
        },
      },
    ]);
  });

  it('refuses a protocol version below 1.0 with Result Code 5 and closes, quoting the RFC', () => {
    const s = pac().open();
    s.drain();
    s.deliver({ ...(WINDOWS_SCCRQ_MSG as object), protocolVersion: 0x00ff } as PptpMessage);
    const close = s.expectActions([
      send({ type: T.StartControlConnectionReply, resultCode: 5, errorCode: 0 }),
      { kind: 'stopTimer', id: 'handshake' },
      { kind: 'close', reason: { kind: 'start-rejected', resultCode: 5 } },
    ]);
    assert.ok(s.engine.isClosed());
    const last = close[close.length - 1];
    assert.ok(last?.kind === 'close' && last.reason.kind === 'start-rejected');
    assert.match(
      last.reason.detail,
      /0xff.*cannot be supported, the receiver SHOULD send a Start-Connection-Reply/,
    );
  });

  it('answers a later version with its own, 1.0 (§3.1.2)', () => {
    const s = pac().open();
    s.drain();
    s.deliver({ ...(WINDOWS_SCCRQ_MSG as object), protocolVersion: 0x0200 } as PptpMessage);
    s.expectActions([
      send({ type: T.StartControlConnectionReply, protocolVersion: 0x0100, resultCode: 1 }),
      { kind: 'stopTimer' },
      { kind: 'startTimer' },
      { kind: 'established', peer: { protocolVersion: 0x0200 } },
    ]);
  });

  it('a policy may refuse the connection (Result Code 4, not authorized)', () => {
    const s = pac([], { admitConnection: () => ({ accept: false, resultCode: 4 }) }).open();
    s.drain();
    s.deliver(WINDOWS_SCCRQ_MSG);
    s.expectActions([
      send({ type: T.StartControlConnectionReply, resultCode: 4 }),
      { kind: 'stopTimer', id: 'handshake' },
      { kind: 'close', reason: { kind: 'start-rejected', resultCode: 4, errorCode: 0 } },
    ]);
  });

  it('an OCRQ before the SCCRQ: OCRP General Error, Not-Connected, and close', () => {
    const s = pac().open();
    s.drain();
    s.deliver(windowsOcrq(5));
    s.expectActions([
      send({ type: T.OutgoingCallReply, peerCallId: 5, resultCode: 2, errorCode: 1 }),
      { kind: 'stopTimer', id: 'handshake' },
      { kind: 'close', reason: { kind: 'protocol-error' } },
    ]);
  });
});

describe('PAC outgoing calls (RFC 2637 §3.2.4.1)', () => {
  it("answers Windows' OCRQ (Call ID 0): OCRP Connected with a random Call ID, and the call is up", () => {
    const s = established([999]);
    s.deliver(windowsOcrq());
    s.expectActions([
      send({
        type: T.OutgoingCallReply,
        callId: 1000,
        peerCallId: 0,
        resultCode: 1,
        errorCode: 0,
        connectSpeed: 10_000_000,
        packetRecvWindowSize: 64,
        packetProcessingDelay: 0,
      }),
      {
        kind: 'callUp',
        call: {
          callId: 1000,
          peerCallId: 0,
          direction: 'outgoing',
          callSerialNumber: 31240,
          peerPacketRecvWindowSize: 64,
          peerPacketProcessingDelay: 0,
          peerPacketProcessingDelayMs: 0,
          packetRecvWindowSize: 64,
          connectSpeed: 10_000_000,
          framingType: 3,
        },
      },
    ]);
  });

  it('refuses an OCRQ reusing a live Call ID: General Error, Bad-Call ID', () => {
    const s = withCall();
    s.deliver(windowsOcrq(0));
    s.expectActions([
      send({ type: T.OutgoingCallReply, callId: 0, peerCallId: 0, resultCode: 2, errorCode: 5 }),
    ]);
    assert.equal(s.engine.callCount, 1);
  });

  it('refuses beyond the call cap: General Error, No-Resource', () => {
    const s = established([10, 20], { limits: { maxCalls: 2 } });
    s.deliver(windowsOcrq(1)).deliver(windowsOcrq(2));
    s.drain();
    s.deliver(windowsOcrq(3));
    s.expectActions([send({ type: T.OutgoingCallReply, peerCallId: 3, resultCode: 2, errorCode: 4 })]);
  });

  it('a policy may refuse the call (Result Code 7, Do Not Accept)', () => {
    const s = established([], { admitOutgoingCall: () => ({ accept: false, resultCode: 7 }) });
    s.deliver(windowsOcrq(4));
    s.expectActions([send({ type: T.OutgoingCallReply, peerCallId: 4, resultCode: 7, errorCode: 0 })]);
  });

  it('CCRQ (with the PNS Call ID): CDN Result 4 (Request), call down', () => {
    const s = withCall();
    s.deliver({ type: T.CallClearRequest, callId: 0 });
    s.expectActions([
      send({ type: T.CallDisconnectNotify, callId: 1000, resultCode: 4, errorCode: 0 }),
      { kind: 'callDown', callId: 1000, peerCallId: 0, reason: { kind: 'peer-clear' } },
    ]);
    assert.equal(s.engine.callCount, 0);
    s.deliver({ type: T.CallClearRequest, callId: 0 }).expectNothing('a second CCRQ finds no call');
  });

  it('clearCall: CDN Admin Shutdown, call down at once', () => {
    const s = withCall();
    s.take(s.engine.clearCall(1000));
    s.expectActions([
      send({ type: T.CallDisconnectNotify, callId: 1000, resultCode: 3 }),
      { kind: 'callDown', callId: 1000, reason: { kind: 'local-clear' } },
    ]);
  });

  it('a CDN from the PNS (not in the RFC, but harmless) is taken as a hang-up', () => {
    const s = withCall();
    s.deliver({
      type: T.CallDisconnectNotify,
      callId: 0,
      resultCode: 3,
      errorCode: 0,
      causeCode: 0,
      callStatistics: '',
    });
    s.expectActions([{ kind: 'callDown', callId: 1000, reason: { kind: 'peer-disconnect', resultCode: 3 } }]);
  });

  it('Set-Link-Info with the ACCMs Windows sends: reported, otherwise ignored', () => {
    const s = withCall();
    s.deliver({ type: T.SetLinkInfo, peerCallId: 1000, sendAccm: 0xffffffff, receiveAccm: 0xffffffff });
    s.expectActions([{ kind: 'setLinkInfo', callId: 1000, sendAccm: 0xffffffff, receiveAccm: 0xffffffff }]);
    assert.equal(s.engine.callState(1000), 'established');
    s.deliver({ type: T.SetLinkInfo, peerCallId: 4321, sendAccm: 0, receiveAccm: 0 }).expectNothing();
  });

  it('messages only a PAC sends are protocol errors when a PAC receives them', () => {
    for (const m of [
      {
        type: T.OutgoingCallReply,
        callId: 1,
        peerCallId: 1000,
        resultCode: 1,
        errorCode: 0,
        causeCode: 0,
        connectSpeed: 0,
        packetRecvWindowSize: 1,
        packetProcessingDelay: 0,
        physicalChannelId: 0,
      },
      {
        type: T.IncomingCallConnected,
        peerCallId: 1000,
        connectSpeed: 0,
        packetRecvWindowSize: 1,
        packetTransmitDelay: 0,
        framingType: 1,
      },
    ] as PptpMessage[]) {
      const s = withCall();
      s.deliver(m);
      s.expectActions([
        { kind: 'callDown', callId: 1000, reason: { kind: 'connection-closed' } },
        { kind: 'stopTimer', id: 'echo' },
        send({ type: T.StopControlConnectionRequest, reason: 1 }),
        { kind: 'startTimer', id: 'stop-reply' },
      ]);
    }
  });

  it('many calls on one connection, each with its own Call ID and GRE parameters', () => {
    const s = established([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (let i = 0; i < 9; i++)
      s.deliver({ ...(windowsOcrq(100 + i) as object), packetRecvWindowSize: 10 + i } as PptpMessage);
    const ups = s.drain().filter((a) => a.kind === 'callUp');
    assert.deepEqual(
      ups.map(
        (a) => a.kind === 'callUp' && [a.call.callId, a.call.peerCallId, a.call.peerPacketRecvWindowSize],
      ),
      Array.from({ length: 9 }, (_, i) => [i + 2, 100 + i, 10 + i]),
    );
    s.deliver({ type: T.CallClearRequest, callId: 104 });
    s.expectActions([send({ type: T.CallDisconnectNotify, callId: 6 }), { kind: 'callDown', callId: 6 }]);
    assert.equal(s.engine.callCount, 8);
  });
});

describe('PAC incoming calls (RFC 2637 §3.2.3.1)', () => {
  const icrp = (peerCallId: number, resultCode: number): PptpMessage => ({
    type: T.IncomingCallReply,
    callId: 77,
    peerCallId,
    resultCode,
    errorCode: 0,
    packetRecvWindowSize: 32,
    packetTransmitDelay: 1,
  });

  it('ring: ICRQ; ICRP Connect → ICCN and the call is up', () => {
    const s = established([41]);
    const { callId, actions } = s.engine.ringIncomingCall({ dialingNumber: '5550000' });
    s.take(actions);
    assert.equal(callId, 42);
    s.expectActions([
      send({
        type: T.IncomingCallRequest,
        callId: 42,
        callSerialNumber: 500,
        dialingNumber: '5550000',
        dialingNumberLength: 7,
      }),
      { kind: 'startTimer', id: 'call-42' },
    ]);
    s.deliver(icrp(42, 1));
    s.expectActions([
      send({ type: T.IncomingCallConnected, peerCallId: 77, packetRecvWindowSize: 64 }),
      { kind: 'stopTimer', id: 'call-42' },
      {
        kind: 'callUp',
        call: {
          callId: 42,
          peerCallId: 77,
          direction: 'incoming',
          peerPacketRecvWindowSize: 32,
          peerPacketProcessingDelayMs: 100,
        },
      },
    ]);
  });

  it('ICRP Do Not Accept: back to idle, call refused', () => {
    const s = established([41]);
    s.take(s.engine.ringIncomingCall().actions);
    s.drain();
    s.deliver(icrp(42, 3));
    s.expectActions([
      { kind: 'stopTimer', id: 'call-42' },
      { kind: 'callDown', callId: 42, reason: { kind: 'rejected', resultCode: 3 } },
    ]);
  });

  it('abort while waiting for the ICRP: CDN', () => {
    const s = established([41]);
    s.take(s.engine.ringIncomingCall().actions);
    s.drain();
    s.take(s.engine.clearCall(42));
    s.expectActions([
      send({ type: T.CallDisconnectNotify, callId: 42 }),
      { kind: 'stopTimer', id: 'call-42' },
      { kind: 'callDown', callId: 42 },
    ]);
  });
});

describe('PAC idle time-out (our addition, off by default)', () => {
  it('with idleTimeoutMs: no call for that long → StopCCRQ; a call holds it off', () => {
    const s = pac([9], { timers: { idleTimeoutMs: 30_000, echoIntervalMs: 0 } }).open();
    s.drain();
    s.deliver(WINDOWS_SCCRQ_MSG);
    s.expectActions([
      send({ type: T.StartControlConnectionReply }),
      { kind: 'stopTimer' },
      { kind: 'established' },
      { kind: 'startTimer', id: 'idle', ms: 30_000 },
    ]);
    s.advance(10_000);
    s.deliver(windowsOcrq());
    s.expectActions([
      send({ type: T.OutgoingCallReply }),
      { kind: 'callUp' },
      { kind: 'stopTimer', id: 'idle' },
    ]);
    s.advance(100_000).expectNothing();
    s.deliver({ type: T.CallClearRequest, callId: 0 });
    s.expectActions([
      send({ type: T.CallDisconnectNotify }),
      { kind: 'callDown' },
      { kind: 'startTimer', id: 'idle', ms: 30_000 },
    ]);
    s.advance(30_000);
    s.expectActions([
      send({ type: T.StopControlConnectionRequest, reason: 1 }),
      { kind: 'startTimer', id: 'stop-reply' },
    ]);
    s.deliver({ type: T.StopControlConnectionReply, resultCode: 1, errorCode: 0 });
    s.expectActions([{ kind: 'stopTimer' }, { kind: 'close', reason: { kind: 'idle-timeout' } }]);
  });
});

describe('SCCRQ collision (RFC 2637 §3.1.3)', () => {
  it('the higher address wins, compared as unsigned 32-bit numbers', () => {
    const a = (s: string) => parseIpv4(s)!;
    // The RFC's own example: "if the peers 192.33.45.17 and 192.33.45.89 collide, the latter will be declared the winner".
    assert.equal(pptpCollisionWinner(a('192.33.45.17'), a('192.33.45.89')), 'peer');
    assert.equal(pptpCollisionWinner(a('192.33.45.89'), a('192.33.45.17')), 'local');
    assert.equal(pptpCollisionWinner(a('200.0.0.1'), a('10.0.0.1')), 'local', 'bit 31 set must not sort low');
  });

  it('winner, on the connection the loser opened: sends nothing, ignores everything, waits for TCP close', () => {
    const s = pac([], { collisionCheck: () => 'win' }).open();
    s.drain();
    s.deliver(WINDOWS_SCCRQ_MSG).expectNothing();
    s.deliver({ type: T.EchoRequest, identifier: 1 }).expectNothing();
    s.take(s.engine.transportClosed());
    s.expectActions([
      { kind: 'stopTimer', id: 'handshake' },
      { kind: 'close', reason: { kind: 'collision' } },
    ]);
  });

  it('loser, on the connection the winner opened: answers the SCCRQ as usual', () => {
    const s = pac([], { collisionCheck: () => 'lose' }).open();
    s.drain();
    s.deliver(WINDOWS_SCCRQ_MSG);
    s.expectActions([
      send({ type: T.StartControlConnectionReply, resultCode: 1 }),
      { kind: 'stopTimer' },
      { kind: 'startTimer' },
      { kind: 'established' },
    ]);
  });
});
