/**
 * What the client changes on its host, behind one interface so that the
 * in-process tests can run the client without touching the machine:
 * {@link systemClientHost} does it with iproute2 (io/ip.ts) and files;
 * tests use a recording fake. Every change returns an {@link Undo}
 * (docs/architecture.md §4: nothing is left behind).
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import {
  addDefaultRoute,
  addHostRouteViaGateway,
  addLinkLocalAddress,
  addPointToPointAddress,
  addRoute,
  type IpOptions,
  routeMtu,
  setLinkUp,
  setMtu,
  type Undo,
  UndoStack,
} from '../io/ip.js';
import {
  type CommandRunner,
  chooseDnsBackend,
  type DnsProbe,
  resolvConfText,
  setInterfaceDns,
  systemDnsProbe,
  systemRunner,
} from './resolver.js';

export interface ClientHost {
  /** The MTU of the route to the server (Linux `dst_mtu`; the channel MTU is this minus the PPTP overhead). */
  pathMtu(server: string): Promise<number>;
  /** Pins `server/32` to the gateway in use now, so the tunnel's routes cannot capture it. */
  addServerRoute(server: string): Promise<Undo>;
  /** MTU, the point-to-point address pair (pppd `sifaddr`), link up. */
  configureInterface(ifname: string, local: string, remote: string, mtu: number): Promise<Undo>;
  /** A route for `cidr` into the interface. */
  addRoute(cidr: string, ifname: string): Promise<Undo>;
  /** All IPv4 into the interface (0.0.0.0/1 + 128.0.0.0/1; the old default stays, unused). */
  addDefaultRoute(ifname: string): Promise<Undo>;
  /** pppd `usepeerdns`: writes the peer's DNS servers to a resolv.conf-format file. */
  writeResolvConf(path: string, dns: readonly string[]): Promise<Undo>;
  /**
   * `usepeerdns` through systemd-resolved or resolvconf (client/resolver.ts);
   * undefined when the host has neither (the caller writes the file).
   */
  setPeerDns?(ifname: string, dns: readonly string[]): Promise<Undo | undefined>;
  /** IPV6CP up: the link-local pair from the interface identifiers (RFC 5072 §5). */
  addLinkLocal(ifname: string, localId: Uint8Array, peerId: Uint8Array): Promise<Undo>;
}

/** The default file of pppd `usepeerdns` (never /etc/resolv.conf itself). */
export const PPP_RESOLV_CONF = '/etc/ppp/resolv.conf';

export { resolvConfText };

/** The host's own stack, through `ip` (optionally inside a network namespace). */
export function systemClientHost(
  opts: IpOptions = {},
  dns: { probe: DnsProbe; run: CommandRunner } = { probe: systemDnsProbe, run: systemRunner },
): ClientHost {
  return {
    async setPeerDns(ifname, servers) {
      const backend = chooseDnsBackend(dns.probe, false);
      return backend === 'file' ? undefined : setInterfaceDns(backend, ifname, servers, dns.run);
    },
    pathMtu: (server) => routeMtu(server, opts),
    addServerRoute: (server) => addHostRouteViaGateway(server, opts),
    async configureInterface(ifname, local, remote, mtu) {
      const undo = new UndoStack();
      try {
        undo.push(await setMtu(ifname, mtu, opts));
        undo.push(await addPointToPointAddress(ifname, local, remote, opts));
        undo.push(await setLinkUp(ifname, opts));
      } catch (err) {
        await undo.undoAll().catch(() => {});
        throw err;
      }
      return { description: `${ifname} ${local} peer ${remote} mtu ${mtu}`, undo: () => undo.undoAll() };
    },
    addRoute: (cidr, ifname) => addRoute(cidr, { dev: ifname }, opts),
    addDefaultRoute: (ifname) => addDefaultRoute(ifname, opts),
    addLinkLocal: (ifname, localId, peerId) => addLinkLocalAddress(ifname, localId, peerId, opts),
    async writeResolvConf(path, dns) {
      const text = resolvConfText(dns);
      await writeFile(path, text, { mode: 0o644 });
      return {
        description: `${path} (${dns.join(' ')})`,
        async undo() {
          // Remove it only while it still holds what we wrote.
          const now = await readFile(path, 'utf8').catch(() => undefined);
          if (now === text) await rm(path, { force: true });
        },
      };
    },
  };
}
