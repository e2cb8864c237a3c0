/** Postgres array literal text (`{1,2}`, `{"a b",NULL}`, `[0:1]={x,y}`) → nested arrays of element text. */
export type ArrayText = (string | null | ArrayText)[];

export class ArrayFormatError extends Error {
  constructor(text: string, why: string) {
    super(`cannot read array ${JSON.stringify(text.slice(0, 80))}: ${why}`);
    this.name = 'ArrayFormatError';
  }
}

export function parseArrayText(text: string, delimiter = ','): ArrayText {
  // Arrays with non-default lower bounds print their dimensions first.
  const start = text.startsWith('[') ? text.indexOf('=') + 1 : 0;
  let pos = start;

  const parseList = (): ArrayText => {
    if (text[pos] !== '{') throw new ArrayFormatError(text, `expected { at ${pos}`);
    pos++;
    const out: ArrayText = [];
    if (text[pos] === '}') {
      pos++;
      return out;
    }
    for (;;) {
      out.push(parseElement());
      const c = text[pos++];
      if (c === '}') return out;
      if (c !== delimiter) throw new ArrayFormatError(text, `unexpected ${JSON.stringify(c)} at ${pos - 1}`);
    }
  };

  const parseElement = (): string | null | ArrayText => {
    if (text[pos] === '{') return parseList();
    if (text[pos] === '"') {
      pos++;
      let value = '';
      for (;;) {
        const c = text[pos++];
        if (c === undefined) throw new ArrayFormatError(text, 'unterminated quote');
        if (c === '"') return value;
        value += c === '\\' ? text[pos++] : c;
      }
    }
    let end = pos;
    while (end < text.length && text[end] !== delimiter && text[end] !== '}') end++;
    const raw = text.slice(pos, end);
    pos = end;
    return raw === 'NULL' ? null : raw;
  };

  const result = parseList();
  if (pos !== text.length) throw new ArrayFormatError(text, 'trailing characters');
  return result;
}
