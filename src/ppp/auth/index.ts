/**
 * Entry point of the authentication engines: one factory per role, keyed by
 * the method LCP negotiated (`authMethodOf()` in wire/lcp.ts).
 */

import type { AuthMethod } from '../../wire/lcp.js';
import { ChapAuthenticator, ChapPeer, type ChapVariant } from './chap.js';
import { chapMd5 } from './chap-md5.js';
import { msChapV1 } from './mschap.js';
import { msChapV2 } from './mschapv2.js';
import { PapAuthenticator, PapPeer } from './pap.js';
import type { Authenticator, AuthenticatorOptions, AuthPeer, PeerOptions } from './types.js';

export { mppeMasterKeysFromAuth } from './keys.js';
export * from './types.js';

const CHAP_VARIANTS: Readonly<Record<Exclude<AuthMethod, 'pap'>, ChapVariant>> = {
  'chap-md5': chapMd5,
  mschap: msChapV1,
  'mschap-v2': msChapV2,
};

/** The authenticator for `method` (we demand that the peer authenticates). */
export function createAuthenticator(method: AuthMethod, options: AuthenticatorOptions): Authenticator {
  return method === 'pap'
    ? new PapAuthenticator(options)
    : new ChapAuthenticator(CHAP_VARIANTS[method], options);
}

/** The peer engine for `method` (we authenticate ourselves to the other end). */
export function createAuthPeer(method: AuthMethod, options: PeerOptions): AuthPeer {
  return method === 'pap' ? new PapPeer(options) : new ChapPeer(CHAP_VARIANTS[method], options);
}
