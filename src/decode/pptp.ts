/**
 * PPTP control messages (RFC 2637 §2) for the decode output: a per-direction
 * splitter over the reassembled TCP 1723 byte stream, and one layer per
 * message with every field, named as the RFC names them.
 *
 * The splitter is deliberately more forgiving than the stack's `PptpFramer`.
 * A PPTP endpoint must drop the connection on "loss of synchronization"
 * (RFC 2637 §1.4), and the framer does; an analyser should instead show
 * where the stream broke and then carry on. So a message whose Length and
 * Magic Cookie frame it but whose body `decodePptpMessage` refuses is shown
 * malformed and the next message is read after it; bytes that cannot start a
 * message at all are reported once, and reading resumes at the next place a
 * plausible header (Length 12–512, then the cookie) appears.
 */

import { u16, u32 } from '../wire/bytes.js';
import { WireError, WireErrorCode } from '../wire/errors.js';
import {
  decodePptpMessage,
  PPTP_HEADER_LENGTH,
  PPTP_MAGIC_COOKIE,
  PPTP_MAX_MESSAGE_LENGTH,
  PPTP_MESSAGE_ABBREVIATION,
  type PptpMessage,
  PptpMessageType,
} from '../wire/pptp/index.js';
import {
  type Field,
  flag,
  hex,
  hidden,
  kv,
  type Layer,
  malformedLayer,
  printableString,
  shown,
} from './tree.js';

/** Message names as the RFC's section titles spell them. */
const MESSAGE_NAMES: Readonly<Record<number, string>> = {
  [PptpMessageType.StartControlConnectionRequest]: 'Start-Control-Connection-Request',
  [PptpMessageType.StartControlConnectionReply]: 'Start-Control-Connection-Reply',
  [PptpMessageType.StopControlConnectionRequest]: 'Stop-Control-Connection-Request',
  [PptpMessageType.StopControlConnectionReply]: 'Stop-Control-Connection-Reply',
  [PptpMessageType.EchoRequest]: 'Echo-Request',
  [PptpMessageType.EchoReply]: 'Echo-Reply',
  [PptpMessageType.OutgoingCallRequest]: 'Outgoing-Call-Request',
  [PptpMessageType.OutgoingCallReply]: 'Outgoing-Call-Reply',
  [PptpMessageType.IncomingCallRequest]: 'Incoming-Call-Request',
  [PptpMessageType.IncomingCallReply]: 'Incoming-Call-Reply',
  [PptpMessageType.IncomingCallConnected]: 'Incoming-Call-Connected',
  [PptpMessageType.CallClearRequest]: 'Call-Clear-Request',
  [PptpMessageType.CallDisconnectNotify]: 'Call-Disconnect-Notify',
  [PptpMessageType.WanErrorNotify]: 'WAN-Error-Notify',
  [PptpMessageType.SetLinkInfo]: 'Set-Link-Info',
};

/** Result Code meanings per message (RFC 2637 §2.2, §2.4, §2.6, §2.8, §2.10, §2.13). */
const RESULT_NAMES: Readonly<Record<number, Readonly<Record<number, string>>>> = {
  [PptpMessageType.StartControlConnectionReply]: {
    1: 'Successful channel establishment',
    2: 'General error',
    3: 'Command channel already exists',
    4: 'Requester is not authorized',
    5: 'Protocol version not supported',
  },
  [PptpMessageType.StopControlConnectionReply]: { 1: 'OK', 2: 'General Error' },
  [PptpMessageType.EchoReply]: { 1: 'OK', 2: 'General Error' },
  [PptpMessageType.OutgoingCallReply]: {
    1: 'Connected',
    2: 'General Error',
    3: 'No Carrier',
    4: 'Busy',
    5: 'No Dial Tone',
    6: 'Time-out',
    7: 'Do Not Accept',
  },
  [PptpMessageType.IncomingCallReply]: { 1: 'Connect', 2: 'General Error', 3: 'Do Not Accept' },
  [PptpMessageType.CallDisconnectNotify]: {
    1: 'Lost Carrier',
    2: 'General Error',
    3: 'Admin Shutdown',
    4: 'Request',
  },
};

/** General Error codes (RFC 2637 §2.16). */
const GENERAL_ERROR_NAMES: Readonly<Record<number, string>> = {
  0: 'None',
  1: 'Not-Connected',
  2: 'Bad-Format',
  3: 'Bad-Value',
  4: 'No-Resource',
  5: 'Bad-Call ID',
  6: 'PAC-Error',
};

/** Stop-Control-Connection-Request Reason (RFC 2637 §2.3). */
const STOP_REASON_NAMES: Readonly<Record<number, string>> = {
  1: 'None',
  2: 'Stop-Protocol',
  3: 'Stop-Local-Shutdown',
};

function withName(names: Readonly<Record<number, string>> | undefined, v: number): string {
  const n = names?.[v];
  return n ? `${v} (${n})` : String(v);
}

/** Framing/Bearer capability bits (RFC 2637 §2.1) as words. */
function capabilityText(v: number, one: string, two: string): string {
  const words: string[] = [];
  if (v & 1) words.push(one);
  if (v & 2) words.push(two);
  if (v & ~3) words.push(hex(v & ~3, 8));
  return words.length ? words.join('+') : 'none';
}

/** Framing/Bearer *type* values (RFC 2637 §2.7: 1, 2, or 3 = either). */
function typeText(v: number, one: string, two: string): string {
  return v === 1 ? one : v === 2 ? two : v === 3 ? `${one} or ${two}` : String(v);
}

function str(key: string, label: string, s: string): Field {
  return kv(key, s, label, `"${printableString(s, 128)}"`);
}

function resultFields(type: number, resultCode: number, errorCode: number): Field[] {
  return [
    kv('resultCode', resultCode, 'result', withName(RESULT_NAMES[type], resultCode)),
    // The Error Code matters only with a General Error result; 0 otherwise.
    errorCode
      ? kv('errorCode', errorCode, 'error', withName(GENERAL_ERROR_NAMES, errorCode))
      : hidden('errorCode', 0),
  ];
}

/** Fields of one decoded message, every one of them. */
function messageFields(m: PptpMessage): Field[] {
  switch (m.type) {
    case PptpMessageType.StartControlConnectionRequest:
    case PptpMessageType.StartControlConnectionReply: {
      const version = `${m.protocolVersion >>> 8}.${m.protocolVersion & 0xff}`;
      const fields: Field[] = [kv('protocolVersion', m.protocolVersion, 'version', version)];
      if (m.type === PptpMessageType.StartControlConnectionReply)
        fields.push(...resultFields(m.type, m.resultCode, m.errorCode));
      fields.push(
        kv(
          'framingCapabilities',
          m.framingCapabilities,
          'framing',
          capabilityText(m.framingCapabilities, 'async', 'sync'),
        ),
        kv(
          'bearerCapabilities',
          m.bearerCapabilities,
          'bearer',
          capabilityText(m.bearerCapabilities, 'analog', 'digital'),
        ),
        kv('maximumChannels', m.maximumChannels, 'max channels'),
        kv('firmwareRevision', m.firmwareRevision, 'firmware', hex(m.firmwareRevision)),
        str('hostName', 'host', m.hostName),
        str('vendorString', 'vendor', m.vendorString),
      );
      return fields;
    }
    case PptpMessageType.StopControlConnectionRequest:
      return [kv('reason', m.reason, 'reason', withName(STOP_REASON_NAMES, m.reason))];
    case PptpMessageType.StopControlConnectionReply:
      return resultFields(m.type, m.resultCode, m.errorCode);
    case PptpMessageType.EchoRequest:
      return [kv('identifier', m.identifier, 'id', hex(m.identifier, 8))];
    case PptpMessageType.EchoReply:
      return [
        kv('identifier', m.identifier, 'id', hex(m.identifier, 8)),
        ...resultFields(m.type, m.resultCode, m.errorCode),
      ];
    case PptpMessageType.OutgoingCallRequest:
      return [
        kv('callId', m.callId, 'call ID'),
        kv('callSerialNumber', m.callSerialNumber, 'serial'),
        kv('minimumBps', m.minimumBps, 'min bps'),
        kv('maximumBps', m.maximumBps, 'max bps'),
        kv('bearerType', m.bearerType, 'bearer', typeText(m.bearerType, 'analog', 'digital')),
        kv('framingType', m.framingType, 'framing', typeText(m.framingType, 'async', 'sync')),
        kv('packetRecvWindowSize', m.packetRecvWindowSize, 'window'),
        kv('packetProcessingDelay', m.packetProcessingDelay, 'delay'),
        kv('phoneNumberLength', m.phoneNumberLength, 'phone length'),
        str('phoneNumber', 'phone', m.phoneNumber),
        str('subaddress', 'subaddress', m.subaddress),
      ];
    case PptpMessageType.OutgoingCallReply:
      return [
        kv('callId', m.callId, 'call ID'),
        kv('peerCallId', m.peerCallId, 'peer call ID'),
        ...resultFields(m.type, m.resultCode, m.errorCode),
        kv('causeCode', m.causeCode, 'cause'),
        kv('connectSpeed', m.connectSpeed, 'speed'),
        kv('packetRecvWindowSize', m.packetRecvWindowSize, 'window'),
        kv('packetProcessingDelay', m.packetProcessingDelay, 'delay'),
        kv('physicalChannelId', m.physicalChannelId, 'channel'),
      ];
    case PptpMessageType.IncomingCallRequest:
      return [
        kv('callId', m.callId, 'call ID'),
        kv('callSerialNumber', m.callSerialNumber, 'serial'),
        kv('callBearerType', m.callBearerType, 'bearer', typeText(m.callBearerType, 'analog', 'digital')),
        kv('physicalChannelId', m.physicalChannelId, 'channel'),
        kv('dialedNumberLength', m.dialedNumberLength, 'dialed length'),
        kv('dialingNumberLength', m.dialingNumberLength, 'dialing length'),
        str('dialedNumber', 'dialed', m.dialedNumber),
        str('dialingNumber', 'dialing', m.dialingNumber),
        str('subaddress', 'subaddress', m.subaddress),
      ];
    case PptpMessageType.IncomingCallReply:
      return [
        kv('callId', m.callId, 'call ID'),
        kv('peerCallId', m.peerCallId, 'peer call ID'),
        ...resultFields(m.type, m.resultCode, m.errorCode),
        kv('packetRecvWindowSize', m.packetRecvWindowSize, 'window'),
        kv('packetTransmitDelay', m.packetTransmitDelay, 'delay'),
      ];
    case PptpMessageType.IncomingCallConnected:
      return [
        kv('peerCallId', m.peerCallId, 'peer call ID'),
        kv('connectSpeed', m.connectSpeed, 'speed'),
        kv('packetRecvWindowSize', m.packetRecvWindowSize, 'window'),
        kv('packetTransmitDelay', m.packetTransmitDelay, 'delay'),
        kv('framingType', m.framingType, 'framing', typeText(m.framingType, 'async', 'sync')),
      ];
    case PptpMessageType.CallClearRequest:
      return [kv('callId', m.callId, 'call ID')];
    case PptpMessageType.CallDisconnectNotify:
      return [
        kv('callId', m.callId, 'call ID'),
        ...resultFields(m.type, m.resultCode, m.errorCode),
        kv('causeCode', m.causeCode, 'cause'),
        str('callStatistics', 'statistics', m.callStatistics),
      ];
    case PptpMessageType.WanErrorNotify:
      return [
        kv('peerCallId', m.peerCallId, 'peer call ID'),
        kv('crcErrors', m.crcErrors, 'CRC errors'),
        kv('framingErrors', m.framingErrors, 'framing errors'),
        kv('hardwareOverruns', m.hardwareOverruns, 'hardware overruns'),
        kv('bufferOverruns', m.bufferOverruns, 'buffer overruns'),
        kv('timeoutErrors', m.timeoutErrors, 'time-out errors'),
        kv('alignmentErrors', m.alignmentErrors, 'alignment errors'),
      ];
    case PptpMessageType.SetLinkInfo:
      return [
        kv('peerCallId', m.peerCallId, 'peer call ID'),
        kv('sendAccm', m.sendAccm, 'send ACCM', hex(m.sendAccm, 8)),
        kv('receiveAccm', m.receiveAccm, 'receive ACCM', hex(m.receiveAccm, 8)),
      ];
  }
}

/** The common header fields (RFC 2637 §2): type name, Length, and the constants only in JSON. */
function headerFields(bytes: Uint8Array): Field[] {
  const type = bytes.length >= 10 ? u16(bytes, 8) : -1;
  const abbr = PPTP_MESSAGE_ABBREVIATION[type as PptpMessageType];
  const name = MESSAGE_NAMES[type];
  return [
    shown('messageType', type, name ? `${name} (${abbr})` : `Control Message Type ${type}`),
    hidden('name', abbr ?? null),
    kv('length', bytes.length >= 2 ? u16(bytes, 0) : 0, 'len'),
    hidden('pptpMessageType', bytes.length >= 4 ? u16(bytes, 2) : null),
    hidden('magicCookie', bytes.length >= 8 ? u32(bytes, 4) : null),
  ];
}

/** The layer of one framed control message (`bytes` is exactly Length long), and the message when it decodes. */
export function pptpMessageLayer(bytes: Uint8Array): { layer: Layer; message?: PptpMessage } {
  const head = headerFields(bytes);
  let m: PptpMessage;
  try {
    m = decodePptpMessage(bytes);
  } catch (e) {
    return { layer: malformedLayer('PPTP', e, bytes, head) };
  }
  return { layer: { protocol: 'PPTP', fields: [...head, ...messageFields(m)] }, message: m };
}

/** What the splitter found in the bytes of one push. */
export type PptpStreamItem =
  | { readonly kind: 'message'; readonly layer: Layer; readonly type: number; readonly message?: PptpMessage }
  | { readonly kind: 'desync'; readonly layer: Layer; readonly skippedBytes: number };

function plausibleHeader(b: Uint8Array, at: number): boolean {
  const len = u16(b, at);
  return len >= PPTP_HEADER_LENGTH && len <= PPTP_MAX_MESSAGE_LENGTH && u32(b, at + 4) === PPTP_MAGIC_COOKIE;
}

/**
 * Splits one direction of a TCP 1723 stream into control messages (see the
 * module comment). Bounded: at most one maximum-size message is held while
 * in sync; while out of sync only the last 7 bytes (a possible header start).
 */
export class PptpStreamSplitter {
  private buf = new Uint8Array(0);
  private inSync = true;
  private skipped = 0;

  /** Bytes held for a message not yet complete. */
  get buffered(): number {
    return this.buf.length;
  }

  /** Bytes were lost before what comes next (a TCP gap): start over, looking for a header. */
  gap(): void {
    this.buf = new Uint8Array(0);
    this.inSync = false;
  }

  /** Feeds in-order stream bytes; returns the messages (and sync losses) they complete. */
  push(data: Uint8Array): PptpStreamItem[] {
    const b = new Uint8Array(this.buf.length + data.length);
    b.set(this.buf);
    b.set(data, this.buf.length);
    const out: PptpStreamItem[] = [];
    let off = 0;
    for (;;) {
      const left = b.length - off;
      if (!this.inSync) {
        // Scan for a plausible header: Length in range and the cookie 4 bytes later.
        let at = off;
        while (b.length - at >= 8 && !plausibleHeader(b, at)) at++;
        this.skipped += at - off;
        off = at;
        if (b.length - off < 8) break;
        this.inSync = true;
        if (this.skipped) {
          out.push(this.desyncItem(`${this.skipped} bytes skipped to the next message header`));
          this.skipped = 0;
        }
        continue;
      }
      if (left < 8) break;
      if (!plausibleHeader(b, off)) {
        const len = u16(b, off);
        const cookie = u32(b, off + 4);
        const why =
          cookie !== PPTP_MAGIC_COOKIE
            ? new WireError(
                WireErrorCode.BadMagic,
                `PPTP Magic Cookie ${hex(cookie, 8)} != 0x1a2b3c4d: the stream is out of sync`,
                'RFC 2637 §1.4: "Its basic purpose is to allow the receiver to ensure that it is properly synchronized with the TCP data stream"',
              )
            : new WireError(
                len < PPTP_HEADER_LENGTH ? WireErrorCode.LengthTooSmall : WireErrorCode.LengthTooLarge,
                `PPTP Length ${len} outside ${PPTP_HEADER_LENGTH}..${PPTP_MAX_MESSAGE_LENGTH}: the stream is out of sync`,
                'RFC 2637 §2: "Length: Total length in octets of this PPTP message, including the entire PPTP header"',
              );
        out.push({
          kind: 'desync',
          layer: malformedLayer('PPTP', why, b.subarray(off, off + 24)),
          skippedBytes: 0,
        });
        this.inSync = false;
        this.skipped = 1;
        off += 1;
        continue;
      }
      const len = u16(b, off);
      if (left < len) break;
      const bytes = b.subarray(off, off + len);
      const { layer, message } = pptpMessageLayer(bytes);
      const type = u16(bytes, 8);
      out.push(message ? { kind: 'message', layer, type, message } : { kind: 'message', layer, type });
      off += len;
    }
    // Keep what may start a message; while out of sync, only a possible header prefix.
    let keep = b.subarray(off);
    if (!this.inSync && keep.length > 7) {
      this.skipped += keep.length - 7;
      keep = keep.subarray(keep.length - 7);
    }
    this.buf = keep.slice();
    return out;
  }

  private desyncItem(detail: string): PptpStreamItem {
    return {
      kind: 'desync',
      layer: { protocol: 'PPTP', fields: [flag('resynchronized', true, 'resynchronized')], note: detail },
      skippedBytes: this.skipped,
    };
  }
}
