/** bit strings, point and hstore as Debezium 3.6 writes them. */

export class SpecialTypeFormatError extends Error {
  constructor(kind: string, text: string) {
    super(`cannot read ${kind} value ${JSON.stringify(text.slice(0, 80))}`);
    this.name = 'SpecialTypeFormatError';
  }
}

/**
 * io.debezium.data.Bits: the bits as an integer in little-endian bytes, as many as its highest set bit needs
 * (Java's BitSet.toByteArray; all zeros give no bytes), base64.
 */
export function encodeBits(text: string): string {
  if (!/^[01]*$/.test(text)) throw new SpecialTypeFormatError('bit string', text);
  let value = text ? BigInt(`0b${text}`) : 0n;
  const bytes: number[] = [];
  while (value > 0n) {
    bytes.push(Number(value & 0xffn));
    value >>= 8n;
  }
  return Buffer.from(bytes).toString('base64');
}

/** io.debezium.data.geometry.Point: `(x,y)` → `{x, y, wkb, srid}` with the point's little-endian WKB. */
export function pointStruct(text: string): { x: number; y: number; wkb: string; srid: null } {
  const m = /^\(([^,]+),([^)]+)\)$/.exec(text);
  if (!m) throw new SpecialTypeFormatError('point', text);
  const x = Number(m[1]);
  const y = Number(m[2]);
  const wkb = Buffer.alloc(21);
  wkb.writeUInt8(1, 0); // little endian
  wkb.writeUInt32LE(1, 1); // Point
  wkb.writeDoubleLE(x, 5);
  wkb.writeDoubleLE(y, 13);
  return { x, y, wkb: wkb.toString('base64'), srid: null };
}

/** hstore text: `"k"=>"v", "k2"=>NULL`. */
export function parseHstore(text: string): [string, string | null][] {
  const out: [string, string | null][] = [];
  let pos = 0;
  const quoted = (): string => {
    if (text[pos] !== '"') throw new SpecialTypeFormatError('hstore', text);
    pos++;
    let s = '';
    for (;;) {
      const c = text[pos++];
      if (c === undefined) throw new SpecialTypeFormatError('hstore', text);
      if (c === '"') return s;
      s += c === '\\' ? text[pos++] : c;
    }
  };
  while (pos < text.length) {
    const key = quoted();
    if (text.slice(pos, pos + 2) !== '=>') throw new SpecialTypeFormatError('hstore', text);
    pos += 2;
    let value: string | null;
    if (text.startsWith('NULL', pos)) {
      value = null;
      pos += 4;
    } else value = quoted();
    out.push([key, value]);
    if (text.startsWith(', ', pos)) pos += 2;
    else if (pos < text.length) throw new SpecialTypeFormatError('hstore', text);
  }
  return out;
}

/** java.lang.String#hashCode over UTF-16 code units. */
function javaHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * Debezium's `hstore.handling.mode=json`: pgjdbc parses the text into a java.util.HashMap and Jackson writes its
 * entries in iteration order, i.e. by bucket (spread hash & (capacity − 1)), insertion order within a bucket.
 */
export function hstoreJson(text: string): string {
  const entries = parseHstore(text);
  let capacity = 16;
  while (entries.length > capacity * 0.75) capacity *= 2;
  const bucket = (key: string) => {
    const h = javaHash(key);
    return (h ^ (h >>> 16)) & (capacity - 1);
  };
  const ordered = entries.map((e, i) => ({ e, i, b: bucket(e[0]) })).sort((a, b) => a.b - b.b || a.i - b.i);
  return `{${ordered.map(({ e }) => `${JSON.stringify(e[0])}:${JSON.stringify(e[1])}`).join(',')}}`;
}
