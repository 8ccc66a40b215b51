/**
 * Client profiles: `pptp-ts connect --profile FILE`, one JSON file per
 * tunnel (the `pptp-ts-client@NAME.service` unit reads
 * /etc/pptp-ts/NAME.json). A profile holds the `connect` options, each under
 * its long option's name, validated here and then parsed exactly as the
 * command line would be, so a profile and the command line cannot disagree:
 *
 * ```json
 * { "server": "vpn.example.com", "user": "alice",
 *   "password-file": "/etc/pptp-ts/office.password",
 *   "mppe": "required,128,stateless", "route": ["10.1.0.0/16"], "persist": true }
 * ```
 *
 * The password is never in the profile: `password-file` (required) names a
 * file whose first line it is (mode 0600, owned by root).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const str = z.string().min(1);
const num = z.number().nonnegative();

/** Every `connect` option a profile may set (names as on the command line). */
const profileSchema = z.strictObject({
  server: str,
  user: str,
  'password-file': str.refine((p) => p.startsWith('/'), { message: 'must be an absolute path' }),
  auth: z
    .array(z.enum(['mschap-v2', 'mschapv2', 'mschap', 'chap', 'chap-md5', 'pap']))
    .min(1)
    .optional(),
  port: z.number().int().min(1).max(65535).optional(),
  'local-address': str.optional(),
  ifname: str.optional(),
  mtu: z.number().int().optional(),
  mru: z.number().int().optional(),
  mppe: str.optional(),
  'ignore-peer-window': z.boolean().optional(),
  'ack-timeout-ms': z.number().int().min(0).max(10_000).optional(),
  ipv6: z.boolean().optional(),
  'busy-poll': z.union([z.number().int().nonnegative(), str]).optional(),
  'default-route': z.boolean().optional(),
  route: z.array(str).optional(),
  'no-host-route': z.boolean().optional(),
  usepeerdns: z.boolean().optional(),
  'resolv-conf': str.optional(),
  'ip-up': str.optional(),
  'ip-down': str.optional(),
  ipparam: z.string().optional(),
  'lcp-echo-interval': num.optional(),
  'lcp-echo-failure': z.number().int().nonnegative().optional(),
  'pptp-echo-interval': num.optional(),
  'connect-timeout': num.optional(),
  'setup-timeout': num.optional(),
  persist: z.boolean().optional(),
  maxfail: z.number().int().nonnegative().optional(),
  holdoff: num.optional(),
  'log-level': z.enum(['debug', 'info', 'warn', 'error']).optional(),
  'log-format': z.enum(['text', 'json']).optional(),
});

export type ClientProfile = z.infer<typeof profileSchema>;

/** A profile that does not read or validate; the message names the file and the key. */
export class ProfileError extends Error {
  override readonly name = 'ProfileError';
}

/** Validates a profile's JSON text. Throws {@link ProfileError}. */
export function parseProfile(text: string, source: string): ClientProfile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ProfileError(`${source}: not JSON: ${(err as Error).message}`);
  }
  const r = profileSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const at = issue.path.map(String).join('.');
    throw new ProfileError(`${source}: ${at ? `${at}: ` : ''}${issue.message}`);
  }
  return r.data;
}

/** Reads and validates a profile file. Throws {@link ProfileError}. */
export function readProfile(path: string): ClientProfile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ProfileError(`cannot read ${path}: ${(err as Error).message}`);
  }
  return parseProfile(text, path);
}

/** The command-line arguments a profile stands for (the server first). */
export function profileArgs(p: ClientProfile): string[] {
  const out: string[] = [p.server];
  for (const [key, value] of Object.entries(p)) {
    if (key === 'server' || value === undefined) continue;
    if (value === true) out.push(`--${key}`);
    else if (value === false) continue;
    else if (key === 'auth') out.push('--auth', (value as string[]).join(','));
    else if (Array.isArray(value)) for (const v of value) out.push(`--${key}`, String(v));
    else out.push(`--${key}`, String(value));
  }
  return out;
}

/**
 * Replaces `--profile FILE` (or `--profile=FILE`) in `connect` arguments by
 * the arguments the profile stands for; the other arguments follow them, so
 * they add to or override the profile. Throws {@link ProfileError}.
 */
export function expandProfile(argv: readonly string[]): string[] {
  const i = argv.findIndex((a) => a === '--profile' || a.startsWith('--profile='));
  if (i < 0) return [...argv];
  const a = argv[i]!;
  const path = a === '--profile' ? argv[i + 1] : a.slice('--profile='.length);
  if (!path) throw new ProfileError('--profile needs a file');
  const rest = [...argv.slice(0, i), ...argv.slice(a === '--profile' ? i + 2 : i + 1)];
  if (rest.some((x) => x === '--profile' || x.startsWith('--profile=')))
    throw new ProfileError('--profile given twice');
  return [...profileArgs(readProfile(path)), ...rest];
}
