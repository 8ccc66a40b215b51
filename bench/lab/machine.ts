/**
 * The machine a result comes from: CPU model and count, kernel, OS, memory,
 * Node, iperf3, and the pptp-ts commit.
 */
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem, version } from 'node:os';
import { fileURLToPath } from 'node:url';
import { versionLine } from './contenders/util.js';
import { run } from './netns.js';
import type { MachineInfo } from './result.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function osName(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    return m?.[1] ?? 'unknown OS';
  } catch {
    return 'unknown OS';
  }
}

export async function machineInfo(): Promise<MachineInfo> {
  const c = cpus();
  const commit = await run(['git', '-C', ROOT, 'describe', '--always', '--dirty'], {
    allowFail: true,
    timeoutMs: 5000,
  });
  return {
    cpuModel: c[0]?.model.trim() ?? 'unknown CPU',
    cpus: c.length,
    kernel: release(),
    kernelVersion: version(),
    os: osName(),
    memoryGiB: totalmem() / 2 ** 30,
    node: process.version,
    iperf3: await versionLine(['iperf3', '--version'], /^iperf /),
    commit: commit.stdout.trim() || 'unknown',
  };
}
