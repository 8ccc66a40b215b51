/**
 * MPPE master keys from an authentication result (RFC 3079): the bridge from
 * `AuthSuccess.mppe` to the MPPE engine. `isServer` means "we were the
 * authenticator" (RFC 3079 §3.3: the send and receive keys swap between the
 * two ends).
 */

import {
  getAsymmetricStartKey,
  getMasterKey,
  type MppeMasterKeys,
  mppeKeysFromMsChapV1,
} from '../../crypto/mppe-keys.js';
import { redacted } from './auth-util.js';
import type { MppeKeyMaterial } from './types.js';

/** The 16-octet send and receive master keys for this end. Never log them. */
export function mppeMasterKeysFromAuth(material: MppeKeyMaterial, isServer: boolean): MppeMasterKeys {
  switch (material.method) {
    case 'mschap':
      // RFC 3079 §2.3 (pppd's choice for every key strength).
      return redacted({ ...mppeKeysFromMsChapV1(material.ntPasswordHash, material.challenge) });
    case 'keys':
      // Given for the authenticator's end; the peer's end sends with the other one.
      return redacted({
        sendKey: (isServer ? material.sendKey : material.receiveKey).slice(),
        receiveKey: (isServer ? material.receiveKey : material.sendKey).slice(),
      });
    case 'mschap-v2': {
      // RFC 3079 §3.3 GetMasterKey, then §3.4 GetAsymmetricStartKey per direction.
      const masterKey = getMasterKey(material.passwordHashHash, material.ntResponse);
      return redacted({
        sendKey: getAsymmetricStartKey(masterKey, 16, true, isServer),
        receiveKey: getAsymmetricStartKey(masterKey, 16, false, isServer),
      });
    }
  }
}
