/**
 * Hex fixtures for every PPTP control message (RFC 2637 §2), shared by the
 * codec tests, the framer tests, the fuzz corpus and the engine tests.
 * Sources are recorded per case and in test/vectors/README.md.
 */
import { type PptpMessage, PptpMessageType as T } from '../../../src/wire/pptp/index.js';
import type { CodecCase } from '../../helpers/codec.js';

const SCAPY = 'Scapy test/scapy/layers/pptp.uts (secdev/scapy)';

/** One case per message type, byte-exact from Scapy's regression tests except where noted. */
export const PPTP_CASES: readonly CodecCase<PptpMessage>[] = [
  {
    name: 'SCCRQ (Scapy)',
    source: SCAPY,
    hex:
      '009c00011a2b3c4d00010000010000000000000100000002002a00' +
      '2f7465737420686f7374206e616d65000000000000000000000000' +
      '000000000000000000000000000000000000000000000000000000' +
      '0000000000000000000000746573742076656e646f722073747269' +
      '6e6700000000000000000000000000000000000000000000000000' +
      '000000000000000000000000000000000000000000',
    value: {
      type: T.StartControlConnectionRequest,
      protocolVersion: 0x0100,
      framingCapabilities: 1,
      bearerCapabilities: 2,
      maximumChannels: 42,
      firmwareRevision: 47,
      hostName: 'test host name',
      vendorString: 'test vendor string',
    },
  },
  {
    name: 'SCCRQ (nmap pptp-version.nse probe, "copied from packet capture")',
    source: 'nmap scripts/pptp-version.nse (payload written as Lua decimal escapes)',
    hex:
      '009c00011a2b3c4d 0001 0000 0100 0000 00000001 00000001 ffff 0001' +
      `6e6f6e65${'00'.repeat(60)}` +
      `6e6d6170${'00'.repeat(60)}`,
    value: {
      type: T.StartControlConnectionRequest,
      protocolVersion: 0x0100,
      framingCapabilities: 1,
      bearerCapabilities: 1,
      maximumChannels: 0xffff,
      firmwareRevision: 1,
      hostName: 'none',
      vendorString: 'nmap',
    },
  },
  {
    name: 'SCCRP (Scapy)',
    source: SCAPY,
    hex:
      '009c00011a2b3c4d00020000010002010000000200000001ffff0' +
      '1006c696e75780000000000000000000000000000000000000000' +
      '00000000000000000000000000000000000000000000000000000' +
      '000000000000000000000000076656e646f720000000000000000' +
      '00000000000000000000000000000000000000000000000000000' +
      '00000000000000000000000000000000000000000000000',
    value: {
      type: T.StartControlConnectionReply,
      protocolVersion: 0x0100,
      resultCode: 2,
      errorCode: 1,
      framingCapabilities: 2,
      bearerCapabilities: 1,
      maximumChannels: 0xffff,
      firmwareRevision: 0x0100,
      hostName: 'linux',
      vendorString: 'vendor',
    },
  },
  {
    name: 'StopCCRQ (Scapy)',
    source: SCAPY,
    hex: '001000011a2b3c4d0003000003000000',
    value: { type: T.StopControlConnectionRequest, reason: 3 },
  },
  {
    name: 'StopCCRP (Scapy)',
    source: SCAPY,
    hex: '001000011a2b3c4d0004000002060000',
    value: { type: T.StopControlConnectionReply, resultCode: 2, errorCode: 6 },
  },
  {
    name: 'ECHORQ (Scapy)',
    source: SCAPY,
    hex: '001000011a2b3c4d000500000000002a',
    value: { type: T.EchoRequest, identifier: 42 },
  },
  {
    name: 'ECHORP (Scapy)',
    source: SCAPY,
    hex: '001400011a2b3c4d000600000000002a01000000',
    value: { type: T.EchoReply, identifier: 42, resultCode: 1, errorCode: 0 },
  },
  {
    name: 'OCRQ (Scapy)',
    source: SCAPY,
    hex:
      '00a800011a2b3c4d000700001092002f000003e8000027100000000200' +
      '0000030010000100090000313233343536373839000000000000000000' +
      '0000000000000000000000000000000000000000000000000000000000' +
      '0000000000000000000000000000000000746573740000000000000000' +
      '0000000000000000000000000000000000000000000000000000000000' +
      '0000000000000000000000000000000000000000000000',
    value: {
      type: T.OutgoingCallRequest,
      callId: 4242,
      callSerialNumber: 47,
      minimumBps: 1000,
      maximumBps: 10000,
      bearerType: 2,
      framingType: 3,
      packetRecvWindowSize: 16,
      packetProcessingDelay: 1,
      phoneNumberLength: 9,
      phoneNumber: '123456789',
      subaddress: 'test',
    },
  },
  {
    name: 'OCRP (Scapy)',
    source: SCAPY,
    hex: '002000011a2b3c4d00080000109310920404002a00001388002000030000002a',
    value: {
      type: T.OutgoingCallReply,
      callId: 4243,
      peerCallId: 4242,
      resultCode: 4,
      errorCode: 4,
      causeCode: 42,
      connectSpeed: 5000,
      packetRecvWindowSize: 32,
      packetProcessingDelay: 3,
      physicalChannelId: 42,
    },
  },
  {
    name: 'ICRQ (Scapy)',
    source: SCAPY,
    hex:
      '00dc00011a2b3c4d000900001092002f000000020000000c0009000a313233343536373839' +
      '00000000000000000000000000000000000000000000000000000000000000000000000000' +
      '00000000000000000000000000000000000030313233343536373839000000000000000000' +
      '00000000000000000000000000000000000000000000000000000000000000000000000000' +
      '00000000000000007465737400000000000000000000000000000000000000000000000000' +
      '0000000000000000000000000000000000000000000000000000000000000000000000',
    value: {
      type: T.IncomingCallRequest,
      callId: 4242,
      callSerialNumber: 47,
      callBearerType: 2,
      physicalChannelId: 12,
      dialedNumberLength: 9,
      dialingNumberLength: 10,
      dialedNumber: '123456789',
      dialingNumber: '0123456789',
      subaddress: 'test',
    },
  },
  {
    // Scapy's vector is '009400011a2b...' : its ICRP declares Length 0x0094
    // (148, Scapy's default) for a 24-byte message. The fields are Scapy's;
    // the Length is corrected to 0x0018. See the test that rejects the original.
    name: 'ICRP (Scapy, Length corrected to 24)',
    source: `${SCAPY}, Length field corrected from 0x0094`,
    hex: '001800011a2b3c4d000a00001093109201000010002a0000',
    value: {
      type: T.IncomingCallReply,
      callId: 4243,
      peerCallId: 4242,
      resultCode: 1,
      errorCode: 0,
      packetRecvWindowSize: 16,
      packetTransmitDelay: 42,
    },
  },
  {
    name: 'ICCN (Scapy)',
    source: SCAPY,
    hex: '001c00011a2b3c4d000b00001092000002d4683b0010000700000003',
    value: {
      type: T.IncomingCallConnected,
      peerCallId: 4242,
      connectSpeed: 47474747,
      packetRecvWindowSize: 16,
      packetTransmitDelay: 7,
      framingType: 3,
    },
  },
  {
    name: 'CCRQ (Scapy)',
    source: SCAPY,
    hex: '001000011a2b3c4d000c000010920000',
    value: { type: T.CallClearRequest, callId: 4242 },
  },
  {
    name: 'CDN (Scapy)',
    source: SCAPY,
    hex:
      '009400011a2b3c4d000d000010920300002f0000736f6d65206465736372697074696' +
      'f6e000000000000000000000000000000000000000000000000000000000000000000' +
      '000000000000000000000000000000000000000000000000000000000000000000000' +
      '000000000000000000000000000000000000000000000000000000000000000000000' +
      '00000000000000000000',
    value: {
      type: T.CallDisconnectNotify,
      callId: 4242,
      resultCode: 3,
      errorCode: 0,
      causeCode: 47,
      callStatistics: 'some description',
    },
  },
  {
    name: 'WEN (Scapy)',
    source: SCAPY,
    hex: '002800011a2b3c4d000e000010920000000000010000000200000003000000040000000500000006',
    value: {
      type: T.WanErrorNotify,
      peerCallId: 4242,
      crcErrors: 1,
      framingErrors: 2,
      hardwareOverruns: 3,
      bufferOverruns: 4,
      timeoutErrors: 5,
      alignmentErrors: 6,
    },
  },
  {
    name: 'SLI (Scapy)',
    source: SCAPY,
    hex: '001800011a2b3c4d000f0000109200000f0f0f0ff0f0f0f0',
    value: { type: T.SetLinkInfo, peerCallId: 4242, sendAccm: 0x0f0f0f0f, receiveAccm: 0xf0f0f0f0 },
  },
];

/**
 * A Windows client's SCCRQ: the field values a RouterOS PPTP server logged
 * for one (framing 1, bearer 1, Maximum Channels 0, firmware 2600, empty
 * Host Name, vendor "Microsoft Windows NT"); the bytes are laid out by hand
 * from RFC 2637 §2.1 and cross-checked with tshark (see test/vectors/README.md).
 */
export const WINDOWS_SCCRQ: CodecCase<PptpMessage> = {
  name: 'SCCRQ as Windows sends it (Maximum Channels 0, empty Host Name)',
  source: 'field values from a MikroTik RouterOS debug log of a Windows client (pastebin Ug5M5qte)',
  hex:
    '009c00011a2b3c4d 0001 0000 0100 0000 00000001 00000001 0000 0a28' +
    '00'.repeat(64) +
    `4d6963726f736f66742057696e646f7773204e54${'00'.repeat(44)}`,
  value: {
    type: T.StartControlConnectionRequest,
    protocolVersion: 0x0100,
    framingCapabilities: 1,
    bearerCapabilities: 1,
    maximumChannels: 0,
    firmwareRevision: 2600,
    hostName: '',
    vendorString: 'Microsoft Windows NT',
  },
};

/** Scapy's ICRP bytes exactly as published (Length 0x0094 on a 24-byte message). */
export const SCAPY_ICRP_ORIGINAL_HEX = '009400011a2b3c4d000a00001093109201000010002a0000';
