/**
 * The client's environment on a real host: the real clock, `node:net`, the
 * native TUN and raw GRE socket, iproute2, the system resolver and the
 * pppd-compatible hooks.
 */
import { lookup } from 'node:dns/promises';
import { type Clock, realClock } from '../io/clock.js';
import { runHook } from '../io/hooks.js';
import type { IpOptions } from '../io/ip.js';
import { RawGreSocket } from '../io/raw-gre.js';
import { systemTcp } from '../io/tcp.js';
import { openTunPreferringOffload } from '../io/tun.js';
import type { Logger } from '../log/logger.js';
import { GreEndpoint } from '../session/gre-endpoint.js';
import { systemClientHost } from './client-host.js';
import type { ClientEnv } from './options.js';

/**
 * SO_RCVBUF/SO_SNDBUF of the client's GRE socket (capped by the kernel at
 * net.core.rmem_max/wmem_max). The peer may have up to its window of
 * packets in flight to us (pptp-ts advertises 1024: ~1.5 MB); the default
 * receive buffer (~200 KiB) would drop them whenever the event loop is
 * late by a millisecond.
 */
export const CLIENT_GRE_SOCKET_BUFFER_BYTES = 4 << 20;

export interface SystemClientEnvOptions {
  readonly log: Logger;
  /** Status lines (default: stdout). */
  readonly print?: (line: string) => void;
  readonly clock?: Clock;
  /** Run `ip` inside this namespace (tests, the demo); the process itself stays where it is. */
  readonly ip?: IpOptions;
}

export function systemClientEnv(o: SystemClientEnvOptions): ClientEnv {
  const clock = o.clock ?? realClock;
  const log = o.log;
  return {
    clock,
    log,
    tcp: systemTcp,
    host: systemClientHost(o.ip),
    openTun: (name) =>
      openTunPreferringOffload({ name, ...(o.ip?.netns ? { netns: o.ip.netns } : {}) }, (err) =>
        log.log('warn', 'TUN offloads unavailable, using a plain TUN', { error: err.message }),
      ),
    openGre: (localAddress) => {
      const socket = RawGreSocket.open({
        bindAddress: localAddress,
        rcvbufBytes: CLIENT_GRE_SOCKET_BUFFER_BYTES,
        sndbufBytes: CLIENT_GRE_SOCKET_BUFFER_BYTES,
        pptpFilter: true,
      });
      const endpoint = new GreEndpoint(socket, clock, log.child('gre'));
      return {
        endpoint,
        release: () => endpoint.close(),
        restrictToCallId: (callId) => socket.restrictToCallId(callId),
      };
    },
    resolve: async (name) => (await lookup(name, { family: 4 })).address,
    runHook: (script, name, ctx) => runHook(script, name, ctx, log),
    print: o.print ?? ((line) => process.stdout.write(`${line}\n`)),
  };
}
