/** Fuzz targets for the RADIUS codec, its printer, the salt decryption and the client engine's receive path. */
import { RadiusCryptoError, saltDecrypt } from '../../../src/crypto/radius.js';
import { RadiusClient } from '../../../src/radius/radius-client.js';
import { fromHex } from '../../../src/wire/bytes.js';
import { WireError, WireErrorCode } from '../../../src/wire/errors.js';
import {
  decodeRadius,
  decodeVendorSpecific,
  RadiusCode,
  stringifyRadius,
} from '../../../src/wire/radius/index.js';
import {
  RFC2865_7_1_ACCEPT,
  RFC2865_7_1_REQUEST,
  RFC2865_7_2_ACCEPT,
  RFC2865_7_2_REQUEST,
} from '../../wire/radius-vectors.js';
import type { FuzzTarget } from '../mutate.js';

const MS_ACCEPT = fromHex(
  '02 07 00 38 00112233445566778899aabbccddeeff 1a 0c 00000137 0b 06 01020304 1a 0c 00000137 1c 06 c0000235 40 06 00000001 42 06 01 31 2e 32'.replace(
    / /g,
    '',
  ),
);

const RA = new Uint8Array(16).fill(3);

export const targets: FuzzTarget[] = [
  {
    name: 'radius packet + printer',
    decode: (b) => stringifyRadius(decodeRadius(b)),
    corpus: [RFC2865_7_1_REQUEST, RFC2865_7_1_ACCEPT, RFC2865_7_2_REQUEST, RFC2865_7_2_ACCEPT, MS_ACCEPT],
  },
  {
    name: 'radius vendor-specific',
    decode: decodeVendorSpecific,
    corpus: [
      fromHex('00000137 0b 06 01020304'.replace(/ /g, '')),
      fromHex('00000009 01 03 aa'.replace(/ /g, '')),
    ],
  },
  {
    // The salt decryption is not a wire decoder: its refusals are mapped onto WireError for the harness.
    name: 'radius salt decryption',
    decode: (b) => {
      try {
        return saltDecrypt(b, 'secret', RA);
      } catch (e) {
        if (e instanceof RadiusCryptoError) throw new WireError(WireErrorCode.BadValue, e.message);
        throw e;
      }
    },
    corpus: [fromHex(`8102${'00'.repeat(32)}`)],
  },
  {
    // Whatever arrives, receive() drops and counts it or reports a reply; it never throws.
    name: 'radius client receive',
    decode: (b) => {
      const c = new RadiusClient({ servers: [{ name: 's', secret: 'x' }], random: (n) => new Uint8Array(n) });
      c.submit(0, 1, { code: RadiusCode.AccessRequest, attributes: [] });
      return c.receive(1, 0, b);
    },
    corpus: [RFC2865_7_1_ACCEPT, MS_ACCEPT],
  },
];
