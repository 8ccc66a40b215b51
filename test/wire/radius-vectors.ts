/** The example packets of RFC 2865 §7 (shared secret "xyzzy5461"), as printed in the RFC. */
import { fromHex } from '../../src/wire/bytes.js';

/** RFC 2865 §7.1 Access-Request (nemo / arctangent, secret "xyzzy5461"). */
export const RFC2865_7_1_REQUEST = fromHex(
  '01 00 00 38 0f 40 3f 94 73 97 80 57 bd 83 d5 cb 98 f4 22 7a 01 06 6e 65 6d 6f 02 12 0d be 70 8d 93 d4 13 ce 31 96 e4 3f 78 2a 0a ee 04 06 c0 a8 01 10 05 06 00 00 00 03'.replace(
    / /g,
    '',
  ),
);
/** RFC 2865 §7.1 Access-Accept. */
export const RFC2865_7_1_ACCEPT = fromHex(
  '02 00 00 26 86 fe 22 0e 76 24 ba 2a 10 05 f6 bf 9b 55 e0 b2 06 06 00 00 00 01 0f 06 00 00 00 00 0e 06 c0 a8 01 03'.replace(
    / /g,
    '',
  ),
);
/** RFC 2865 §7.2 Access-Request (flopsy, CHAP). */
export const RFC2865_7_2_REQUEST = fromHex(
  '01 01 00 47 2a ee 86 f0 8d 0d 55 96 9c a5 97 8e 0d 33 67 a2 01 08 66 6c 6f 70 73 79 03 13 16 e9 75 57 c3 16 18 58 95 f2 93 ff 63 44 07 72 75 04 06 c0 a8 01 10 05 06 00 00 00 14 06 06 00 00 00 02 07 06 00 00 00 01'.replace(
    / /g,
    '',
  ),
);
/** RFC 2865 §7.2 Access-Accept. */
export const RFC2865_7_2_ACCEPT = fromHex(
  '02 01 00 38 15 ef bc 7d ab 26 cf a3 dc 34 d9 c0 3c 86 01 a4 06 06 00 00 00 02 07 06 00 00 00 01 08 06 ff ff ff fe 0a 06 00 00 00 02 0d 06 00 00 00 01 0c 06 00 00 05 dc'.replace(
    / /g,
    '',
  ),
);
