/**
 * The PPP unit's settings resolved once from its options (pppd's names and
 * defaults, src/ppp/unit-types.ts): the LCP/NCP automaton timers, the
 * authentication methods demanded and allowed, our own credentials, and the
 * MPPE strengths offered.
 */

import type { AuthMethod } from '../wire/lcp.js';
import type { PeerCredentials } from './auth/index.js';
import type { MppeKeyBits } from './ccp.js';
import { DEFAULT_FSM_CONFIG, type FsmConfig } from './fsm.js';
import { authListsFrom } from './lcp.js';
import type { PppUnitOptions } from './unit-types.js';

/** Resolved settings. `mppeKeyBits` and `mppeRequired` may narrow once the peer has authenticated. */
export interface UnitSettings {
  fsm: FsmConfig;
  authenticate: readonly AuthMethod[];
  allowAuth: readonly AuthMethod[];
  credentials: PeerCredentials | undefined;
  mppeKeyBits: readonly MppeKeyBits[];
  mppeRequired: boolean;
  mppeStateful: boolean;
  ipv4: boolean;
  ipv6: boolean;
  queueLimit: number;
}

/**
 * Values that many units share, each made once: a server resolves the same
 * settings for every session, and a copy of each list and of the automaton
 * timers per session would be some 0.2 KiB each. Frozen, so that no unit
 * can change another's. Bounded: the inputs are a handful of flags and
 * numbers from the configuration, and the table is emptied when full.
 */
const shared = new Map<string, unknown>();
const SHARED_MAX = 256;

/** The one frozen copy of `make()`'s value for `key`. */
function sharedValue<T>(key: string, make: () => T): T {
  let v = shared.get(key) as T | undefined;
  if (v === undefined) {
    if (shared.size >= SHARED_MAX) shared.clear();
    v = Object.freeze(make());
    shared.set(key, v);
  }
  return v;
}

/** The shared frozen list equal to `list` (MPPE key lengths or authentication methods). */
export function sharedList<T extends string | number>(kind: string, list: readonly T[]): readonly T[] {
  return sharedValue(`${kind}:${list.join(',')}`, () => [...list]);
}

/** Reads the options once; throws a TypeError for a contradiction (require-* without a lookup). */
export function resolveUnitSettings(o: PppUnitOptions): UnitSettings {
  const fsm: FsmConfig = sharedValue(
    `fsm:${o.lcpRestart},${o.lcpMaxConfigure},${o.lcpMaxTerminate},${o.lcpMaxFailure},${o.passive}`,
    () => ({
      ...DEFAULT_FSM_CONFIG,
      ...(o.lcpRestart !== undefined ? { restartMs: o.lcpRestart * 1000 } : {}),
      ...(o.lcpMaxConfigure !== undefined ? { maxConfigure: o.lcpMaxConfigure } : {}),
      ...(o.lcpMaxTerminate !== undefined ? { maxTerminate: o.lcpMaxTerminate } : {}),
      ...(o.lcpMaxFailure !== undefined ? { maxFailure: o.lcpMaxFailure } : {}),
      ...(o.passive !== undefined ? { passive: o.passive } : {}),
    }),
  );
  const anyRequire = o.requirePap || o.requireChap || o.requireMschap || o.requireMschapV2;
  const lists = authListsFrom({
    requirePap: o.requirePap,
    requireChap: o.requireChap,
    requireMschap: o.requireMschap,
    requireMschapV2: o.requireMschapV2 || (!anyRequire && o.lookup !== undefined),
    refusePap: o.refusePap ?? true,
    refuseChap: o.refuseChap ?? true,
    refuseMschap: o.refuseMschap ?? true,
    refuseMschapV2: o.refuseMschapV2 ?? false,
  });
  if (lists.authenticate.length > 0 && !o.lookup) {
    throw new TypeError('PppUnit: require-* needs a credentials lookup (lookup)');
  }
  let credentials: PeerCredentials | undefined;
  let allowAuth = lists.allowAuth;
  if (o.user !== undefined && (o.password !== undefined || o.ntHash !== undefined)) {
    credentials = {
      name: o.user,
      secret: o.password !== undefined ? { password: o.password } : { ntHash: o.ntHash! },
    };
    // An NT hash cannot answer PAP or CHAP-MD5.
    if (o.password === undefined) allowAuth = allowAuth.filter((m) => m === 'mschap' || m === 'mschap-v2');
  } else {
    // pppd: without a secret we cannot authenticate ourselves, so we refuse to.
    allowAuth = [];
  }
  let mppeKeyBits: MppeKeyBits[] = [];
  let mppeRequired = false;
  if (!o.nomppe) {
    const explicit: MppeKeyBits[] = [];
    if (o.requireMppe40) explicit.push(40);
    if (o.requireMppe56) explicit.push(56);
    if (o.requireMppe128) explicit.push(128);
    const excluded = (k: MppeKeyBits) =>
      (k === 40 && o.nomppe40) || (k === 56 && o.nomppe56) || (k === 128 && o.nomppe128);
    if (explicit.length) {
      mppeKeyBits = explicit;
      mppeRequired = true;
    } else if (o.requireMppe !== undefined) {
      mppeKeyBits = ([40, 56, 128] as MppeKeyBits[]).filter((k) => !excluded(k));
      mppeRequired = o.requireMppe;
    } else {
      mppeKeyBits = excluded(128) ? [] : [128];
      mppeRequired = mppeKeyBits.length > 0;
    }
  }
  return {
    fsm,
    authenticate: sharedList('auth', lists.authenticate),
    allowAuth: sharedList('auth', allowAuth),
    credentials,
    mppeKeyBits: sharedList('mppe', mppeKeyBits),
    mppeRequired,
    mppeStateful: o.mppeStateful ?? false,
    ipv4: !o.noip,
    ipv6: o.ipv6 ?? false,
    queueLimit: o.queueLimit ?? 32,
  };
}
