// Decode a capture file: the same objects `pptp-ts decode --json` prints.
import { readFileSync } from 'node:fs';
import { CaptureError, decode } from 'pptp-ts';

const file = process.argv[2];
if (!file) throw new Error('usage: decode.ts CAPTURE.pcap');

try {
  const result = decode(readFileSync(file), { all: false });
  for (const packet of result.packets) {
    const names = packet.layers.map((l) => l.layer).join(' / ');
    console.log(`frame ${packet.frame} ${packet.time}: ${names}`);
    // Every field is there too, e.g. the PPTP control message's name and Call ID:
    const pptp = packet.layers.find((l) => l.layer === 'PPTP');
    if (pptp) console.log(`  PPTP ${pptp.name} callId=${pptp.callId ?? '-'}`);
  }
  const s = result.stats;
  console.log(`${s.frames} frames, ${s.shown} shown, ${s.pptpMessages} PPTP messages, ${s.greFrames} GRE`);
  if (result.error) console.log(`stopped early: ${result.error.message}`);
} catch (err) {
  if (err instanceof CaptureError) {
    console.error(`not a capture: ${err.message}`);
    process.exitCode = 1;
  } else throw err;
}
