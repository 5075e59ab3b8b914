/**
 * Sysctl names as sysctl.d(5) and runc take them: dots separate the components
 * ("net.ipv4.ip_forward"), or slashes when a slash comes first ("net/ipv4/ip_forward"), and
 * then a dot is part of a component ("net/ipv4/conf/lo.0/forwarding", an interface lo.0).
 */

/**
 * The dot form (port of runc's convertSysctlVariableToDotsSeparator): with slashes as the
 * separators, dots and slashes swap, so a "/" in the dot form stands for a "." in a name.
 */
export function sysctlDotForm(key: string): string {
  const first = key.search(/[./]/);
  if (first < 0 || key[first] === '.') return key;
  return key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
}

/** Why a name cannot be a file below /proc/sys, or null: every component a plain file name. */
export function sysctlNameProblem(key: string): string | null {
  const parts = sysctlDotForm(key).split('.').map((p) => p.replace(/\//g, '.'));
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return 'is not a valid sysctl name (an empty, "." or ".." component)';
  return null;
}
