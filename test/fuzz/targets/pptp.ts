/**
 * Fuzz targets for every PPTP control-message decoder (RFC 2637 §2) and the
 * TCP stream framer. Corpus: the byte-exact fixtures of test/wire/pptp.
 */
import { concatBytes, fromHex } from '../../../src/wire/bytes.js';
import * as pptp from '../../../src/wire/pptp/index.js';
import { PPTP_CASES, WINDOWS_SCCRQ } from '../../wire/pptp/fixtures.js';
import type { FuzzTarget } from '../mutate.js';

const CASES = [...PPTP_CASES, WINDOWS_SCCRQ];
const ALL = CASES.map((c) => fromHex(c.hex));

const DECODERS: [string, (b: Uint8Array) => unknown][] = [
  ['SCCRQ', pptp.decodeStartControlConnectionRequest],
  ['SCCRP', pptp.decodeStartControlConnectionReply],
  ['StopCCRQ', pptp.decodeStopControlConnectionRequest],
  ['StopCCRP', pptp.decodeStopControlConnectionReply],
  ['ECHORQ', pptp.decodeEchoRequest],
  ['ECHORP', pptp.decodeEchoReply],
  ['OCRQ', pptp.decodeOutgoingCallRequest],
  ['OCRP', pptp.decodeOutgoingCallReply],
  ['ICRQ', pptp.decodeIncomingCallRequest],
  ['ICRP', pptp.decodeIncomingCallReply],
  ['ICCN', pptp.decodeIncomingCallConnected],
  ['CCRQ', pptp.decodeCallClearRequest],
  ['CDN', pptp.decodeCallDisconnectNotify],
  ['WEN', pptp.decodeWanErrorNotify],
  ['SLI', pptp.decodeSetLinkInfo],
];

/** Feeds `b` to a fresh framer in reads whose sizes come from the bytes themselves. */
function frameInPieces(b: Uint8Array): pptp.PptpMessage[] {
  const f = new pptp.PptpFramer();
  const out: pptp.PptpMessage[] = [];
  let pos = 0;
  while (pos < b.length) {
    const n = 1 + (b[pos]! % 61);
    out.push(...f.push(b.subarray(pos, pos + n)));
    pos += n;
  }
  return out;
}

export const targets: FuzzTarget[] = [
  ...DECODERS.map(([name, decode], i) => ({
    name: `pptp ${name}`,
    decode,
    // Its own fixtures first, plus two others so type confusion is mutated too.
    corpus: [...CASES.filter((c) => c.value.type === i + 1).map((c) => fromHex(c.hex)), ALL[4]!, ALL[9]!],
  })),
  { name: 'pptp any message', decode: pptp.decodePptpMessage, corpus: ALL },
  { name: 'pptp header view', decode: (b) => pptp.PptpHeaderView.check(b).toHeader(), corpus: ALL },
  {
    name: 'pptp framer (one read)',
    decode: (b) => new pptp.PptpFramer().push(b),
    corpus: [concatBytes(ALL[0]!, ALL[5]!, ALL[8]!), concatBytes(ALL[12]!, ALL[13]!), ALL[15]!],
  },
  {
    name: 'pptp framer (split reads)',
    decode: frameInPieces,
    corpus: [concatBytes(ALL[2]!, ALL[6]!, ALL[11]!), concatBytes(ALL[9]!, ALL[14]!, ALL[3]!)],
  },
];
