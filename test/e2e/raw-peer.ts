/**
 * A hand-driven PPTP control peer for the in-memory world: it writes the
 * messages a test chooses (including ones no client would send) and
 * collects what the server answers, decoded. Used to probe the server's
 * limits without a real client's manners.
 */
import type { MemorySocket } from '../../src/io/memory/tcp.js';
import { memoryTcp } from '../../src/io/tcp.js';
import {
  encodePptpMessage,
  PPTP_PROTOCOL_VERSION,
  PptpFramer,
  type PptpMessage,
  PptpMessageType,
} from '../../src/wire/pptp/index.js';
import { SERVER_ADDRESS, type World } from './world.js';

export class RawPeer {
  readonly received: PptpMessage[] = [];
  closed = false;
  private readonly framer = new PptpFramer();
  private nextCallId = 1;

  private constructor(readonly socket: MemorySocket) {
    socket.on('data', (chunk: Uint8Array) => {
      try {
        this.received.push(...this.framer.push(chunk));
      } catch {
        // The server never sends garbage; a test would see the missing replies.
      }
    });
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('error', () => {});
  }

  /** Connects from `address` and completes SCCRQ/SCCRP. */
  static async open(w: World, address: string): Promise<RawPeer> {
    const s = (await w.wait(memoryTcp(w.tcp, address).connect(SERVER_ADDRESS, 1723))) as MemorySocket;
    const p = new RawPeer(s);
    p.send({
      type: PptpMessageType.StartControlConnectionRequest,
      protocolVersion: PPTP_PROTOCOL_VERSION,
      framingCapabilities: 1,
      bearerCapabilities: 1,
      maximumChannels: 0,
      firmwareRevision: 1,
      hostName: 'raw',
      vendorString: 'raw',
    });
    await w.runUntil(() => p.of(PptpMessageType.StartControlConnectionReply).length === 1);
    return p;
  }

  send(m: PptpMessage): void {
    this.socket.write(encodePptpMessage(m));
  }

  /** Sends an Outgoing-Call-Request; returns the Call ID it used. */
  call(): number {
    const callId = this.nextCallId++;
    this.send({
      type: PptpMessageType.OutgoingCallRequest,
      callId,
      callSerialNumber: callId,
      minimumBps: 300,
      maximumBps: 100_000_000,
      bearerType: 3,
      framingType: 3,
      packetRecvWindowSize: 64,
      packetProcessingDelay: 0,
      phoneNumberLength: 0,
      phoneNumber: '',
      subaddress: '',
    });
    return callId;
  }

  /** Messages of one type received so far. */
  of<T extends PptpMessageType>(type: T): Extract<PptpMessage, { type: T }>[] {
    return this.received.filter((m) => m.type === type) as Extract<PptpMessage, { type: T }>[];
  }

  /** Outgoing-Call-Replies by result code. */
  replies(): { connected: number; results: number[] } {
    const r = this.of(PptpMessageType.OutgoingCallReply);
    return { connected: r.filter((m) => m.resultCode === 1).length, results: r.map((m) => m.resultCode) };
  }
}
