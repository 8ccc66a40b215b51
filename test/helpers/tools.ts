/**
 * The system tools the tests run (scripts/system-tools.json: tool → Debian
 * package). A test that needs one calls {@link requireTools} in a `before`
 * hook: a missing tool fails the test with the line that installs it, it
 * never skips (docs/style.md §5.9). `npm test` checks the whole list before
 * running anything (scripts/test.js).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const LIST = new URL('../../scripts/system-tools.json', import.meta.url);

/** tool name → Debian package. */
export const SYSTEM_TOOLS: Readonly<Record<string, string>> = (
  JSON.parse(readFileSync(LIST, 'utf8')) as { tools: Record<string, string> }
).tools;

/** Whether `name` is found on PATH. */
export function hasTool(name: string): boolean {
  return (
    spawnSync('sh', ['-c', 'command -v "$1"', 'sh', name], { stdio: 'ignore', timeout: 10_000 }).status === 0
  );
}

/** The one line that installs the packages of `tools`. */
export function installLine(tools: readonly string[]): string {
  const pkgs = [...new Set(tools.map((t) => SYSTEM_TOOLS[t] ?? t))];
  return `apt-get install -y ${pkgs.join(' ')}`;
}

/** Throws, naming the apt-get line, unless every tool is installed. */
export function requireTools(...tools: string[]): void {
  for (const t of tools)
    if (!(t in SYSTEM_TOOLS)) throw new Error(`${t} is not in scripts/system-tools.json`);
  const missing = tools.filter((t) => !hasTool(t));
  if (missing.length) throw new Error(`${missing.join(', ')} not installed: ${installLine(missing)}`);
}

/** Throws unless we are root (namespaces, TUN, raw sockets), then checks `tools`. */
export function requireRoot(...tools: string[]): void {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'this test needs root (network namespaces, TUN, raw sockets); run it as root, as CI does',
    );
  }
  requireTools(...tools);
}

/**
 * Asserts that `text` is valid Prometheus exposition text by the real
 * parser (`promtool check metrics`, Debian `prometheus`); a missing
 * promtool fails with its install line.
 */
export function checkMetricsWithPromtool(text: string): void {
  requireTools('promtool');
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`promtool check metrics: exit ${r.status}: ${r.stdout}${r.stderr}`);
}
