/**
 * The server's environment on a real host: the real clock, `node:net`, the
 * native TUN and raw GRE socket, iproute2, the chap-secrets file and the
 * pppd-compatible hooks.
 */
import { readFileSync } from 'node:fs';
import { type Clock, realClock } from '../io/clock.js';
import { runHook } from '../io/hooks.js';
import { RadiusUdpDriver } from '../io/radius-udp.js';
import { RawGreSocket } from '../io/raw-gre.js';
import { systemTcp } from '../io/tcp.js';
import { openTunPreferringOffload } from '../io/tun.js';
import type { Logger } from '../log/logger.js';
import { BatchClock } from '../session/timers.js';
import { parseSecrets, type SecretEntry } from './chap-secrets.js';
import { DEFAULT_GRE_SOCKET_BUFFER_BYTES } from './config.js';
import { systemServerHost } from './server-host.js';
import type { ServerEnv } from './server-types.js';

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

/** `secretsPath` may be left out when {@link ServerEnv.callAuth} authenticates instead (no secrets then). */
export function systemServerEnv(o: { log: Logger; secretsPath?: string; clock?: Clock }): SystemServerEnv {
  // One scheduler for every timer of every session (src/session/timers.ts BatchClock).
  const clock = o.clock ?? new BatchClock(realClock);
  const load = () => (o.secretsPath === undefined ? [] : loadSecrets(o.secretsPath));
  let secrets = load();
  return {
    clock,
    log: o.log,
    tcp: systemTcp,
    host: systemServerHost(),
    openTun: (name) =>
      openTunPreferringOffload({ name }, (err) =>
        o.log.log('warn', 'TUN offloads unavailable, using a plain TUN', { error: err.message }),
      ),
    openGre: (bindAddress, bufferBytes = DEFAULT_GRE_SOCKET_BUFFER_BYTES) =>
      RawGreSocket.open({
        ...(bindAddress ? { bindAddress } : {}),
        rcvbufBytes: bufferBytes,
        sndbufBytes: bufferBytes,
        pptpFilter: true,
      }),
    secrets: () => secrets,
    reloadSecrets: () => {
      secrets = load();
    },
    runHook: (script, name, ctx) => runHook(script, name, ctx, o.log),
    // One connected UDP socket per RADIUS server (src/io/radius-udp.ts), on the server's clock.
    openRadius: (auth, servers) =>
      RadiusUdpDriver.open(auth.engine, servers, auth.onAction, {
        clock,
        onError: (message, fields) => o.log.log('debug', message, fields),
      }),
  };
}
