/**
 * What the server changes on its host, behind one interface (the in-process
 * tests use a recording fake). Every change returns an {@link Undo}.
 *
 * Shared mode (the default, docs/client-server.md "Shared interface"): one
 * TUN carries the server's tunnel address as a /32, and each session adds
 * a host route `CLIENT/32 dev TUN src LOCAL mtu M` while it is up, so the
 * kernel sends exactly the live sessions' addresses into the TUN, with each
 * session's own MTU. Per-session mode: one TUN per session with the pppd
 * point-to-point pair `LOCAL peer CLIENT/32`.
 */
import {
  addLinkLocalAddress,
  addPointToPointAddress,
  IpError,
  type IpOptions,
  ip,
  setLinkUp,
  setMtu,
  type Undo,
  UndoStack,
} from '../io/ip.js';
import { IpBatch } from './ip-batch.js';

export interface ServerHost {
  /** Shared TUN: MTU, `LOCAL/32`, up. */
  configureSharedInterface(ifname: string, local: string, mtu: number): Promise<Undo>;
  /** Shared TUN: the route of one session's address. */
  addClientRoute(ifname: string, client: string, local: string, mtu: number): Promise<Undo>;
  /** Per-session TUN: MTU, `LOCAL peer CLIENT/32`, up. */
  configurePointToPoint(ifname: string, local: string, client: string, mtu: number): Promise<Undo>;
  /** Per-session TUN with IPV6CP: the link-local pair from the interface identifiers (RFC 5072 §5). */
  addLinkLocal(ifname: string, localId: Uint8Array, peerId: Uint8Array): Promise<Undo>;
  /** Frees what the host keeps (the `ip` batch process), after the last undo. */
  close?(): Promise<void>;
}

async function stack(steps: (() => Promise<Undo>)[], description: string): Promise<Undo> {
  const undo = new UndoStack();
  try {
    for (const s of steps) undo.push(await s());
  } catch (err) {
    await undo.undoAll().catch(() => {});
    throw err;
  }
  return { description, undo: () => undo.undoAll() };
}

/** `ip addr add ADDR/32 dev IF`; undo deletes it ("already gone" counts as done). */
async function addHostAddress(ifname: string, address: string, opts: IpOptions): Promise<Undo> {
  const spec = [`${address}/32`, 'dev', ifname];
  await ip(['-4', 'addr', 'add', ...spec], opts);
  let done = false;
  return {
    description: `address ${address}/32 on ${ifname}`,
    async undo() {
      if (done) return;
      try {
        await ip(['-4', 'addr', 'del', ...spec], opts);
      } catch (err) {
        if (!/Cannot find device|No such device|Cannot assign requested address|not found/i.test(String(err)))
          throw err;
      }
      done = true;
    },
  };
}

// What `ip route del` says when the route is already gone (with its interface, say).
const ROUTE_GONE = [/No such process/i, /Cannot find device/i, /No such device/i, /does not exist/i];

/**
 * A session's route through the long-lived `ip` batch process (one process
 * for all sessions: ip-batch.ts). Undo deletes it; "already gone" is done.
 */
async function addBatchedClientRoute(
  batch: IpBatch,
  ifname: string,
  client: string,
  local: string,
  mtu: number,
): Promise<Undo> {
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new RangeError(`MTU out of range: ${mtu}`);
  await batch.run(['route', 'add', `${client}/32`, 'dev', ifname, 'src', local, 'mtu', String(mtu)]);
  return new BatchedRoute(batch, ifname, client, local, mtu);
}

/**
 * The undo of {@link addBatchedClientRoute}. A class, its description made
 * when asked: every session keeps one for its whole life, and a closure, its
 * context and a description string each would be most of a kilobyte.
 */
class BatchedRoute implements Undo {
  private done = false;

  constructor(
    private readonly batch: IpBatch,
    private readonly ifname: string,
    private readonly client: string,
    private readonly local: string,
    private readonly mtu: number,
  ) {}

  get description(): string {
    return `route ${this.client}/32 dev ${this.ifname} src ${this.local} mtu ${this.mtu}`;
  }

  async undo(): Promise<void> {
    if (this.done) return;
    try {
      await this.batch.run(['route', 'del', `${this.client}/32`, 'dev', this.ifname]);
    } catch (err) {
      if (!(err instanceof IpError && ROUTE_GONE.some((re) => re.test(err.stderr)))) throw err;
    }
    this.done = true;
  }
}

/** The host's own stack, through `ip` (optionally inside a network namespace). */
export function systemServerHost(opts: IpOptions = {}): ServerHost {
  const batch = new IpBatch({ ...opts, globalArgs: ['-4'] });
  return {
    close: () => batch.close(),
    configureSharedInterface: (ifname, local, mtu) =>
      stack(
        [
          () => setMtu(ifname, mtu, opts),
          () => addHostAddress(ifname, local, opts),
          () => setLinkUp(ifname, opts),
        ],
        `${ifname} ${local}/32 mtu ${mtu}`,
      ),
    addClientRoute: (ifname, client, local, mtu) => addBatchedClientRoute(batch, ifname, client, local, mtu),
    configurePointToPoint: (ifname, local, client, mtu) =>
      stack(
        [
          () => setMtu(ifname, mtu, opts),
          () => addPointToPointAddress(ifname, local, client, opts),
          () => setLinkUp(ifname, opts),
        ],
        `${ifname} ${local} peer ${client} mtu ${mtu}`,
      ),
    addLinkLocal: (ifname, localId, peerId) => addLinkLocalAddress(ifname, localId, peerId, opts),
  };
}
