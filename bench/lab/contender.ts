/**
 * The contender interface: what the lab needs from each tunnel it measures.
 * A contender brings its tunnel up between the lab's two namespaces and
 * returns a {@link Tunnel} that says where to send traffic, which devices
 * must carry it (the lab checks their counters, so no figure can be a
 * bypass), which processes do the work (for CPU % and RSS), and how to take
 * it all down again.
 *
 * Adding a contender is one module in bench/lab/contenders/ and one line in
 * contenders/index.ts.
 */
import type { Lab } from './netns.js';

/** How a contender is judged in the report. */
export type ContenderKind =
  /** The underlay itself: the ceiling. */
  | 'limit'
  /** Encapsulation done by the kernel. */
  | 'kernel'
  /** A userspace tunnel we compare against. */
  | 'userspace'
  /** pptp-ts itself: the targets are judged on these. */
  | 'subject';

/** The addresses and MTU the lab hands a contender. */
export interface TunnelPlan {
  /** Tunnel address of the server end: iperf3 and ping target it. */
  readonly serverAddress: string;
  /** Tunnel address of the client end. */
  readonly clientAddress: string;
  /** Prefix length of the tunnel subnet. */
  readonly prefixLength: number;
  /** The tunnel subnet in CIDR notation (`198.19.5.0/24`). */
  readonly subnet: string;
  /** MTU of the tunnel interface (the same for every encapsulating contender). */
  readonly mtu: number;
  /** A short string unique to this run (digits), for names that live outside the namespaces. */
  readonly unique: string;
  /** How long bringing the tunnel up may take. */
  readonly upTimeoutMs: number;
}

/** A process that carries a tunnel. */
export interface TunnelProcess {
  readonly pid: number;
  readonly side: 'server' | 'client';
  /** e.g. `openvpn`. */
  readonly name: string;
}

/** A tunnel that is up and passing traffic between the two namespaces. */
export interface Tunnel {
  /** The address traffic is sent to (in the server namespace). */
  readonly serverAddress: string;
  readonly clientAddress: string;
  /** The tunnel's interface in the server namespace; its counters must show the traffic. */
  readonly serverDevice: string;
  /** The tunnel's interface in the client namespace. */
  readonly clientDevice: string;
  /** The processes doing the work, both ends (empty for kernel tunnels). CPU % and RSS count these and their children. */
  readonly processes: readonly TunnelProcess[];
  /** Free-form lines worth keeping in the result (negotiated options, warnings). */
  readonly notes?: readonly string[];
  /** Takes the tunnel down and removes everything the contender made. */
  down(): Promise<void>;
}

/** One tunnel implementation under test. */
export interface Contender {
  /** Stable identifier used on the command line and in the JSON (`openvpn`). */
  readonly id: string;
  /** Label for the tables (`OpenVPN 2.6 cleartext`). */
  readonly label: string;
  readonly kind: ContenderKind;
  /** One line on how it is configured, for the report. */
  readonly config: string;
  /** Why it cannot run here (missing binary, missing kernel feature), or undefined when it can. */
  unavailable(lab: Lab): Promise<string | undefined>;
  /** Version string(s) of the software involved. */
  version(lab: Lab): Promise<string>;
  /** Brings the tunnel up. On failure it must remove what it made before throwing. */
  up(lab: Lab, plan: TunnelPlan): Promise<Tunnel>;
  /**
   * Optional: checks, once the tunnel answers ping, that it is what the
   * label says (e.g. that MPPE really encrypts what crosses the wire).
   * Returns lines for the result's notes; throws when the check fails, and
   * the run then fails instead of posting a figure.
   */
  verify?(lab: Lab, tunnel: Tunnel): Promise<readonly string[]>;
}
