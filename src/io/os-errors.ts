/**
 * Error texts a user can act on, one line each (docs/style.md §6), for the
 * command line and the drivers: a file that cannot be read says why once
 * (not "ENOENT ENOENT: ..."), and a missing privilege names the
 * capabilities and the `setcap` line that grants them.
 */

/** What to do when opening a TUN device or a raw socket is refused. */
export const CAPABILITY_HINT =
  'needs root or CAP_NET_ADMIN + CAP_NET_RAW (run as root, or: setcap cap_net_admin,cap_net_raw+ep $(command -v node))';

/** True for the errno codes the kernel gives a process that lacks a capability. */
export function isPermissionError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const msg = e instanceof Error ? e.message : String(e);
  return code === 'EPERM' || code === 'EACCES' || /\b(EPERM|EACCES)\b|[Oo]peration not permitted/.test(msg);
}

/**
 * `e`'s message for one line: a Node file-system error loses its repeated
 * code prefix and its `, open 'PATH'` suffix (the caller names the file).
 * `ENOENT: no such file or directory, open '/x'` → `no such file or directory (ENOENT)`.
 */
export function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const code = (e as NodeJS.ErrnoException).code;
  let msg = e.message;
  if (typeof code === 'string' && msg.startsWith(`${code}: `)) {
    msg = msg.slice(code.length + 2).replace(/, \w+ '[^']*'(?: -> '[^']*')?$/, '');
    return `${msg} (${code})`;
  }
  return msg;
}

/**
 * The one line for a failure to set up the OS side (TUN, raw socket): the
 * capability hint when it is a permission error, else the error's own text.
 */
export function setupErrorText(e: unknown): string {
  const text = errorText(e);
  return isPermissionError(e) ? `${text}: ${CAPABILITY_HINT}` : text;
}
