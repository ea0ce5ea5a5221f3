/** RFC 4180 CSV text: a header row, then the rows; cells with a quote, comma or line break quoted. */
export function csv(
  headers: readonly string[],
  rows: readonly (readonly (string | number | null)[])[],
): string {
  const cell = (c: string | number | null) => {
    const t = c === null ? '' : String(c);
    return /[",\n\r]/.test(t) ? `"${t.replaceAll('"', '""')}"` : t;
  };
  return [headers, ...rows].map((r) => r.map(cell).join(',')).join('\n') + '\n';
}
