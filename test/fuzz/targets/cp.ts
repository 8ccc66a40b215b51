import { fromHex } from '../../../src/wire/bytes.js';
import { decodeCpOptions, decodeCpPacket } from '../../../src/wire/cp.js';
import type { FuzzTarget } from '../mutate.js';

export const targets: FuzzTarget[] = [
  {
    name: 'cp packet',
    decode: decodeCpPacket,
    corpus: [fromHex('01 01 00 0e 01 04 05 dc 05 06 12 34 56 78'), fromHex('09 02 00 08 12 34 56 78')],
  },
  {
    name: 'cp options',
    decode: decodeCpOptions,
    corpus: [fromHex('01 04 05 dc 05 06 12 34 56 78 07 02 08 02'), fromHex('03 05 c2 23 81')],
  },
];
