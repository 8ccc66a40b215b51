/**
 * The PPTP control-message codecs (src/wire/pptp) and their decode printer
 * (src/decode/pptp.ts): what the control engine does for each message it
 * receives or sends (decode a keep-alive, encode its reply into a scratch
 * buffer, decode the big SCCRQ and a call reply) and what `pptp-ts decode`
 * does per message (decode and build its layer).
 */
import assert from 'node:assert/strict';
import { pptpMessageLayer } from '../../src/decode/pptp.js';
import {
  decodePptpMessage,
  encodePptpMessage,
  type PptpMessage,
  PptpMessageType as T,
} from '../../src/wire/pptp/index.js';
import { type Benchmark, blackhole } from '../harness.js';

const SCCRQ: PptpMessage = {
  type: T.StartControlConnectionRequest,
  protocolVersion: 0x0100,
  framingCapabilities: 1,
  bearerCapabilities: 1,
  maximumChannels: 0,
  firmwareRevision: 2600,
  hostName: 'pns.example',
  vendorString: 'Microsoft Windows NT',
};
const ECHORQ: PptpMessage = { type: T.EchoRequest, identifier: 0x01020304 };
const OCRP: PptpMessage = {
  type: T.OutgoingCallReply,
  callId: 4243,
  peerCallId: 4242,
  resultCode: 1,
  errorCode: 0,
  causeCode: 0,
  connectSpeed: 100_000_000,
  packetRecvWindowSize: 64,
  packetProcessingDelay: 0,
  physicalChannelId: 0,
};

function decodeBench(name: string, m: PptpMessage): Benchmark {
  return {
    name: `pptp: decode ${name}`,
    unit: 'messages',
    setup() {
      const bytes = encodePptpMessage(m);
      assert.deepEqual(decodePptpMessage(bytes), m);
      return (n) => {
        for (let i = 0; i < n; i++) blackhole.value += decodePptpMessage(bytes).type;
      };
    },
  };
}

export const benchmarks: Benchmark[] = [
  decodeBench('ECHORQ', ECHORQ),
  decodeBench('OCRP', OCRP),
  decodeBench('SCCRQ', SCCRQ),
  {
    name: 'pptp: encode ECHORP into a scratch buffer',
    unit: 'messages',
    setup() {
      const out = new Uint8Array(64);
      const reply = { type: T.EchoReply, identifier: 7, resultCode: 1, errorCode: 0 } as const;
      assert.deepEqual(decodePptpMessage(encodePptpMessage(reply, out, 0)), reply);
      return (n) => {
        for (let i = 0; i < n; i++) {
          blackhole.value += encodePptpMessage({ ...reply, identifier: i >>> 0 }, out, 0).length;
        }
      };
    },
  },
  {
    name: 'pptp: encode SCCRQ (allocating)',
    unit: 'messages',
    setup() {
      assert.equal(encodePptpMessage(SCCRQ).length, 156);
      return (n) => {
        for (let i = 0; i < n; i++) blackhole.value += encodePptpMessage(SCCRQ).length;
      };
    },
  },
  {
    name: 'pptp: decode layer of an SCCRQ (pptp-ts decode)',
    unit: 'messages',
    setup() {
      const bytes = encodePptpMessage(SCCRQ);
      assert.equal(pptpMessageLayer(bytes).message?.type, T.StartControlConnectionRequest);
      return (n) => {
        for (let i = 0; i < n; i++) blackhole.value += pptpMessageLayer(bytes).layer.fields.length;
      };
    },
  },
];
