// RFC 8259 JSON, parsed strictly: a duplicate key, a `__proto__` or `constructor` key, or
// nesting deeper than the limit is refused rather than silently resolved (JSON.parse keeps the
// last duplicate, which lets a signer and a validator see different objects).

export class StrictJsonError extends Error {
  constructor(message: string, readonly pointer: string, readonly position: number) {
    super(message);
    this.name = 'StrictJsonError';
  }
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor']);
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

export function parseStrictJson(text: string, maxDepth = 64): unknown {
  const parser = new Parser(text, maxDepth);
  parser.whitespace();
  const value = parser.value(0);
  parser.whitespace();
  if (parser.at < text.length) parser.fail('unexpected data after the JSON value');
  return value;
}

class Parser {
  at = 0;
  private readonly path: string[] = [];

  constructor(private readonly text: string, private readonly maxDepth: number) {}

  fail(message: string): never {
    const pointer = this.path.map((p) => '/' + p.replace(/~/g, '~0').replace(/\//g, '~1')).join('');
    throw new StrictJsonError(message, pointer || '/', this.at);
  }

  whitespace(): void {
    const text = this.text;
    while (this.at < text.length) {
      const c = text.charCodeAt(this.at);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      this.at++;
    }
  }

  value(depth: number): unknown {
    const c = this.text[this.at];
    switch (c) {
      case '{': return this.object(depth + 1);
      case '[': return this.array(depth + 1);
      case '"': return this.string();
      case 't': return this.literal('true', true);
      case 'f': return this.literal('false', false);
      case 'n': return this.literal('null', null);
      case undefined: return this.fail('unexpected end of JSON');
      default: return this.number();
    }
  }

  private literal<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.at)) this.fail('unexpected token');
    this.at += word.length;
    return value;
  }

  private number(): number {
    NUMBER.lastIndex = this.at;
    const match = NUMBER.exec(this.text);
    if (!match) this.fail('unexpected token');
    this.at += match[0].length;
    return Number(match[0]);
  }

  private string(): string {
    const text = this.text;
    let out = '';
    let start = ++this.at;
    for (;;) {
      const c = text.charCodeAt(this.at);
      if (Number.isNaN(c)) this.fail('unterminated string');
      if (c === 0x22) break;
      if (c < 0x20) this.fail('control character in string');
      if (c === 0x5c) {
        out += text.slice(start, this.at);
        const e = text[this.at + 1]!;
        if (e === 'u') {
          const hex = text.slice(this.at + 2, this.at + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('bad \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          this.at += 6;
        } else if (e !== undefined && Object.hasOwn(ESCAPES, e)) {
          out += ESCAPES[e];
          this.at += 2;
        } else {
          this.fail('bad escape');
        }
        start = this.at;
        continue;
      }
      this.at++;
    }
    out += text.slice(start, this.at);
    this.at++;
    return out;
  }

  private enter(depth: number): void {
    if (depth > this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`);
    this.at++;
    this.whitespace();
  }

  private object(depth: number): Record<string, unknown> {
    this.enter(depth);
    const object: Record<string, unknown> = {};
    if (this.text[this.at] === '}') {
      this.at++;
      return object;
    }
    for (;;) {
      if (this.text[this.at] !== '"') this.fail('expected a string key');
      const key = this.string();
      if (FORBIDDEN_KEYS.has(key)) this.fail(`forbidden key "${key}"`);
      if (Object.hasOwn(object, key)) this.fail(`duplicate key "${key}"`);
      this.whitespace();
      if (this.text[this.at] !== ':') this.fail('expected ":"');
      this.at++;
      this.whitespace();
      this.path.push(key);
      object[key] = this.value(depth);
      this.path.pop();
      this.whitespace();
      const c = this.text[this.at++];
      if (c === '}') return object;
      if (c !== ',') { this.at--; this.fail('expected "," or "}"'); }
      this.whitespace();
    }
  }

  private array(depth: number): unknown[] {
    this.enter(depth);
    const array: unknown[] = [];
    if (this.text[this.at] === ']') {
      this.at++;
      return array;
    }
    for (;;) {
      this.path.push(String(array.length));
      array.push(this.value(depth));
      this.path.pop();
      this.whitespace();
      const c = this.text[this.at++];
      if (c === ']') return array;
      if (c !== ',') { this.at--; this.fail('expected "," or "]"'); }
      this.whitespace();
    }
  }
}
