/**
 * `pptp-ts install-units [--prefix DIR] [--print]`: writes the systemd units
 * shipped in systemd/ (pptp-ts-server.service, pptp-ts-client@.service) to
 * DIR (default /etc/systemd/system), with ExecStart pointing at this
 * installation (this Node binary and this package's bin/pptp-ts.js), so the
 * units work wherever npm put the package. It does not run systemctl: it
 * prints the commands to run next. See docs/operations.md.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandArgs, usageError } from './args.js';

export const INSTALL_UNITS_USAGE = `usage: pptp-ts install-units [--prefix DIR] [--print]

Writes pptp-ts-server.service and pptp-ts-client@.service to DIR (default
/etc/systemd/system) with ExecStart set to this installation, then prints
what to run next (systemctl daemon-reload, enable).

  --prefix DIR   where to write the units
  --print        print the units on stdout instead of writing them
  -h, --help
`;

/** The command the shipped units name; replaced by this installation's. */
export const SHIPPED_COMMAND = '/usr/local/bin/pptp-ts';
export const DEFAULT_UNIT_DIR = '/etc/systemd/system';

/** The directory of the shipped units. */
export function shippedUnitDir(): string {
  return fileURLToPath(new URL('../../systemd/', import.meta.url));
}

/** This installation's command line for ExecStart: Node, then the package's bin script. */
export function installedCommand(): string {
  const bin = fileURLToPath(new URL('../../bin/pptp-ts.js', import.meta.url));
  for (const p of [process.execPath, bin]) {
    if (/\s/.test(p)) throw new Error(`cannot write a unit for a path with white space: ${p}`);
  }
  return `${process.execPath} ${bin}`;
}

/** The shipped units, rendered for this installation: file name → text. */
export function renderUnits(command = installedCommand()): Map<string, string> {
  const dir = shippedUnitDir();
  const out = new Map<string, string>();
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.service')) continue;
    out.set(f, readFileSync(join(dir, f), 'utf8').replaceAll(SHIPPED_COMMAND, command));
  }
  return out;
}

export function runInstallUnits(argv: readonly string[]): number {
  const args = commandArgs(
    argv,
    {
      options: {
        prefix: { type: 'string' },
        print: { type: 'boolean' },
      },
    },
    INSTALL_UNITS_USAGE,
    usageError('install-units', '(see pptp-ts install-units --help)\n'),
  );
  if (typeof args === 'number') return args;
  const { values } = args;
  const units = renderUnits();
  if (values.print) {
    for (const [name, text] of units) process.stdout.write(`# ${name}\n${text}\n`);
    return 0;
  }
  const dir = values.prefix ?? DEFAULT_UNIT_DIR;
  try {
    mkdirSync(dir, { recursive: true });
    for (const [name, text] of units) {
      writeFileSync(join(dir, name), text, { mode: 0o644 });
      process.stdout.write(`wrote ${join(dir, name)}\n`);
    }
  } catch (err) {
    process.stderr.write(`pptp-ts install-units: ${(err as Error).message}\n`);
    return 1;
  }
  process.stdout.write(
    'next: systemctl daemon-reload\n' +
      '      systemctl enable --now pptp-ts-server               (config: /etc/pptp-ts/server.json)\n' +
      '      systemctl enable --now pptp-ts-client@NAME          (profile: /etc/pptp-ts/NAME.json)\n',
  );
  return 0;
}
