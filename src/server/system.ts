/**
 * The server's environment on a real host: the real clock, `node:net`, the
 * native TUN and raw GRE socket, iproute2, the chap-secrets file and the
 * pppd-compatible hooks.
 */
import { readFileSync } from 'node:fs';
import { type Clock, realClock } from '../io/clock.js';
import { runHook } from '../io/hooks.js';
import { RawGreSocket } from '../io/raw-gre.js';
import { systemTcp } from '../io/tcp.js';
import { Tun } from '../io/tun.js';
import type { Logger } from '../wire/log.js';
import { parseSecrets, type SecretEntry } from './chap-secrets.js';
import { systemServerHost } from './host.js';
import type { ServerEnv } from './server.js';

/** Reads and parses a chap-secrets file (`@file` secrets allowed). Throws `SecretsFileError` naming the line. */
export function loadSecrets(path: string): SecretEntry[] {
  return parseSecrets(readFileSync(path, 'utf8'), {
    fileName: path,
    readSecretFile: (p) => readFileSync(p, 'utf8'),
  });
}

export interface SystemServerEnv extends ServerEnv {
  /** Re-reads the secrets file; on error keeps the old secrets and rethrows. */
  reloadSecrets(): void;
}

export function systemServerEnv(o: { log: Logger; secretsPath: string; clock?: Clock }): SystemServerEnv {
  const clock = o.clock ?? realClock;
  let secrets = loadSecrets(o.secretsPath);
  return {
    clock,
    log: o.log,
    tcp: systemTcp,
    host: systemServerHost(),
    openTun: (name) => Tun.open({ name }),
    openGre: (bindAddress) => RawGreSocket.open(bindAddress ? { bindAddress } : {}),
    secrets: () => secrets,
    reloadSecrets: () => {
      secrets = loadSecrets(o.secretsPath);
    },
    runHook: (script, name, ctx) => runHook(script, name, ctx, o.log),
  };
}
