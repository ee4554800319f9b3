// The few DER (ITU-T X.690) shapes that SM2 keys, signatures and ciphertexts use. Strict:
// definite minimal lengths, minimal non-negative INTEGERs, no trailing bytes. Anything else
// throws DerError, which callers turn into their own refusal.

export class DerError extends Error {
  override name = 'DerError';
}

export const TAG = {
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  sequence: 0x30,
  context0: 0xa0,
  context1: 0xa1,
} as const;

export interface DerElement {
  tag: number;
  /** The contents octets, a view into the input. */
  value: Buffer;
}

/** Reads one element at `offset`; returns it and the offset after it. */
export function readElement(input: Buffer, offset = 0): { element: DerElement; end: number } {
  if (offset + 2 > input.length) throw new DerError('truncated DER element');
  const tag = input[offset]!;
  let length = input[offset + 1]!;
  let at = offset + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 3) throw new DerError('unsupported DER length');
    if (at + octets > input.length) throw new DerError('truncated DER length');
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + input[at + i]!;
    if (input[at] === 0 || length < 0x80) throw new DerError('non-minimal DER length');
    at += octets;
  }
  if (at + length > input.length) throw new DerError('truncated DER contents');
  return { element: { tag, value: input.subarray(at, at + length) }, end: at + length };
}

/** Reads exactly one element spanning the whole input, of the expected tag. */
export function readWhole(input: Buffer, tag: number): Buffer {
  const { element, end } = readElement(input, 0);
  if (element.tag !== tag) throw new DerError(`expected DER tag 0x${tag.toString(16)}`);
  if (end !== input.length) throw new DerError('trailing bytes after DER element');
  return element.value;
}

/** Splits a constructed value into its elements. */
export function readChildren(value: Buffer): DerElement[] {
  const children: DerElement[] = [];
  for (let at = 0; at < value.length; ) {
    const { element, end } = readElement(value, at);
    children.push(element);
    at = end;
  }
  return children;
}

/** A non-negative, minimally encoded INTEGER's magnitude, without the sign octet. */
export function integerMagnitude(element: DerElement): Buffer {
  const v = element.value;
  if (element.tag !== TAG.integer || v.length === 0) throw new DerError('expected a DER INTEGER');
  if (v[0]! & 0x80) throw new DerError('negative INTEGER');
  if (v.length > 1 && v[0] === 0 && !(v[1]! & 0x80)) throw new DerError('non-minimal INTEGER');
  return v[0] === 0 && v.length > 1 ? v.subarray(1) : v;
}

/** Left-pads (or refuses) a big-endian magnitude to `size` bytes. */
export function fixedWidth(magnitude: Buffer, size: number): Buffer {
  const significant = stripZeros(magnitude);
  if (significant.length > size) throw new DerError(`integer longer than ${size} bytes`);
  return Buffer.concat([Buffer.alloc(size - significant.length), significant]);
}

function stripZeros(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  return bytes.subarray(i);
}

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const octets: number[] = [];
  for (let l = length; l > 0; l = Math.floor(l / 256)) octets.unshift(l & 0xff);
  return Buffer.from([0x80 | octets.length, ...octets]);
}

export function element(tag: number, value: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(value.length), value]);
}

export function sequence(...children: Uint8Array[]): Buffer {
  return element(TAG.sequence, Buffer.concat(children));
}

/** A non-negative INTEGER from a big-endian magnitude of any width. */
export function integer(magnitude: Uint8Array): Buffer {
  let bytes = stripZeros(Buffer.from(magnitude));
  if (bytes.length === 0) bytes = Buffer.from([0]);
  else if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return element(TAG.integer, bytes);
}

export function octetString(value: Uint8Array): Buffer {
  return element(TAG.octetString, value);
}

/** A BIT STRING with no unused bits. */
export function bitString(value: Uint8Array): Buffer {
  return element(TAG.bitString, Buffer.concat([Buffer.from([0]), value]));
}

/** The bytes of a BIT STRING that has no unused bits. */
export function bitStringBytes(element: DerElement): Buffer {
  if (element.tag !== TAG.bitString || element.value[0] !== 0) {
    throw new DerError('expected a BIT STRING with no unused bits');
  }
  return element.value.subarray(1);
}

export function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const bytes = [parts[0]! * 40 + parts[1]!];
  for (const part of parts.slice(2)) {
    const septets = [part & 0x7f];
    for (let v = Math.floor(part / 128); v > 0; v = Math.floor(v / 128)) septets.unshift((v & 0x7f) | 0x80);
    bytes.push(...septets);
  }
  return element(TAG.oid, Buffer.from(bytes));
}

/** Wraps DER in PEM armour with 64-column lines. */
export function toPem(label: string, der: Uint8Array): string {
  const lines = Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** The first PEM block's label and DER bytes, or undefined when the text has none. */
export function fromPem(text: string): { label: string; der: Buffer } | undefined {
  const match = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/.exec(text);
  if (!match) return undefined;
  const body = match[2]!.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) throw new DerError('PEM body is not base64');
  return { label: match[1]!, der: Buffer.from(body, 'base64') };
}
