/**
 * The authentication layers of a PPP session: PAP (RFC 1334 §2) and CHAP
 * (RFC 1994 §4) with the MS-CHAP v1 (RFC 2433) and v2 (RFC 2759) Response,
 * Success and Failure formats. What a successful MS-CHAP exchange leaves in
 * the session state is what MPPE decryption later needs.
 */

import { type ChapChallengeResponse, type ChapPacket, decodeChapPacket } from '../wire/chap.js';
import { decodeCpPacket } from '../wire/cp.js';
import { ChapAlgorithm } from '../wire/lcp.js';
import {
  decodeMsChapV1Response,
  decodeMsChapV2Response,
  MSCHAPV2_CHALLENGE_LENGTH,
  parseMsChapFailure,
  parseMsChapV2Success,
} from '../wire/mschap.js';
import { decodePapPacket } from '../wire/pap.js';
import { CHAP_ALGORITHM_NAMES, CHAP_CODE_NAMES, MSCHAP_ERROR_NAMES, named, PAP_CODE_NAMES } from './names.js';
import { headerFields } from './ppp-fields.js';
import type { PppDissectOptions, PppSessionState } from './ppp-state.js';
import {
  byteCount,
  bytesHex,
  type Field,
  group,
  kv,
  type Layer,
  malformedLayer,
  quoted,
  quotedString,
} from './tree.js';

export function papLayer(info: Uint8Array, opts: PppDissectOptions): Layer {
  const p = decodePapPacket(info);
  const fields = headerFields(decodeCpPacket(info), PAP_CODE_NAMES);
  switch (p.kind) {
    case 'authenticate-request':
      fields.push(
        quoted('peerId', p.peerId, 'peer-id'),
        opts.showSecrets
          ? quoted('password', p.password)
          : kv('passwordLength', p.password.length, 'password', `(${p.password.length} bytes, hidden)`),
      );
      break;
    case 'authenticate-ack':
    case 'authenticate-nak':
      if (p.message.length) fields.push(quoted('message', p.message));
      break;
    case 'unknown':
      fields.push(...byteCount('dataLength', p.data, 'data'));
      break;
  }
  return { protocol: 'PAP', fields };
}

/** Keeps what key derivation needs from a Response that answers the last Challenge. */
function rememberResponse(
  session: PppSessionState,
  version: 1 | 2,
  ntResponse: Uint8Array,
  name: Uint8Array,
  peerChallenge?: Uint8Array,
): void {
  const c = session.challenge;
  if (!c) return;
  session.pendingMsChap = {
    version,
    authenticator: c.from,
    authenticatorChallenge: c.value,
    ntResponse: ntResponse.slice(),
    userName: name.slice(),
    ...(peerChallenge ? { peerChallenge: peerChallenge.slice() } : {}),
  };
}

/** Which MS-CHAP version a 49-byte Response is, from what the session agreed or, failing that, the Challenge size. */
function msChapVersion(session: PppSessionState): 1 | 2 | undefined {
  if (session.chapAlgorithm === ChapAlgorithm.MsChapV2) return 2;
  if (session.chapAlgorithm === ChapAlgorithm.MsChap) return 1;
  if (session.chapAlgorithm === ChapAlgorithm.Md5) return undefined;
  // RFC 2759 §3: v2 challenges are 16 octets; RFC 2433 §5: v1 challenges are 8.
  if (session.chapChallengeLength === MSCHAPV2_CHALLENGE_LENGTH) return 2;
  if (session.chapChallengeLength === 8) return 1;
  return undefined;
}

export function chapLayer(info: Uint8Array, session: PppSessionState, from: string): Layer {
  const p: ChapPacket = decodeChapPacket(info);
  const fields = headerFields(decodeCpPacket(info), CHAP_CODE_NAMES);
  const version = msChapVersion(session);
  const algo = session.chapAlgorithm;
  if (algo !== undefined) fields.push(kv('algorithm', algo, '', named(CHAP_ALGORITHM_NAMES, algo, 2)));
  else if (version)
    fields.push(
      kv(
        'algorithm',
        version === 2 ? 0x81 : 0x80,
        '',
        version === 2 ? 'MS-CHAPv2 (by challenge size)' : 'MS-CHAP (by challenge size)',
      ),
    );
  switch (p.kind) {
    case 'challenge':
      session.chapChallengeLength = p.value.length;
      session.challenge = { from, value: p.value.slice() };
      fields.push(kv('value', bytesHex(p.value, 64), 'challenge'));
      if (p.name.length) fields.push(quoted('name', p.name));
      break;
    case 'response':
      fields.push(quoted('name', p.name), chapResponseField(p, version, session));
      break;
    case 'success':
      // RFC 2759 §5 / RFC 2433 §6: the keys of this exchange are the ones MPPE will use.
      if (session.pendingMsChap) {
        session.msChap = session.pendingMsChap;
        session.pendingMsChap = undefined;
        session.decryptor = undefined;
      }
      return chapResultLayer(fields, p.message, info, version === 2 ? msChapV2SuccessFields : undefined);
    case 'failure':
      return chapResultLayer(fields, p.message, info, version ? msChapFailureFields : undefined);
    case 'unknown':
      fields.push(...byteCount('dataLength', p.data, 'data'));
      break;
  }
  return { protocol: 'CHAP', fields };
}

/** A CHAP Response Value: an MS-CHAP v1/v2 Response (49 bytes, RFC 2433 §5, RFC 2759 §4) or plain hex. */
function chapResponseField(
  response: ChapChallengeResponse,
  version: 1 | 2 | undefined,
  session: PppSessionState,
): Field {
  const { value, name } = response;
  if (version === 2 && value.length === 49) {
    const r = decodeMsChapV2Response(value);
    rememberResponse(session, 2, r.ntResponse, name, r.peerChallenge);
    return group('msChapV2Response', [
      kv('peerChallenge', bytesHex(r.peerChallenge), 'peer challenge'),
      kv('ntResponse', bytesHex(r.ntResponse), 'NT-Response'),
      kv('flags', r.flags, 'flags'),
    ]);
  }
  if (version === 1 && value.length === 49) {
    const r = decodeMsChapV1Response(value);
    rememberResponse(session, 1, r.ntResponse, name);
    return group('msChapV1Response', [
      kv('lmResponse', bytesHex(r.lmResponse), 'LM-Response'),
      kv('ntResponse', bytesHex(r.ntResponse), 'NT-Response'),
      kv('useNtResponse', r.useNtResponse, 'use NT'),
    ]);
  }
  return kv('value', bytesHex(value, 64), 'response');
}

/**
 * A CHAP Success or Failure. Its Message is shown as sent, or, for MS-CHAP,
 * read by `parse`; a Message that MS-CHAP cannot read makes the layer
 * malformed, with the text still shown.
 */
function chapResultLayer(
  fields: Field[],
  message: Uint8Array,
  info: Uint8Array,
  parse: ((message: Uint8Array) => Field[]) | undefined,
): Layer {
  if (parse) {
    try {
      fields.push(...parse(message));
    } catch (e) {
      return malformedLayer('CHAP', e, info, [...fields, quoted('message', message)]);
    }
  } else if (message.length) fields.push(quoted('message', message));
  return { protocol: 'CHAP', fields };
}

/** RFC 2759 §5: `S=<authenticator response> M=<message>`. */
function msChapV2SuccessFields(message: Uint8Array): Field[] {
  const s = parseMsChapV2Success(message);
  const fields = [kv('authenticatorResponse', bytesHex(s.authenticatorResponse), 'S')];
  if (s.message !== undefined) fields.push(quotedString('message', s.message, 'M'));
  return fields;
}

/** RFC 2433 §6 / RFC 2759 §6: `E=eeeeeeeeee R=r C=cccc... V=vvvvvvvvvv M=<msg>`. */
function msChapFailureFields(message: Uint8Array): Field[] {
  const f = parseMsChapFailure(message);
  const fields = [
    kv('error', f.error, 'E', named(MSCHAP_ERROR_NAMES, f.error)),
    kv('retry', f.retry, 'R', f.retry ? '1' : '0'),
  ];
  if (f.challenge) fields.push(kv('challenge', bytesHex(f.challenge), 'C'));
  if (f.version !== undefined) fields.push(kv('passwordChangeVersion', f.version, 'V'));
  if (f.message !== undefined) fields.push(quotedString('message', f.message, 'M'));
  return fields;
}
