/**
 * The steps that set a client connection attempt up before the control
 * connection runs, each under the attempt's one AbortSignal:
 *
 * ```
 *  resolveServer ─▶ routeMtu ─▶ connectTcp ─▶ openTunnel (GRE endpoint, interface)
 * ```
 *
 * A step that waits gives up as soon as the signal aborts (it rejects with
 * the signal's reason); what it makes after that (a TCP connection that
 * completes late) it closes itself. What a step made before the abort is
 * handed to the caller at once, whose single teardown releases it. A step
 * that fails throws a {@link ClientFailure} with its exit code and reason.
 */
import { setupErrorText } from '../io/os-errors.js';
import { plainIpv4, type TcpSocket } from '../io/tcp.js';
import type { TunDevice } from '../io/types.js';
import { parseIpv4 } from '../wire/bytes.js';
import { ExitCode } from './exit-codes.js';
import type { ClientEnv, GreLease } from './options.js';

/** Thrown by a step to end the attempt with this outcome. */
export class ClientFailure extends Error {
  constructor(
    readonly code: ExitCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * `p`'s value, unless `signal` aborts first: then rejects with the
 * signal's reason, and a value `p` still delivers goes to `dispose`.
 */
export function unlessAborted<T>(
  signal: AbortSignal,
  p: Promise<T>,
  dispose?: (late: T) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        if (signal.aborted) dispose?.(v);
        else resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err); // ignored when the abort came first
      },
    );
  });
}

/** Step 1: the server's IPv4 address; a name is resolved when the environment can. */
export async function resolveServer(name: string, env: ClientEnv, signal: AbortSignal): Promise<string> {
  if (parseIpv4(name) !== undefined) return name;
  if (!env.resolve) throw new ClientFailure(ExitCode.ConnectFailed, `${name} is not an IPv4 address`);
  try {
    return await unlessAborted(signal, env.resolve(name));
  } catch (err) {
    if (signal.aborted) throw err;
    throw new ClientFailure(ExitCode.ConnectFailed, `cannot resolve ${name}: ${(err as Error).message}`);
  }
}

/** Step 2: the route MTU towards the server (and whether there is a route at all). */
export async function routeMtu(server: string, env: ClientEnv, signal: AbortSignal): Promise<number> {
  try {
    return await unlessAborted(signal, env.host.pathMtu(server));
  } catch (err) {
    if (signal.aborted) throw err;
    throw new ClientFailure(ExitCode.ConnectFailed, `no route to ${server}: ${(err as Error).message}`);
  }
}

/**
 * Step 3: the TCP connection to the server (RFC 2637 §2: port 1723).
 * `made` gets the socket as soon as it exists, before it is checked, so
 * the caller's teardown closes it whatever happens next.
 */
export async function connectTcp(
  server: string,
  port: number,
  how: { readonly timeoutMs: number; readonly localAddress?: string | undefined },
  env: ClientEnv,
  signal: AbortSignal,
  made: (socket: TcpSocket) => void,
): Promise<{ readonly socket: TcpSocket; readonly localAddress: string }> {
  const bind = how.localAddress;
  let socket: TcpSocket;
  try {
    socket = await unlessAborted(
      signal,
      env.tcp.connect(server, port, { timeoutMs: how.timeoutMs, ...(bind ? { localAddress: bind } : {}) }),
      (late) => late.destroy(),
    );
  } catch (err) {
    if (signal.aborted) throw err;
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    const what =
      code === 'ECONNREFUSED'
        ? `connection refused by ${server}:${port}`
        : code === 'ETIMEDOUT'
          ? `no answer from ${server}:${port} (timed out)`
          : bind && code === 'EADDRNOTAVAIL'
            ? `cannot connect from ${bind}: not an address of this host`
            : `cannot reach ${server}:${port}${bind ? ` from ${bind}` : ''}: ${(err as Error).message}`;
    throw new ClientFailure(ExitCode.ConnectFailed, what);
  }
  made(socket);
  socket.on('error', () => {}); // the control driver reports errors
  const localAddress = plainIpv4(socket.localAddress);
  if (!localAddress || parseIpv4(localAddress) === undefined) {
    throw new ClientFailure(ExitCode.ConnectFailed, `the connection to ${server} is not over IPv4`);
  }
  if (bind && localAddress !== bind) {
    throw new ClientFailure(
      ExitCode.ConnectFailed,
      `the connection to ${server} comes from ${localAddress}, not ${bind}`,
    );
  }
  return { socket, localAddress };
}

/**
 * Step 4: the GRE endpoint and the network interface (local set-up: root
 * needed). `made` gets each as soon as it exists; then the signal is
 * checked, as the attempt may have ended meanwhile.
 */
export function openTunnel(
  localAddress: string,
  ifname: string,
  env: ClientEnv,
  signal: AbortSignal,
  made: (part: { readonly gre: GreLease } | { readonly tun: TunDevice }) => void,
): { readonly gre: GreLease; readonly tun: TunDevice } {
  let gre: GreLease;
  let tun: TunDevice;
  try {
    gre = env.openGre(localAddress);
    made({ gre });
    gre.endpoint.start();
    tun = env.openTun(ifname);
    made({ tun });
  } catch (err) {
    throw new ClientFailure(ExitCode.Setup, `cannot set up the tunnel: ${setupErrorText(err)}`);
  }
  signal.throwIfAborted();
  return { gre, tun };
}
