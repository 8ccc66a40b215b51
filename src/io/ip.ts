/**
 * Host configuration through iproute2 (`ip`), run with `execFile` (an argv,
 * never a shell string) and a time-out: interface MTU and up/down,
 * point-to-point addresses, routes, and route look-ups (the gateway towards
 * the server, the route MTU that `pptp_connect` uses for the channel MTU).
 *
 * Every change returns an {@link Undo}, so the caller can always put the host
 * back (docs/architecture.md §4: the client leaves no route, address or interface
 * behind). Undoing is idempotent and treats "already gone" (the interface was
 * removed when the TUN closed, the route went with it) as success. Collect
 * them in an {@link UndoStack} and `undoAll()` on the way out.
 *
 * Every function takes {@link IpOptions}; `netns` runs the command inside a
 * network namespace (`ip -n NAME`), which the demo and the tests use.
 */
import { execFile } from 'node:child_process';
import { linkLocalAddress } from '../wire/ipv6cp.js';

export interface IpOptions {
  /** Run inside this network namespace (`ip -n NAME`). */
  netns?: string;
  /** The `ip` binary (default: `ip` on PATH). */
  ipPath?: string;
  /** Time-out for one command (default 10 s). */
  timeoutMs?: number;
}

/** `ip` exited non-zero (or did not start, or timed out). */
export class IpError extends Error {
  override readonly name = 'IpError';
  constructor(
    readonly args: readonly string[],
    readonly stderr: string,
    readonly exitCode: number | string | null,
  ) {
    super(`ip ${args.join(' ')}: ${stderr.trim() || `exit ${exitCode}`}`);
  }
}

/** A change that can be reverted. */
export interface Undo {
  /** What the change was, e.g. `route 0.0.0.0/1 dev pptp0` (for logs). */
  readonly description: string;
  /** Reverts the change. Idempotent; "already gone" counts as done. */
  undo(): Promise<void>;
}

/** Runs `ip [-n NETNS] ARGS...` and returns its stdout. */
export function ip(args: readonly string[], opts: IpOptions = {}): Promise<string> {
  const argv = opts.netns ? ['-n', opts.netns, ...args] : [...args];
  return new Promise((resolve, reject) => {
    execFile(
      opts.ipPath ?? 'ip',
      argv,
      { timeout: opts.timeoutMs ?? 10_000, maxBuffer: 4 << 20, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err) {
          const e = err as NodeJS.ErrnoException & { code?: number | string };
          reject(new IpError(argv, stderr || e.message, e.code ?? null));
        } else {
          resolve(stdout);
        }
      },
    );
  });
}

/** Runs `ip -j ...` and parses the JSON. */
async function ipJson<T>(args: readonly string[], opts: IpOptions): Promise<T> {
  const out = await ip(['-j', ...args], opts);
  return JSON.parse(out.trim() || '[]') as T;
}

// The errors that mean "it is already the way undo wants it".
const GONE = [
  /Cannot find device/i,
  /No such device/i,
  /No such process/i, // route del of a missing route (ESRCH)
  /Address not found/i,
  /Cannot assign requested address/i, // addr del of a missing address (EADDRNOTAVAIL)
  /does not exist/i,
];

function undoable(description: string, revert: readonly string[], opts: IpOptions): Undo {
  let done = false;
  return {
    description,
    async undo() {
      if (done) return;
      try {
        await ip(revert, opts);
      } catch (err) {
        if (!(err instanceof IpError && GONE.some((re) => re.test(err.stderr)))) throw err;
      }
      done = true;
    },
  };
}

const noop = (description: string): Undo => ({ description, undo: async () => {} });

/** Reverts changes in the reverse order they were made. */
export class UndoStack {
  private readonly stack: Undo[] = [];

  push(u: Undo): Undo {
    this.stack.push(u);
    return u;
  }

  get size(): number {
    return this.stack.length;
  }

  /** Undoes everything, newest first; goes on past failures and throws an AggregateError at the end if any failed. */
  async undoAll(): Promise<void> {
    const errors: unknown[] = [];
    while (this.stack.length > 0) {
      const u = this.stack.pop()!;
      try {
        await u.undo();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, `${errors.length} undo step(s) failed`);
  }
}

/** What `ip -j link show` says about an interface. */
export interface LinkInfo {
  ifname: string;
  mtu: number;
  flags: string[];
  /** Administratively up (IFF_UP). */
  up: boolean;
}

export async function linkInfo(ifname: string, opts: IpOptions = {}): Promise<LinkInfo> {
  const [l] = await ipJson<{ ifname: string; mtu: number; flags?: string[] }[]>(
    ['link', 'show', 'dev', ifname],
    opts,
  );
  if (!l) throw new IpError(['link', 'show', 'dev', ifname], 'no such interface', null);
  const flags = l.flags ?? [];
  return { ifname: l.ifname, mtu: l.mtu, flags, up: flags.includes('UP') };
}

/** Sets the interface MTU; undo restores the previous one. */
export async function setMtu(ifname: string, mtu: number, opts: IpOptions = {}): Promise<Undo> {
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new RangeError(`MTU out of range: ${mtu}`);
  const old = (await linkInfo(ifname, opts)).mtu;
  await ip(['link', 'set', 'dev', ifname, 'mtu', String(mtu)], opts);
  return undoable(`mtu ${mtu} on ${ifname}`, ['link', 'set', 'dev', ifname, 'mtu', String(old)], opts);
}

/** Brings the interface up; undo takes it down again. */
export async function setLinkUp(ifname: string, opts: IpOptions = {}): Promise<Undo> {
  await ip(['link', 'set', 'dev', ifname, 'up'], opts);
  return undoable(`${ifname} up`, ['link', 'set', 'dev', ifname, 'down'], opts);
}

/** Takes the interface down; undo brings it up. */
export async function setLinkDown(ifname: string, opts: IpOptions = {}): Promise<Undo> {
  await ip(['link', 'set', 'dev', ifname, 'down'], opts);
  return undoable(`${ifname} down`, ['link', 'set', 'dev', ifname, 'up'], opts);
}

const IPV4_RE = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

function checkIpv4(a: string, what: string): void {
  if (!IPV4_RE.test(a)) throw new TypeError(`${what} is not an IPv4 address: ${a}`);
}

/**
 * Adds the IPCP-negotiated pair as a point-to-point address, as pppd's
 * `sifaddr` does: `ip addr add LOCAL peer PEER/32 dev IF` (RFC 1332 §3.3).
 * Undo deletes it.
 */
export async function addPointToPointAddress(
  ifname: string,
  local: string,
  peer: string,
  opts: IpOptions = {},
): Promise<Undo> {
  checkIpv4(local, 'local address');
  checkIpv4(peer, 'peer address');
  const spec = [local, 'peer', `${peer}/32`, 'dev', ifname];
  await ip(['-4', 'addr', 'add', ...spec], opts);
  return undoable(`address ${local} peer ${peer} on ${ifname}`, ['-4', 'addr', 'del', ...spec], opts);
}

/**
 * Adds the IPV6CP link-local address (RFC 5072 §5: the address is formed
 * from the negotiated interface identifier), with the peer's as the other
 * end when known. Undo deletes it.
 */
export async function addLinkLocalAddress(
  ifname: string,
  localId: Uint8Array,
  peerId: Uint8Array | undefined,
  opts: IpOptions = {},
): Promise<Undo> {
  const local = linkLocalAddress(localId);
  const spec = peerId
    ? [local, 'peer', `${linkLocalAddress(peerId)}/128`, 'dev', ifname]
    : [`${local}/64`, 'dev', ifname];
  await ip(['-6', 'addr', 'add', ...spec], opts);
  return undoable(`address ${local} on ${ifname}`, ['-6', 'addr', 'del', ...spec], opts);
}

/** Where a route sends traffic. */
export interface RouteTarget {
  /** Out of this interface. */
  dev?: string;
  /** Through this gateway. */
  via?: string;
  /** Preferred source address. */
  src?: string;
  metric?: number;
  /** A route MTU (the `mtu` metric). */
  mtu?: number;
}

function routeSpec(dest: string, t: RouteTarget): string[] {
  if (!t.dev && !t.via) throw new TypeError('a route needs dev or via');
  const spec = [dest];
  if (t.via) spec.push('via', t.via);
  if (t.dev) spec.push('dev', t.dev);
  if (t.src) spec.push('src', t.src);
  if (t.metric !== undefined) spec.push('metric', String(t.metric));
  if (t.mtu !== undefined) spec.push('mtu', String(t.mtu));
  return spec;
}

/**
 * Adds a route to `dest` (a CIDR, a bare address for a host route, or
 * `default`). Undo deletes exactly that route. Fails if an identical route
 * exists (it would not be ours to delete).
 */
export async function addRoute(dest: string, target: RouteTarget, opts: IpOptions = {}): Promise<Undo> {
  const family = dest.includes(':') ? '-6' : '-4';
  const spec = routeSpec(dest, target);
  await ip([family, 'route', 'add', ...spec], opts);
  // Delete by what identifies the route (destination, next hop, device, metric).
  const key = routeSpec(dest, { dev: target.dev, via: target.via, metric: target.metric });
  return undoable(`route ${spec.join(' ')}`, [family, 'route', 'del', ...key], opts);
}

/**
 * Sends all IPv4 traffic into `ifname` without touching the existing
 * default route: two routes, 0.0.0.0/1 and 128.0.0.0/1, which are more
 * specific than `default` and so win (OpenVPN's def1). Removing them (undo)
 * brings the old default back into force. Add the host route to the server
 * first ({@link addHostRouteViaGateway}) or the tunnel would carry itself.
 */
export async function addDefaultRoute(ifname: string, opts: IpOptions = {}): Promise<Undo> {
  const lower = await addRoute('0.0.0.0/1', { dev: ifname }, opts);
  let upper: Undo;
  try {
    upper = await addRoute('128.0.0.0/1', { dev: ifname }, opts);
  } catch (err) {
    await lower.undo();
    throw err;
  }
  return {
    description: `default route (0.0.0.0/1 + 128.0.0.0/1) dev ${ifname}`,
    async undo() {
      await upper.undo();
      await lower.undo();
    },
  };
}

/** The answer of `ip route get`: how the kernel would send to an address now. */
export interface RouteInfo {
  dst: string;
  /** The next hop, when the destination is not directly connected. */
  gateway?: string;
  dev: string;
  /** The source address the kernel would pick. */
  prefsrc?: string;
  /** The route's MTU metric, or the learned path MTU, when set. */
  mtu?: number;
}

export async function routeGet(address: string, opts: IpOptions = {}): Promise<RouteInfo> {
  const [r] = await ipJson<
    {
      dst: string;
      gateway?: string;
      dev: string;
      prefsrc?: string;
      metrics?: { mtu?: number }[];
      cache?: unknown[];
    }[]
  >(['route', 'get', address], opts);
  if (!r) throw new IpError(['route', 'get', address], 'no route', null);
  const mtu = r.metrics?.find((m) => typeof m.mtu === 'number')?.mtu;
  return {
    dst: r.dst,
    dev: r.dev,
    ...(r.gateway ? { gateway: r.gateway } : {}),
    ...(r.prefsrc ? { prefsrc: r.prefsrc } : {}),
    ...(mtu !== undefined ? { mtu } : {}),
  };
}

/**
 * The MTU towards `address` as `pptp_connect` takes it (`dst_mtu` of the
 * route): the route's MTU metric or learned path MTU if any, else the MTU
 * of the interface the route leaves by. The PPTP channel MTU is this minus
 * the outer IPv4 + GRE + PPP overhead.
 */
export async function routeMtu(address: string, opts: IpOptions = {}): Promise<number> {
  const r = await routeGet(address, opts);
  if (r.mtu !== undefined) return r.mtu;
  return (await linkInfo(r.dev, opts)).mtu;
}

/**
 * Pins the route to the PPTP server before the tunnel takes over the
 * default route: a host route `SERVER/32` via the gateway (and interface)
 * the kernel uses for it now, or straight out of the interface when the
 * server is on a connected network. If an identical route already exists,
 * it is left alone and the undo does nothing.
 */
export async function addHostRouteViaGateway(server: string, opts: IpOptions = {}): Promise<Undo> {
  checkIpv4(server, 'server address');
  const r = await routeGet(server, opts);
  const target: RouteTarget = r.gateway ? { via: r.gateway, dev: r.dev } : { dev: r.dev };
  try {
    return await addRoute(`${server}/32`, target, opts);
  } catch (err) {
    if (err instanceof IpError && /File exists/i.test(err.stderr))
      return noop(`host route to ${server} (existed)`);
    throw err;
  }
}
