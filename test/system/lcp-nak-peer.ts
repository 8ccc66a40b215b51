/**
 * A hostile PPTP client for test/system/attack-lcp-nak.test.ts, run inside
 * the attacker's namespace (`ip netns exec NS node --import tsx
 * test/system/lcp-nak-peer.ts SERVER LOCAL`): it sets up a control
 * connection and a call like any PNS, then answers every LCP
 * Configure-Request the server sends with a Configure-Nak (MRU 1400, a value
 * the server would accept) and never sends a request of its own. It prints
 * `request N` for each Configure-Request, `cdn RESULT` when the server
 * disconnects the call, and exits; after 60 s it gives up with exit code 1.
 */
import net from 'node:net';
import { RawGreSocket } from '../../src/io/raw-gre.js';
import { parseIpv4 } from '../../src/wire/bytes.js';
import { encodeOutgoingCallRequest } from '../../src/wire/pptp/call-messages.js';
import { encodeStartControlConnectionRequest } from '../../src/wire/pptp/connection-messages.js';
import { PptpMessageType } from '../../src/wire/pptp/header.js';

const [serverIp, localIp] = process.argv.slice(2);
if (!serverIp || !localIp) {
  process.stderr.write('usage: lcp-nak-peer.ts SERVER LOCAL\n');
  process.exit(2);
}
const OUR_CALL_ID = 0x4242;
const giveUp = setTimeout(() => {
  process.stderr.write('no Call-Disconnect-Notify within 60 s\n');
  process.exit(1);
}, 60_000);

const socket = net.connect(1723, serverIp);
let buffered = Buffer.alloc(0);
let peerCallId = -1;
let requests = 0;
let seq = 0;
let gre: RawGreSocket | undefined;

function onMessage(m: Buffer): void {
  const type = m.readUInt16BE(8);
  if (type === PptpMessageType.StartControlConnectionReply) {
    socket.write(
      encodeOutgoingCallRequest({
        type: PptpMessageType.OutgoingCallRequest,
        callId: OUR_CALL_ID,
        callSerialNumber: 1,
        minimumBps: 300,
        maximumBps: 100_000_000,
        bearerType: 3,
        framingType: 3,
        packetRecvWindowSize: 64,
        packetProcessingDelay: 0,
        phoneNumberLength: 0,
        phoneNumber: '',
        subaddress: '',
      }),
    );
  } else if (type === PptpMessageType.OutgoingCallReply) {
    peerCallId = m.readUInt16BE(12);
    process.stdout.write(`call ${peerCallId} result ${m[16]}\n`);
  } else if (type === PptpMessageType.CallDisconnectNotify) {
    process.stdout.write(`cdn ${m[14]} requests ${requests}\n`);
    clearTimeout(giveUp);
    gre?.close();
    socket.destroy();
  }
}

socket.on('data', (d) => {
  buffered = Buffer.concat([buffered, d]);
  while (buffered.length >= 2 && buffered.length >= buffered.readUInt16BE(0)) {
    const len = buffered.readUInt16BE(0);
    if (len < 12) {
      socket.destroy();
      return;
    }
    onMessage(buffered.subarray(0, len));
    buffered = buffered.subarray(len);
  }
});
socket.on('error', (e) => {
  process.stderr.write(`control connection: ${e.message}\n`);
  process.exit(1);
});
socket.on('connect', () => {
  gre = RawGreSocket.open({ bindAddress: localIp });
  gre.start({ onPacket: onGre });
  socket.write(
    encodeStartControlConnectionRequest({
      type: PptpMessageType.StartControlConnectionRequest,
      protocolVersion: 0x0100,
      framingCapabilities: 1,
      bearerCapabilities: 1,
      maximumChannels: 0,
      firmwareRevision: 0,
      hostName: 'nak-peer',
      vendorString: 'test',
    }),
  );
});

/** GRE from the server: answer an LCP Configure-Request with a Configure-Nak of MRU 1400. */
function onGre(p: Uint8Array): void {
  const ihl = (p[0]! & 0x0f) * 4;
  if (p.length < ihl + 8 || ((p[ihl + 6]! << 8) | p[ihl + 7]!) !== OUR_CALL_ID) return;
  if ((p[ihl]! & 0x10) === 0) return; // no Sequence Number: acknowledgment only
  let o = ihl + 12 + ((p[ihl + 1]! & 0x80) !== 0 ? 4 : 0);
  if (p[o] === 0xff && p[o + 1] === 0x03) o += 2;
  if (p[o] !== 0xc0 || p[o + 1] !== 0x21 || p[o + 2] !== 1) return;
  requests++;
  process.stdout.write(`request ${requests}\n`);
  const id = p[o + 3]!;
  const ppp = Uint8Array.from([0xff, 0x03, 0xc0, 0x21, 3, id, 0, 8, 1, 4, 0x05, 0x78]);
  const out = new Uint8Array(20 + 12 + ppp.length);
  const v = new DataView(out.buffer);
  out[0] = 0x45;
  v.setUint16(6, 0x4000);
  out[8] = 64;
  out[9] = 47;
  v.setUint32(12, parseIpv4(localIp!)!);
  v.setUint32(16, parseIpv4(serverIp!)!);
  out[20] = 0x30;
  out[21] = 0x01;
  v.setUint16(22, 0x880b);
  v.setUint16(24, ppp.length);
  v.setUint16(26, peerCallId);
  v.setUint32(28, ++seq);
  out.set(ppp, 32);
  gre!.send(out);
  gre!.flush();
}
