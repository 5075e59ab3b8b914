/**
 * Go's text/tabwriter as runc's list uses it (minwidth 12, padding 3, spaces): every column
 * but the last as wide as its widest cell plus 3, at least 12.
 */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.slice(0, -1).forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  }
  return rows
    .map((row) => row.map((cell, i) => (i < row.length - 1 ? cell.padEnd(Math.max(12, widths[i]! + 3)) : cell)).join('') + '\n')
    .join('');
}
