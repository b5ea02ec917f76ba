/** The pieces of HTML the reports share. */

/** Text for HTML and SVG, with `& < > " '` escaped. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A table whose first row is the header, every cell escaped. */
export function htmlTable(rows: readonly (readonly string[])[]): string {
  const [head, ...body] = rows;
  return `<table>
<thead><tr>${(head ?? []).map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead>
<tbody>
${body.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('\n')}
</tbody>
</table>`;
}
