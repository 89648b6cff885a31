/**
 * Parse a Python list-of-strings literal as written by pandas/`str(list)`:
 * "['Escultura', 'Pintura']", "[]", '["l\'Hospitalet", "Museo"]'.
 * Accepts single or double quotes and backslash escapes; throws with the offending position otherwise.
 */
export function parsePythonStringList(text: string): string[] {
  const src = text.trim();
  const fail = (pos: number, what: string): never => {
    throw new Error(`not a Python list of strings (${what} at position ${pos}): ${JSON.stringify(text)}`);
  };
  if (!src.startsWith("[")) fail(0, 'expected "["');
  const items: string[] = [];
  let i = 1;
  const skipSpaces = () => {
    while (i < src.length && /\s/.test(src[i])) i++;
  };
  skipSpaces();
  if (src[i] === "]") {
    i++;
    skipSpaces();
    if (i !== src.length) fail(i, "trailing text");
    return items;
  }
  for (;;) {
    skipSpaces();
    const quote = src[i];
    if (quote !== "'" && quote !== '"') fail(i, "expected a quoted string");
    i++;
    let value = "";
    for (;;) {
      if (i >= src.length) fail(i, "unterminated string");
      const ch = src[i];
      if (ch === "\\") {
        const next = src[i + 1];
        if (next === undefined) fail(i, "dangling backslash");
        value += next === "n" ? "\n" : next === "t" ? "\t" : next;
        i += 2;
        continue;
      }
      if (ch === quote) {
        i++;
        break;
      }
      value += ch;
      i++;
    }
    items.push(value);
    skipSpaces();
    if (src[i] === ",") {
      i++;
      skipSpaces();
      if (src[i] !== "]") continue; // Python allows one trailing comma
    }
    if (src[i] === "]") {
      i++;
      skipSpaces();
      if (i !== src.length) fail(i, "trailing text");
      return items;
    }
    fail(i, 'expected "," or "]"');
  }
}
