/**
 * The shape of the lab's JSON result file (`schema: pptp-ts/bench-lab/1`):
 * the settings, the machine, every contender with its version, the raw
 * figures of every round, and the summaries and target checks derived from
 * them (report.ts).
 */
import type { ContenderKind } from './contender.js';
import type { Measurements, Metric, ProcessRss } from './measure.js';
import type { LoadSample } from './proc.js';
import type { Summary } from './stats.js';

export const RESULT_SCHEMA = 'pptp-ts/bench-lab/1';

/** The settings a run used. */
export interface LabSettings {
  readonly rounds: number;
  readonly durationSec: number;
  readonly omitSec: number;
  readonly metrics: readonly Metric[];
  /** Inner MTU of every encapsulating tunnel. */
  readonly mtu: number;
  /** Offered UDP rate, bit/s; 0 = unlimited. */
  readonly udpRateBps: number;
  readonly pingCount: number;
  readonly pingIntervalSec: number;
  /** Others' CPU (percent of all CPUs) above which the lab refuses to measure. */
  readonly busyThresholdPct: number;
  /** True when `--allow-busy` let runs start on a busy machine. */
  readonly allowBusy: boolean;
}

/** The machine the figures come from. */
export interface MachineInfo {
  readonly cpuModel: string;
  readonly cpus: number;
  /** `uname -r` and `uname -v`. */
  readonly kernel: string;
  readonly kernelVersion: string;
  readonly os: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly iperf3: string;
  /** The pptp-ts checkout (`git describe --always --dirty`). */
  readonly commit: string;
}

export interface ContenderInfo {
  readonly id: string;
  readonly label: string;
  readonly kind: ContenderKind;
  readonly config: string;
  readonly version?: string;
  /** Why it did not run at all. */
  readonly skipped?: string;
}

/** One contender in one round. */
export interface RunRecord {
  readonly contender: string;
  readonly round: number;
  readonly startedAt: string;
  readonly status: 'ok' | 'failed';
  readonly error?: string;
  /** The idle check before the run. */
  readonly load: LoadSample;
  /** The idle check found others above the threshold (only with allowBusy). */
  readonly busy: boolean;
  /** Milliseconds from starting the contender to a tunnel that answers ping. */
  readonly upMs?: number;
  readonly measurements?: Omit<Measurements, 'rss'>;
  readonly rss?: readonly ProcessRss[];
  readonly notes?: readonly string[];
  /** What the contender's teardown left behind (the lab removed it). */
  readonly residue?: readonly string[];
}

/** Medians over the rounds for one contender, and ratios against the references. */
export interface ContenderSummary {
  readonly id: string;
  readonly label: string;
  readonly kind: ContenderKind;
  readonly status: 'ok' | 'partial' | 'failed' | 'skipped';
  readonly skipped?: string;
  readonly okRounds: number;
  readonly failedRounds: number;
  readonly tcp1Mbps?: Summary;
  readonly tcp1Retransmits?: Summary;
  readonly tcp4Mbps?: Summary;
  readonly tcp4Retransmits?: Summary;
  readonly udp1400Pps?: Summary;
  readonly udp1400LossPct?: Summary;
  readonly udp64Pps?: Summary;
  readonly udp64LossPct?: Summary;
  readonly pingAvgMs?: Summary;
  /** Tunnel processes' CPU during the TCP runs, percent of one core (both ends). */
  readonly cpuTcp1Pct?: Summary;
  readonly cpuTcp4Pct?: Summary;
  /** 1-minute load average before the run. */
  readonly loadBefore?: Summary;
  /** Resident memory of the tunnel's processes after the runs, KiB, per side. */
  readonly rssServerKb?: Summary;
  readonly rssClientKb?: Summary;
  /** Median ratios against OpenVPN cleartext and wireguard-go. */
  readonly ratios: {
    readonly tcp1VsOpenvpn?: number;
    readonly tcp1VsWireguardGo?: number;
    readonly tcp4VsOpenvpn?: number;
    readonly tcp4VsWireguardGo?: number;
    readonly udp1400VsOpenvpn?: number;
    readonly udp1400VsWireguardGo?: number;
  };
}

/** One benchmark target, judged on this run's medians. */
export interface TargetCheck {
  readonly subject: string;
  readonly target: string;
  /** The measured ratio. */
  readonly value?: number;
  /** The ratio needed. */
  readonly required: number;
  readonly status: 'met' | 'not met' | 'n/a';
  /** Why it could not be judged. */
  readonly why?: string;
}

export interface LabResult {
  readonly schema: typeof RESULT_SCHEMA;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly settings: LabSettings;
  readonly machine: MachineInfo;
  readonly contenders: readonly ContenderInfo[];
  readonly runs: readonly RunRecord[];
  readonly summary: readonly ContenderSummary[];
  readonly targets: readonly TargetCheck[];
  /** Runs that started while others were above the threshold (allowBusy). */
  readonly busyRuns: number;
  /** The most CPU others used in any idle check, percent of all CPUs. */
  readonly maxOthersPct: number;
  /** No run failed. */
  readonly ok: boolean;
  /** Where the result was written, when it was. */
  files?: { json: string; markdown: string; charts?: string[] };
}
