/**
 * Opens a capture file of either format by its first bytes.
 */

import { WireError, WireErrorCode } from '../wire/errors.js';
import { isPcap, PcapReader } from './pcap.js';
import { isPcapng, PcapngReader } from './pcapng.js';
import type { CaptureReader } from './types.js';

/**
 * Returns a reader for a classic pcap or a pcapng file. Throws `WireError`
 * when the bytes are neither, or when the file header is invalid.
 */
export function openCapture(bytes: Uint8Array): CaptureReader {
  if (isPcapng(bytes)) return new PcapngReader(bytes);
  if (isPcap(bytes)) return new PcapReader(bytes);
  throw new WireError(
    WireErrorCode.BadMagic,
    bytes.length < 4 ? `not a capture file: only ${bytes.length} bytes` : 'not a pcap or pcapng capture file',
  );
}
