/**
 * What `pptp-ts serve --check` (and every start) checks beyond the config
 * file's own schema: it builds the address pool and reads the secrets the
 * way the running server will, and rejects what would fail or misbehave
 * only later, at a client's connection:
 *
 * - a pool left empty once `local-ip` and the fixed addresses are taken out
 *   of it, while some user needs an address from it (every such session
 *   would fail in IPCP);
 * - a fixed address (chap-secrets address column) equal to `local-ip`: both
 *   ends of the tunnel would have the same address;
 * - one fixed address given on two lines: the second user to connect would
 *   get no address;
 *
 * and warns, as pppd does ("secret file has world and/or group access"),
 * when the secrets file can be read by its group or by others.
 */
import { ipv4ToString, parseIpv4 } from '../wire/bytes.js';
import type { SecretEntry } from './chap-secrets.js';
import type { ServerConfig } from './config.js';
import { IpPool, parsePoolSpec } from './ip-pool.js';

export interface SetupFinding {
  readonly level: 'error' | 'warning';
  /** One line, naming the file and line or the config key. */
  readonly message: string;
}

export interface SetupCheckInput {
  readonly config: ServerConfig;
  readonly secrets: readonly SecretEntry[];
  /** The secrets file's name, for messages. */
  readonly secretsPath: string;
  /** Its `st_mode` (permission bits are enough), when known. */
  readonly secretsMode?: number;
}

/** Returns every problem found, errors first; an empty list means the server can start. */
export function checkServerSetup(input: SetupCheckInput): SetupFinding[] {
  const { config, secrets, secretsPath } = input;
  const errors: SetupFinding[] = [];
  const warnings: SetupFinding[] = [];
  const error = (message: string) => errors.push({ level: 'error', message });
  const localIp = parseIpv4(config['local-ip'])!;
  const local = config['local-ip'];

  const fixedAt = new Map<number, number>();
  for (const e of secrets) {
    for (const a of e.addresses.fixed) {
      const where = `${secretsPath}:${e.line}`;
      if (a === localIp) {
        error(`${where}: fixed address ${local} is local-ip, the server's own end of every tunnel`);
        continue;
      }
      const first = fixedAt.get(a);
      if (first !== undefined && first !== e.line) {
        error(`${where}: fixed address ${ipv4ToString(a)} is already given on line ${first}`);
      } else {
        fixedAt.set(a, e.line);
      }
    }
  }

  const addresses = parsePoolSpec(config.pool);
  const needPool = secrets.filter((e) => !e.addresses.none && e.addresses.fixed.length === 0);
  const afterLocal = new IpPool(addresses, [localIp]).available;
  const afterAll = new IpPool(addresses, [localIp, ...fixedAt.keys()]).available;
  if (afterLocal === 0) {
    error(`pool: '${config.pool}' holds only local-ip ${local}; no address is left for clients`);
  } else if (afterAll === 0 && needPool.length > 0) {
    error(
      `pool: '${config.pool}' is used up by local-ip and the fixed addresses of ${secretsPath}; ` +
        `${needPool.length} user(s) without a fixed address would get none (first: line ${needPool[0]!.line})`,
    );
  }

  if (input.secretsMode !== undefined && (input.secretsMode & 0o077) !== 0) {
    const mode = (input.secretsMode & 0o777).toString(8).padStart(3, '0');
    warnings.push({
      level: 'warning',
      message: `${secretsPath} has group and/or world access (mode ${mode}): chmod 600 ${secretsPath}`,
    });
  }
  return [...errors, ...warnings];
}
