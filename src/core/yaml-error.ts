/**
 * A YAML syntax error for people: the parser's reason, where, and the lines around it as they are
 * in the file, the one the parser points at marked (an indentation error is seen, not counted).
 * Takes the fields of the yaml package's YAMLParseError, so core/ stays free of the parser.
 */
export interface YamlErrorFacts {
  message: string;
  linePos?: [{ line: number; col: number }, ...unknown[]] | undefined;
}

export function describeYamlError(err: YamlErrorFacts, text: string): string {
  const reason = (err.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
  const pos = err.linePos?.[0];
  if (!pos) return `not valid YAML: ${reason}`;
  const lines = text.split(/\r?\n/);
  // At the end of the file the parser points past the last line: mark the last line that has text.
  let at = Math.min(pos.line, lines.length);
  while (at > 1 && (lines[at - 1] ?? '').trim() === '') at--;
  const width = String(at + 1).length;
  const shown: string[] = [];
  for (let n = Math.max(1, at - 1); n <= Math.min(lines.length, at + 1); n++) {
    const line = lines[n - 1]!;
    if (n !== at && line.trim() === '') continue;
    shown.push(`    ${n === at ? '>' : ' '} ${String(n).padStart(width)} | ${line}`);
  }
  return `not valid YAML (line ${pos.line}, column ${pos.col}): ${reason}\n${shown.join('\n')}`;
}
