/**
 * The control connection as a PNS (the VPN client): scripted exchanges
 * against RFC 2637 §3.1.1 (originator) and §3.2.4.2 (PNS outgoing calls).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PptpProtocolError } from '../../src/pptp/control-error.js';
import type { PptpControlConfig } from '../../src/pptp/control-types.js';
import { concatBytes, fromHex } from '../../src/wire/bytes.js';
import {
  encodePptpMessage,
  type PptpMessage,
  type PptpMessageOf,
  PptpMessageType as T,
} from '../../src/wire/pptp/index.js';
import { Script, scriptedRandom, send } from './harness.js';

/** What a MikroTik RouterOS PAC answers (its debug log, see test/vectors/README.md). */
const SCCRP_OK: PptpMessageOf<T.StartControlConnectionReply> = {
  type: T.StartControlConnectionReply,
  protocolVersion: 0x0100,
  resultCode: 1,
  errorCode: 0,
  framingCapabilities: 2,
  bearerCapabilities: 0,
  maximumChannels: 0,
  firmwareRevision: 1,
  hostName: 'MikroTik',
  vendorString: 'MikroTik',
};

function ocrp(peerCallId: number, callId: number, resultCode = 1): PptpMessage {
  return {
    type: T.OutgoingCallReply,
    callId,
    peerCallId,
    resultCode,
    errorCode: resultCode === 2 ? 4 : 0,
    causeCode: 0,
    connectSpeed: 10_000_000,
    packetRecvWindowSize: 16,
    packetProcessingDelay: 3,
    physicalChannelId: 0,
  };
}

function cdn(callId: number, resultCode = 3): PptpMessage {
  return {
    type: T.CallDisconnectNotify,
    callId,
    resultCode,
    errorCode: 0,
    causeCode: 16,
    callStatistics: 'bye',
  };
}

/** Echo identifiers start at 1000, serials at 500, Call ID draws follow (Call ID = draw + 1). */
function pns(draws: number[] = [41], extra: Partial<PptpControlConfig> = {}): Script {
  return new Script({
    role: 'pns',
    hostName: 'client',
    randomInt: scriptedRandom([1000, 500, ...draws]),
    ...extra,
  });
}

function established(draws?: number[], extra?: Partial<PptpControlConfig>): Script {
  const s = pns(draws, extra).open().deliver(SCCRP_OK);
  s.drain();
  return s;
}

/** Established with call 42 up (peer's Call ID 7000). */
function withCall(extra?: Partial<PptpControlConfig>): Script {
  const s = established([41], extra);
  s.take(s.engine.placeCall().actions);
  s.deliver(ocrp(42, 7000));
  s.drain();
  return s;
}

describe('PNS control connection: handshake (RFC 2637 §3.1.1)', () => {
  it('opens with SCCRQ (version 1.0, Maximum Channels 0) and waits 60 s for the reply', () => {
    const s = pns().open();
    s.expectActions([
      send({
        type: T.StartControlConnectionRequest,
        protocolVersion: 0x0100,
        maximumChannels: 0,
        hostName: 'client',
        vendorString: 'pptp-ts',
      }),
      { kind: 'startTimer', id: 'handshake', ms: 60_000 },
    ]);
    assert.equal(s.engine.state, 'wait_ctl_reply');
  });

  it('SCCRP Success: established, echo timer armed, peer reported', () => {
    const s = pns().open();
    s.drain();
    s.deliver(SCCRP_OK);
    s.expectActions([
      { kind: 'stopTimer', id: 'handshake' },
      { kind: 'startTimer', id: 'echo', ms: 60_000 },
      { kind: 'established', peer: { hostName: 'MikroTik', vendorString: 'MikroTik', maximumChannels: 0 } },
    ]);
    assert.equal(s.engine.state, 'established');
  });

  it('closes when no SCCRP comes within 60 s (§3.1.4 item 1)', () => {
    const s = pns().open();
    s.drain();
    s.advance(59_999).expectNothing();
    s.advance(1);
    s.expectActions([{ kind: 'close', reason: { kind: 'handshake-timeout' } }]);
    assert.equal(s.engine.state, 'closed');
    assert.deepEqual(s.engine.runningTimers(), []);
  });

  it('SCCRP refusing us closes with its Result and Error Codes', () => {
    const s = pns().open();
    s.drain();
    s.deliver({ ...SCCRP_OK, resultCode: 2, errorCode: 6 });
    s.expectActions([
      { kind: 'stopTimer', id: 'handshake' },
      { kind: 'close', reason: { kind: 'start-refused', resultCode: 2, errorCode: 6 } },
    ]);
  });

  it('SCCRP with another version: StopCCRQ Stop-Protocol, then close when the reply comes', () => {
    const s = pns().open();
    s.drain();
    s.deliver({ ...SCCRP_OK, protocolVersion: 0x0200 });
    s.expectActions([
      { kind: 'stopTimer', id: 'handshake' },
      send({ type: T.StopControlConnectionRequest, reason: 2 }),
      { kind: 'startTimer', id: 'stop-reply', ms: 60_000 },
    ]);
    assert.equal(s.engine.state, 'wait_stop_reply');
    s.deliver({ type: T.StopControlConnectionReply, resultCode: 1, errorCode: 0 });
    const [close] = s.expectActions([{ kind: 'stopTimer', id: 'stop-reply' }, { kind: 'close' }]).slice(1);
    assert.ok(close?.kind === 'close' && close.reason.kind === 'protocol-error');
    assert.equal(close.reason.error.stopReason, 2);
  });

  it('a request before the SCCRP gets General Error 1 (Not-Connected), then the connection closes', () => {
    const s = pns().open();
    s.drain();
    s.deliver({ type: T.EchoRequest, identifier: 9 });
    const acts = s.expectActions([
      send({ type: T.EchoReply, identifier: 9, resultCode: 2, errorCode: 1 }),
      { kind: 'stopTimer', id: 'handshake' },
      { kind: 'close', reason: { kind: 'protocol-error' } },
    ]);
    const close = acts[2];
    assert.ok(close?.kind === 'close' && close.reason.kind === 'protocol-error');
    assert.ok(close.reason.error instanceof PptpProtocolError);
    assert.equal(close.reason.error.generalError, 1);
  });

  it('a lost SCCRQ collision closes our connection without sending anything (§3.1.3)', () => {
    const s = pns().open();
    s.drain();
    s.take(s.engine.abortForCollision());
    s.expectActions([
      { kind: 'stopTimer', id: 'handshake' },
      { kind: 'close', reason: { kind: 'collision' } },
    ]);
  });
});

describe('PNS outgoing calls (RFC 2637 §3.2.4.2)', () => {
  it('placeCall sends OCRQ with a random Call ID and waits for the reply', () => {
    const s = established([41]);
    const { callId, actions } = s.engine.placeCall({ phoneNumber: '5551234' });
    s.take(actions);
    assert.equal(callId, 42);
    s.expectActions([
      send({
        type: T.OutgoingCallRequest,
        callId: 42,
        callSerialNumber: 500,
        minimumBps: 300,
        maximumBps: 100_000_000,
        bearerType: 3,
        framingType: 3,
        packetRecvWindowSize: 64,
        packetProcessingDelay: 0,
        phoneNumberLength: 7,
        phoneNumber: '5551234',
      }),
      { kind: 'startTimer', id: 'call-42', ms: 60_000 },
    ]);
    assert.equal(s.engine.callState(42), 'wait_reply');
  });

  it('OCRP Connected brings the call up with what the GRE channel needs', () => {
    const s = established([41]);
    s.take(s.engine.placeCall().actions);
    s.drain();
    s.deliver(ocrp(42, 7000));
    s.expectActions([
      { kind: 'stopTimer', id: 'call-42' },
      {
        kind: 'callUp',
        call: {
          callId: 42,
          peerCallId: 7000,
          direction: 'outgoing',
          callSerialNumber: 500,
          peerPacketRecvWindowSize: 16,
          peerPacketProcessingDelay: 3,
          peerPacketProcessingDelayMs: 300,
          packetRecvWindowSize: 64,
          connectSpeed: 10_000_000,
          framingType: 3,
        },
      },
    ]);
    assert.equal(s.engine.callState(42), 'established');
  });

  it('OCRP with an error: the call is refused and forgotten', () => {
    const s = established([41]);
    s.take(s.engine.placeCall().actions);
    s.drain();
    s.deliver(ocrp(42, 0, 7));
    s.expectActions([
      { kind: 'stopTimer', id: 'call-42' },
      { kind: 'callDown', callId: 42, reason: { kind: 'rejected', resultCode: 7, errorCode: 0 } },
    ]);
    assert.equal(s.engine.callCount, 0);
  });

  it('an OCRP for no live call is ignored (and hurts no other call)', () => {
    const s = withCall();
    s.deliver(ocrp(999, 1));
    s.expectNothing();
    assert.equal(s.engine.callState(42), 'established');
  });

  it('clearCall: CCRQ with our Call ID, wait_disconnect, then the CDN ends it', () => {
    const s = withCall();
    s.take(s.engine.clearCall(42));
    s.expectActions([send({ type: T.CallClearRequest, callId: 42 }), { kind: 'startTimer', id: 'call-42' }]);
    assert.equal(s.engine.callState(42), 'wait_disconnect');
    s.deliver(cdn(7000, 4));
    s.expectActions([
      { kind: 'stopTimer', id: 'call-42' },
      { kind: 'callDown', callId: 42, peerCallId: 7000, reason: { kind: 'local-clear' } },
    ]);
    assert.equal(s.engine.callCount, 0);
  });

  it('CDN from the PAC on an established call: down with its Result, Cause and statistics', () => {
    const s = withCall();
    s.deliver(cdn(7000, 1));
    s.expectActions([
      {
        kind: 'callDown',
        callId: 42,
        reason: {
          kind: 'peer-disconnect',
          resultCode: 1,
          errorCode: 0,
          causeCode: 16,
          callStatistics: 'bye',
        },
      },
    ]);
  });

  it('CDN naming no live call is ignored', () => {
    const s = withCall();
    s.deliver(cdn(7001)).expectNothing();
  });

  it('clearing during set-up: a failed OCRP ends it, no CDN needed', () => {
    const s = established([41]);
    s.take(s.engine.placeCall().actions);
    s.take(s.engine.clearCall(42));
    s.drain();
    s.deliver(ocrp(42, 0, 4));
    s.expectActions([
      { kind: 'stopTimer', id: 'call-42' },
      { kind: 'callDown', reason: { kind: 'local-clear' } },
    ]);
  });

  it('clearing during set-up: a successful OCRP waits for the CDN the PAC will send', () => {
    const s = established([41]);
    s.take(s.engine.placeCall().actions);
    s.take(s.engine.clearCall(42));
    s.drain();
    s.deliver(ocrp(42, 7000)).expectNothing();
    s.deliver(cdn(7000, 4));
    s.expectActions([
      { kind: 'stopTimer', id: 'call-42' },
      { kind: 'callDown', reason: { kind: 'local-clear' } },
    ]);
  });

  it('no OCRP within the set-up time: the ENTIRE control connection is stopped (§3.2.1)', () => {
    const s = established([41], { timers: { callSetupTimeoutMs: 30_000 } });
    s.take(s.engine.placeCall().actions);
    s.drain();
    s.advance(29_999).expectNothing();
    s.advance(1);
    s.expectActions([
      { kind: 'callDown', callId: 42, reason: { kind: 'connection-closed' } },
      { kind: 'stopTimer', id: 'echo' },
      send({ type: T.StopControlConnectionRequest, reason: 1 }),
      { kind: 'startTimer', id: 'stop-reply' },
    ]);
    s.deliver({ type: T.StopControlConnectionReply, resultCode: 1, errorCode: 0 });
    s.expectActions([
      { kind: 'stopTimer', id: 'stop-reply' },
      { kind: 'close', reason: { kind: 'call-timeout', callId: 42 } },
    ]);
  });

  it('WAN-Error-Notify and Set-Link-Info become events for the call', () => {
    const s = withCall();
    s.deliver({
      type: T.WanErrorNotify,
      peerCallId: 42,
      crcErrors: 1,
      framingErrors: 2,
      hardwareOverruns: 3,
      bufferOverruns: 4,
      timeoutErrors: 5,
      alignmentErrors: 6,
    });
    s.expectActions([{ kind: 'wanError', callId: 42, crcErrors: 1, alignmentErrors: 6 }]);
    s.deliver({ type: T.SetLinkInfo, peerCallId: 42, sendAccm: 0, receiveAccm: 0 });
    s.expectActions([{ kind: 'setLinkInfo', callId: 42, sendAccm: 0, receiveAccm: 0 }]);
    s.deliver({
      type: T.WanErrorNotify,
      peerCallId: 1,
      crcErrors: 1,
      framingErrors: 0,
      hardwareOverruns: 0,
      bufferOverruns: 0,
      timeoutErrors: 0,
      alignmentErrors: 0,
    });
    s.expectNothing('WEN for no live call');
  });

  it('sendSetLinkInfo addresses the PAC’s Call ID', () => {
    const s = withCall();
    s.take(s.engine.sendSetLinkInfo(42, 0xffffffff, 0));
    s.expectActions([send({ type: T.SetLinkInfo, peerCallId: 7000, sendAccm: 0xffffffff, receiveAccm: 0 })]);
    assert.throws(() => s.engine.sendSetLinkInfo(43), /not an established call/);
  });

  it('placeCall refuses when not established or not a PNS', () => {
    assert.throws(() => pns().engine.placeCall(), /not established/);
    const pac = new Script({ role: 'pac' });
    assert.throws(() => pac.engine.placeCall(), /only a PNS/);
  });
});

describe('PNS incoming calls (RFC 2637 §3.2.3.2)', () => {
  const icrq: PptpMessage = {
    type: T.IncomingCallRequest,
    callId: 3000,
    callSerialNumber: 9,
    callBearerType: 1,
    physicalChannelId: 0,
    dialedNumberLength: 0,
    dialingNumberLength: 0,
    dialedNumber: '',
    dialingNumber: '',
    subaddress: '',
  };

  it('are refused by default with Do Not Accept', () => {
    const s = established();
    s.deliver(icrq);
    s.expectActions([
      send({ type: T.IncomingCallReply, callId: 0, peerCallId: 3000, resultCode: 3, errorCode: 0 }),
    ]);
    assert.equal(s.engine.callCount, 0);
  });

  it('when admitted: ICRP Connect, wait_connect, and ICCN brings the call up', () => {
    const s = established([99], { admitIncomingCall: () => ({ accept: true }) });
    s.deliver(icrq);
    s.expectActions([
      send({
        type: T.IncomingCallReply,
        callId: 100,
        peerCallId: 3000,
        resultCode: 1,
        packetRecvWindowSize: 64,
      }),
      { kind: 'startTimer', id: 'call-100' },
    ]);
    assert.equal(s.engine.callState(100), 'wait_connect');
    s.deliver({
      type: T.IncomingCallConnected,
      peerCallId: 100,
      connectSpeed: 64000,
      packetRecvWindowSize: 8,
      packetTransmitDelay: 2,
      framingType: 2,
    });
    s.expectActions([
      { kind: 'stopTimer', id: 'call-100' },
      {
        kind: 'callUp',
        call: {
          callId: 100,
          peerCallId: 3000,
          direction: 'incoming',
          peerPacketRecvWindowSize: 8,
          peerPacketProcessingDelayMs: 200,
        },
      },
    ]);
  });

  it('a CDN in wait_connect: the caller could not be connected', () => {
    const s = established([99], { admitIncomingCall: () => ({ accept: true }) });
    s.deliver(icrq);
    s.drain();
    s.deliver(cdn(3000, 1));
    s.expectActions([
      { kind: 'stopTimer', id: 'call-100' },
      { kind: 'callDown', reason: { kind: 'peer-disconnect' } },
    ]);
  });
});

describe('PNS keep-alive (RFC 2637 §3.1.4 item 2)', () => {
  /** 60 s of silence: the Echo-Request, its reply timer, and the echo timer running on. */
  function expectEchoSent(s: Script, replyMs: number): void {
    s.advance(60_000);
    s.expectActions([
      send({ type: T.EchoRequest, identifier: 1000 }),
      { kind: 'startTimer', id: 'echo-reply', ms: replyMs },
      // The echo timer never stops while established: a driver re-arms the same timer in place.
      { kind: 'startTimer', id: 'echo', ms: 60_000 },
    ]);
  }

  it('after 60 s of silence sends Echo-Request; the matching reply re-arms the timer', () => {
    const s = established();
    expectEchoSent(s, 60_000);
    s.advance(500);
    s.deliver({ type: T.EchoReply, identifier: 1000, resultCode: 1, errorCode: 0 });
    s.expectActions([
      { kind: 'stopTimer', id: 'echo-reply' },
      { kind: 'startTimer', id: 'echo', ms: 60_000 },
    ]);
    s.advance(60_000);
    s.expectActions([
      send({ type: T.EchoRequest, identifier: 1001 }),
      { kind: 'startTimer', id: 'echo-reply' },
      { kind: 'startTimer', id: 'echo' },
    ]);
  });

  it('the echo timer firing again while a request waits sends no second request', () => {
    // A reply time-out longer than the interval, so the echo timer fires first.
    const s = established([], { timers: { echoReplyTimeoutMs: 90_000 } });
    expectEchoSent(s, 90_000);
    s.advance(60_000);
    s.expectActions([{ kind: 'startTimer', id: 'echo', ms: 60_000 }]);
    s.advance(30_000);
    s.expectActions([
      { kind: 'stopTimer', id: 'echo' },
      { kind: 'close', reason: { kind: 'echo-timeout' } },
    ]);
  });

  it('traffic counts as life: the echo timer re-arms for the rest of the interval instead', () => {
    const s = established();
    s.advance(40_000);
    s.deliver({ type: T.EchoRequest, identifier: 5 });
    s.expectActions([send({ type: T.EchoReply, identifier: 5, resultCode: 1, errorCode: 0 })]);
    s.advance(20_000);
    s.expectActions([{ kind: 'startTimer', id: 'echo', ms: 40_000 }]);
    s.advance(39_999).expectNothing();
    s.advance(1);
    s.expectActions([
      send({ type: T.EchoRequest }),
      { kind: 'startTimer', id: 'echo-reply' },
      { kind: 'startTimer', id: 'echo' },
    ]);
  });

  it('no Echo-Reply within 60 s: calls down, timers stopped, TCP closed', () => {
    const s = withCall();
    s.advance(60_000);
    s.drain();
    s.deliver({ type: T.EchoReply, identifier: 77, resultCode: 1, errorCode: 0 });
    s.expectNothing('a reply with the wrong identifier does not count');
    s.advance(60_000);
    s.expectActions([
      { kind: 'callDown', callId: 42, reason: { kind: 'connection-closed' } },
      { kind: 'stopTimer', id: 'echo' },
      { kind: 'close', reason: { kind: 'echo-timeout' } },
    ]);
    assert.deepEqual(s.engine.runningTimers(), []);
    assert.equal(s.timers.size, 0);
  });
});

describe('PNS stop and teardown (RFC 2637 §2.3–§2.4)', () => {
  it('stop(): calls implicitly cleared, StopCCRQ with the reason, close on the reply', () => {
    const s = withCall();
    s.take(s.engine.stop(3));
    s.expectActions([
      { kind: 'callDown', callId: 42, reason: { kind: 'connection-closed' } },
      { kind: 'stopTimer', id: 'echo' },
      send({ type: T.StopControlConnectionRequest, reason: 3 }),
      { kind: 'startTimer', id: 'stop-reply', ms: 60_000 },
    ]);
    s.deliver({ type: T.EchoRequest, identifier: 1 });
    s.expectActions([send({ type: T.EchoReply, identifier: 1 })], 'still answers echoes while stopping');
    s.deliver(cdn(7000)).expectNothing('call messages are moot while stopping');
    s.deliver({ type: T.StopControlConnectionReply, resultCode: 1, errorCode: 0 });
    s.expectActions([
      { kind: 'stopTimer', id: 'stop-reply' },
      { kind: 'close', reason: { kind: 'stopped', by: 'local', reason: 3 } },
    ]);
  });

  it('stop(): a peer that answers by closing TCP has completed the stop', () => {
    const s = established();
    s.take(s.engine.stop());
    s.drain();
    s.take(s.engine.transportClosed());
    s.expectActions([
      { kind: 'stopTimer', id: 'stop-reply' },
      { kind: 'close', reason: { kind: 'stopped', by: 'local', reason: 1 } },
    ]);
  });

  it('stop(): no reply within 60 s closes anyway', () => {
    const s = established();
    s.take(s.engine.stop());
    s.drain();
    s.advance(60_000);
    s.expectActions([{ kind: 'close', reason: { kind: 'stop-reply-timeout' } }]);
  });

  it('StopCCRQ from the peer: StopCCRP OK, calls down, close', () => {
    const s = withCall();
    s.deliver({ type: T.StopControlConnectionRequest, reason: 3 });
    s.expectActions([
      send({ type: T.StopControlConnectionReply, resultCode: 1, errorCode: 0 }),
      { kind: 'callDown', callId: 42, reason: { kind: 'connection-closed' } },
      { kind: 'stopTimer', id: 'echo' },
      { kind: 'close', reason: { kind: 'stopped', by: 'peer', reason: 3 } },
    ]);
  });

  it('both stop at once: each answers the other and closes', () => {
    const s = established();
    s.take(s.engine.stop());
    s.drain();
    s.deliver({ type: T.StopControlConnectionRequest, reason: 1 });
    s.expectActions([
      send({ type: T.StopControlConnectionReply, resultCode: 1 }),
      { kind: 'stopTimer', id: 'stop-reply' },
      { kind: 'close', reason: { kind: 'stopped', by: 'local' } },
    ]);
  });

  it('the peer only closes TCP: calls down and the engine ends; later input is ignored', () => {
    const s = withCall();
    s.take(s.engine.transportClosed());
    s.expectActions([
      { kind: 'callDown', callId: 42, reason: { kind: 'connection-closed' } },
      { kind: 'stopTimer', id: 'echo' },
      { kind: 'close', reason: { kind: 'transport-closed' } },
    ]);
    s.deliver({ type: T.EchoRequest, identifier: 1 }).expectNothing();
    s.take(s.engine.transportClosed());
    s.take(s.engine.stop());
    s.expectNothing();
    assert.equal(s.engine.timeout('echo', 1e9).length, 0);
  });

  it('stop() before establishment just closes', () => {
    const s = pns().open();
    s.drain();
    s.take(s.engine.stop());
    s.expectActions([
      { kind: 'stopTimer', id: 'handshake' },
      { kind: 'close', reason: { kind: 'local-close' } },
    ]);
  });
});

describe('PNS against garbage and protocol violations', () => {
  it('bytes that are not PPTP: TCP closed at once with Bad-Format (§1.4)', () => {
    const s = withCall();
    s.deliverBytes(new TextEncoder().encode('SSH-2.0-OpenSSH_9.2\r\n'));
    const acts = s.expectActions([
      { kind: 'callDown', callId: 42 },
      { kind: 'stopTimer', id: 'echo' },
      { kind: 'close', reason: { kind: 'protocol-error' } },
    ]);
    const close = acts[2];
    assert.ok(close?.kind === 'close' && close.reason.kind === 'protocol-error');
    assert.equal(close.reason.error.generalError, 2);
  });

  it('messages framed before the garbage are still handled, in order', () => {
    const s = established();
    const echo = encodePptpMessage({ type: T.EchoRequest, identifier: 3 });
    s.deliverBytes(concatBytes(echo, fromHex('00 10 00 01 00 00 00 00')));
    s.expectActions([
      send({ type: T.EchoReply, identifier: 3 }),
      { kind: 'stopTimer', id: 'echo' },
      { kind: 'close', reason: { kind: 'protocol-error' } },
    ]);
  });

  it('a message of the wrong direction (OCRQ to a PNS) is a protocol error: StopCCRQ', () => {
    const s = established();
    s.deliver({
      type: T.OutgoingCallRequest,
      callId: 1,
      callSerialNumber: 1,
      minimumBps: 0,
      maximumBps: 0,
      bearerType: 3,
      framingType: 3,
      packetRecvWindowSize: 1,
      packetProcessingDelay: 0,
      phoneNumberLength: 0,
      phoneNumber: '',
      subaddress: '',
    });
    s.expectActions([
      { kind: 'stopTimer', id: 'echo' },
      send({ type: T.StopControlConnectionRequest, reason: 1 }),
      { kind: 'startTimer', id: 'stop-reply' },
    ]);
    assert.equal(s.engine.state, 'wait_stop_reply');
  });

  it('a second SCCRQ on an established connection: Result Code 3, channel exists; nothing else changes', () => {
    const s = established();
    s.deliver({
      type: T.StartControlConnectionRequest,
      protocolVersion: 0x0100,
      framingCapabilities: 1,
      bearerCapabilities: 1,
      maximumChannels: 0,
      firmwareRevision: 1,
      hostName: '',
      vendorString: '',
    });
    s.expectActions([send({ type: T.StartControlConnectionReply, resultCode: 3, errorCode: 0 })]);
    assert.equal(s.engine.state, 'established');
  });

  it('a Management message is skipped without harm', () => {
    const s = established();
    s.deliverBytes(fromHex('00 10 00 02 1a 2b 3c 4d 00 01 00 00 00 00 00 00'));
    s.expectNothing();
    assert.equal(s.engine.state, 'established');
  });

  it('every message split into 1-byte reads gives the same result', () => {
    const s = established([41]);
    s.take(s.engine.placeCall().actions);
    s.drain();
    const bytes = encodePptpMessage(ocrp(42, 7000));
    for (let i = 0; i < bytes.length - 1; i++) s.deliverBytes(bytes.subarray(i, i + 1)).expectNothing();
    s.deliverBytes(bytes.subarray(bytes.length - 1));
    s.expectActions([
      { kind: 'stopTimer', id: 'call-42' },
      { kind: 'callUp', call: { callId: 42, peerCallId: 7000 } },
    ]);
  });
});
