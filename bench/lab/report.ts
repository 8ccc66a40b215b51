/**
 * From raw rounds to what a reader wants: per-contender medians with their
 * min–max, ratios against OpenVPN cleartext and wireguard-go (the targets
 * are phrased that way), the target checks, and the markdown tables.
 * Pure functions over the result types, so the tests can check every figure
 * on hand-made rounds.
 */
import type { Metric } from './measure.js';
import type { ContenderInfo, ContenderSummary, LabResult, RunRecord, TargetCheck } from './result.js';
import { ratio, type Summary, summarize } from './stats.js';

/** The reference contenders the ratios are taken against. */
export const OPENVPN = 'openvpn';
export const WIREGUARD_GO = 'wireguard-go';

/** Per-contender medians and ratios over all its successful rounds. */
export function summarizeRuns(
  contenders: readonly ContenderInfo[],
  runs: readonly RunRecord[],
): ContenderSummary[] {
  const base = contenders.map((c) => {
    const mine = runs.filter((r) => r.contender === c.id);
    const ok = mine.filter((r) => r.status === 'ok');
    const m = (f: (r: RunRecord) => number | undefined | null): Summary | undefined => summarize(ok.map(f));
    const rssSide = (side: 'server' | 'client') =>
      m((r) => {
        const procs = (r.rss ?? []).filter((p) => p.side === side);
        return procs.length === 0 ? undefined : procs.reduce((s, p) => s + p.rssKb, 0);
      });
    const status: ContenderSummary['status'] = c.skipped
      ? 'skipped'
      : ok.length === 0
        ? 'failed'
        : ok.length < mine.length
          ? 'partial'
          : 'ok';
    return {
      id: c.id,
      label: c.label,
      kind: c.kind,
      status,
      ...(c.skipped ? { skipped: c.skipped } : {}),
      okRounds: ok.length,
      failedRounds: mine.length - ok.length,
      tcp1Mbps: m((r) => r.measurements?.tcp1?.mbps),
      tcp1Retransmits: m((r) => r.measurements?.tcp1?.retransmits),
      tcp4Mbps: m((r) => r.measurements?.tcp4?.mbps),
      tcp4Retransmits: m((r) => r.measurements?.tcp4?.retransmits),
      udp1400Pps: m((r) => r.measurements?.udp1400?.receivedPps),
      udp1400LossPct: m((r) => r.measurements?.udp1400?.lossPct),
      udp64Pps: m((r) => r.measurements?.udp64?.receivedPps),
      udp64LossPct: m((r) => r.measurements?.udp64?.lossPct),
      pingAvgMs: m((r) => r.measurements?.ping?.avgMs),
      cpuTcp1Pct: m((r) => r.measurements?.tcp1?.cpu.pctOfCore),
      cpuTcp4Pct: m((r) => r.measurements?.tcp4?.cpu.pctOfCore),
      loadBefore: m((r) => r.load.loadavg[0]),
      rssServerKb: rssSide('server'),
      rssClientKb: rssSide('client'),
    };
  });
  const ref = (id: string) => base.find((s) => s.id === id);
  const ovpn = ref(OPENVPN);
  const wg = ref(WIREGUARD_GO);
  return base.map((s) => ({
    ...s,
    ratios: {
      tcp1VsOpenvpn: ratio(s.tcp1Mbps, ovpn?.tcp1Mbps),
      tcp1VsWireguardGo: ratio(s.tcp1Mbps, wg?.tcp1Mbps),
      tcp4VsOpenvpn: ratio(s.tcp4Mbps, ovpn?.tcp4Mbps),
      tcp4VsWireguardGo: ratio(s.tcp4Mbps, wg?.tcp4Mbps),
      udp1400VsOpenvpn: ratio(s.udp1400Pps, ovpn?.udp1400Pps),
      udp1400VsWireguardGo: ratio(s.udp1400Pps, wg?.udp1400Pps),
    },
  }));
}

/**
 * The targets that one lab run can judge:
 * - pptp-ts MPPE off: TCP 1-stream ≥ 1.5× OpenVPN cleartext and ≥ 2× wireguard-go;
 * - pptp-ts MPPE-128 stateless: TCP 1-stream ≥ 1.0× OpenVPN cleartext;
 * - UDP 1400 B received pps ≥ every other userspace contender (judged for
 *   each pptp-ts variant against the non-pptp-ts userspace contenders).
 */
export function evaluateTargets(summary: readonly ContenderSummary[]): TargetCheck[] {
  const find = (id: string) => summary.find((s) => s.id === id);
  const out: TargetCheck[] = [];
  const judge = (
    subject: string,
    target: string,
    required: number,
    value: number | undefined,
    why?: string,
  ) => {
    const s = find(subject);
    if (!s || s.status === 'skipped' || s.status === 'failed') {
      out.push({ subject, target, required, status: 'n/a', why: s?.skipped ?? `${subject} did not run` });
    } else if (value === undefined) {
      out.push({ subject, target, required, status: 'n/a', why: why ?? 'a figure is missing' });
    } else {
      out.push({ subject, target, required, value, status: value >= required ? 'met' : 'not met' });
    }
  };
  const tcp = (subject: string, ref: string, required: number) => {
    const r = find(ref);
    judge(
      subject,
      `TCP 1 stream ≥ ${required}× ${r?.label ?? ref}`,
      required,
      ratio(find(subject)?.tcp1Mbps, r?.tcp1Mbps),
      `no TCP 1-stream figure for ${ref}${r?.skipped ? ` (${r.skipped})` : ''}`,
    );
  };
  tcp('pptp-ts', OPENVPN, 1.5);
  tcp('pptp-ts', WIREGUARD_GO, 2);
  tcp('pptp-ts-mppe128', OPENVPN, 1.0);
  const others = summary.filter((s) => s.kind === 'userspace' && s.udp1400Pps !== undefined);
  const best = others.reduce<ContenderSummary | undefined>(
    (b, s) => (b === undefined || s.udp1400Pps!.median > b.udp1400Pps!.median ? s : b),
    undefined,
  );
  for (const subject of ['pptp-ts', 'pptp-ts-mppe128']) {
    judge(
      subject,
      `UDP 1400 B received pps ≥ every other userspace contender${best ? ` (best: ${best.label})` : ''}`,
      1,
      ratio(find(subject)?.udp1400Pps, best?.udp1400Pps),
      'no UDP 1400 B figure for the other userspace contenders',
    );
  }
  return out;
}

/** `18,706` */
function thousands(x: number, digits = 0): string {
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** `median (min–max)`, or just the median when there is one round or no spread. */
export function cell(s: Summary | undefined, digits = 0, scale = 1): string {
  if (!s) return '—';
  const f = (x: number) => thousands(x * scale, digits);
  if (s.n === 1 || f(s.min) === f(s.max)) return f(s.median);
  return `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

function ratioCell(x: number | undefined): string {
  return x === undefined ? '—' : `${x.toFixed(2)}×`;
}

/** A markdown table; columns after `leftColumns` are right-aligned (figures). */
function table(header: string[], rows: string[][], leftColumns = 1): string {
  const line = (r: string[]) => `| ${r.join(' | ')} |`;
  return [
    line(header),
    line(header.map((_, i) => (i < leftColumns ? '---' : '---:'))),
    ...rows.map(line),
  ].join('\n');
}

const METRIC_LABEL: Record<Metric, string> = {
  ping: 'ping',
  tcp1: 'TCP 1 stream',
  tcp4: 'TCP 4 streams',
  udp1400: 'UDP 1400 B',
  udp64: 'UDP 64 B',
};

/** The markdown report: settings and machine, three tables of medians, targets, and what did not run. */
export function renderMarkdown(
  r: LabResult,
  charts: readonly { file: string; title: string }[] = [],
): string {
  const s = r.settings;
  const m = r.machine;
  const out: string[] = [];
  out.push(`## Benchmark lab: real tunnels side by side (${r.startedAt.slice(0, 16).replace('T', ' ')} UTC)`);
  out.push('');
  if (s.allowBusy && r.busyRuns > 0) {
    out.push(
      `> **Measured on a busy machine (--allow-busy).** ${r.busyRuns} of ${r.runs.length} runs started while other ` +
        `processes used more than ${s.busyThresholdPct} % of the CPUs (up to ${r.maxOthersPct.toFixed(0)} %). ` +
        'These figures are for development only: do not quote them.',
    );
    out.push('');
  } else if (s.allowBusy) {
    out.push('> Run with --allow-busy, but every idle check passed.');
    out.push('');
  }
  out.push(
    `${m.cpuModel}, ${m.cpus} CPUs, ${m.memoryGiB.toFixed(0)} GiB, Linux ${m.kernel}, ${m.os}, Node ${m.node}; ` +
      `pptp-ts ${m.commit}.`,
  );
  out.push(
    `Medians of ${s.rounds} interleaved round${s.rounds === 1 ? '' : 's'} (min–max in parentheses); ` +
      `${s.durationSec} s per iperf3 run after ${s.omitSec} s of warm-up; tunnel MTU ${s.mtu}; ` +
      `UDP offered ${s.udpRateBps === 0 ? 'as fast as iperf3 sends' : `at ${thousands(s.udpRateBps / 1e6)} Mbit/s`}; ` +
      `ping ${s.pingCount} × ${s.pingIntervalSec} s. Metrics: ${s.metrics.map((x) => METRIC_LABEL[x]).join(', ')}.`,
  );
  out.push('');
  // Contenders with no successful round are listed under "Not measured" instead of as rows of dashes.
  const ran = r.summary.filter((x) => x.status === 'ok' || x.status === 'partial');
  out.push('### Throughput (Mbit/s)');
  out.push('');
  out.push(
    table(
      [
        'tunnel',
        'TCP 1 stream',
        '× OpenVPN',
        '× wireguard-go',
        'TCP 4 streams',
        '× OpenVPN',
        '× wireguard-go',
        'retransmits 1 / 4',
      ],
      ran.map((x) => [
        x.label,
        cell(x.tcp1Mbps),
        ratioCell(x.ratios.tcp1VsOpenvpn),
        ratioCell(x.ratios.tcp1VsWireguardGo),
        cell(x.tcp4Mbps),
        ratioCell(x.ratios.tcp4VsOpenvpn),
        ratioCell(x.ratios.tcp4VsWireguardGo),
        `${cell(x.tcp1Retransmits)} / ${cell(x.tcp4Retransmits)}`,
      ]),
    ),
  );
  out.push('');
  out.push('### Packets and latency');
  out.push('');
  out.push(
    table(
      [
        'tunnel',
        'UDP 1400 B received kpps',
        'loss %',
        '× OpenVPN',
        '× wireguard-go',
        'UDP 64 B received kpps',
        'loss %',
        'ping RTT ms',
      ],
      ran.map((x) => [
        x.label,
        cell(x.udp1400Pps, 1, 1e-3),
        cell(x.udp1400LossPct, 1),
        ratioCell(x.ratios.udp1400VsOpenvpn),
        ratioCell(x.ratios.udp1400VsWireguardGo),
        cell(x.udp64Pps, 1, 1e-3),
        cell(x.udp64LossPct, 1),
        cell(x.pingAvgMs, 3),
      ]),
    ),
  );
  out.push('');
  out.push('### Cost');
  out.push('');
  out.push(
    table(
      ['tunnel', 'tunnel CPU % of a core, TCP 1', 'TCP 4', 'RSS MiB server / client', 'load avg before'],
      ran.map((x) => [
        x.label,
        x.kind === 'limit' || x.kind === 'kernel' ? 'kernel' : cell(x.cpuTcp1Pct),
        x.kind === 'limit' || x.kind === 'kernel' ? 'kernel' : cell(x.cpuTcp4Pct),
        x.rssServerKb || x.rssClientKb
          ? `${cell(x.rssServerKb, 1, 1 / 1024)} / ${cell(x.rssClientKb, 1, 1 / 1024)}`
          : '—',
        cell(x.loadBefore, 2),
      ]),
    ),
  );
  out.push('');
  out.push('### Targets');
  out.push('');
  out.push(
    table(
      ['subject', 'target', 'measured', 'status'],
      r.targets.map((t) => [
        t.subject,
        t.target,
        t.value === undefined ? '—' : `${t.value.toFixed(2)}×`,
        t.status === 'n/a' ? `n/a: ${t.why}` : t.status,
      ]),
      4,
    ),
  );
  const notRun = r.summary.filter((x) => x.status !== 'ok');
  if (notRun.length > 0) {
    out.push('');
    out.push('### Not measured, or not in every round');
    out.push('');
    for (const x of notRun) {
      if (x.status === 'skipped') {
        out.push(`- ${x.label}: skipped: ${x.skipped}`);
      } else {
        const errors = r.runs.filter((run) => run.contender === x.id && run.status === 'failed');
        out.push(
          `- ${x.label}: ${x.failedRounds} of ${x.okRounds + x.failedRounds} rounds failed: ` +
            errors.map((e) => `round ${e.round}: ${e.error}`).join('; '),
        );
      }
    }
  }
  const residue = r.runs.filter((x) => x.residue && x.residue.length > 0);
  if (residue.length > 0) {
    out.push('');
    for (const x of residue) {
      out.push(
        `- ${x.contender} round ${x.round} left behind (removed by the lab): ${x.residue!.join(', ')}`,
      );
    }
  }
  out.push('');
  out.push('Versions:');
  out.push('');
  for (const c of r.contenders) if (c.version) out.push(`- ${c.label}: ${c.version}`);
  out.push(`- iperf3: ${m.iperf3}`);
  for (const c of charts) {
    out.push('');
    out.push(`![${c.title}](${c.file})`);
  }
  out.push('');
  return out.join('\n');
}
