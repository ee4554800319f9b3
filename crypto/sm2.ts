// SM2 (GB/T 32918) for Baygate: key generation, import and export (hex as sm-crypto writes it;
// PEM/DER in SEC1, PKCS#8 and SPKI as OpenSSL writes them), signatures with a distinguishing
// identifier (strict DER, or raw r||s on request), and encryption in the GM/T 0009 ASN.1 form
// or the C1C3C2 / C1C2C3 byte forms.
//
// The work is done by a small N-API addon over the OpenSSL that Node links (crypto/native),
// at OpenSSL's own speed. When it is not built, a BigInt implementation (crypto/sm2-js.ts) takes
// over and a warning says so on every process start; `sm2Backend()` tells which one runs.
// Plain functions over bytes: no Koa, no policy, nothing that knows about HTTP.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as der from './der.js';
import * as js from './sm2-js.js';

/** GM/T 0009's default signer identifier, as PROTOCOL.md §2.1 requires unless registered otherwise. */
export const DEFAULT_SM2_ID = '1234567812345678';

const OID_EC_PUBLIC_KEY = der.oid('1.2.840.10045.2.1');
const OID_SM2 = der.oid('1.2.156.10197.1.301');

/** Raised for keys, signatures and ciphertexts that are malformed (not for a signature that merely fails). */
export class Sm2Error extends Error {
  override name = 'Sm2Error';
}

// ---- the backend ----

type NativeKey = object;
interface NativeSm2 {
  publicKey(point: Buffer): NativeKey;
  privateKey(scalar: Buffer): [NativeKey, Buffer];
  sign(key: NativeKey, id: Buffer, data: Buffer): Buffer;
  verify(key: NativeKey, id: Buffer, data: Buffer, signature: Buffer): boolean;
  encrypt(key: NativeKey, data: Buffer): Buffer;
  decrypt(key: NativeKey, data: Buffer): Buffer | null;
  signAsync(key: NativeKey, id: Buffer, data: Buffer): Promise<Buffer>;
  verifyAsync(key: NativeKey, id: Buffer, data: Buffer, signature: Buffer): Promise<boolean>;
  decryptAsync(key: NativeKey, data: Buffer): Promise<Buffer | null>;
}

function loadNative(): { addon?: NativeSm2; reason?: string } {
  if (process.env.BAYGATE_SM2_BACKEND === 'js') return { reason: 'BAYGATE_SM2_BACKEND=js' };
  const here = dirname(fileURLToPath(import.meta.url));
  // crypto/sm2.ts under tsx, or dist/crypto/sm2.js after the build.
  const candidates = [
    join(here, 'native/build/Release/baygate_sm2.node'),
    join(here, '../../crypto/native/build/Release/baygate_sm2.node'),
  ];
  const path = candidates.find((candidate) => existsSync(candidate));
  if (!path) return { reason: `the addon is not built (run: npm run build:native); looked in ${candidates.join(', ')}` };
  try {
    return { addon: createRequire(import.meta.url)(path) as NativeSm2 };
  } catch (error) {
    return { reason: `the addon at ${path} does not load: ${(error as Error).message}` };
  }
}

const loaded = loadNative();
const native = loaded.addon;
if (!native) {
  process.emitWarning(
    `SM2 is running on the pure-JavaScript fallback (about 100× slower, not constant-time): ${loaded.reason}`,
    { code: 'BAYGATE_SM2_FALLBACK' },
  );
}

/** Which implementation does the curve arithmetic: the OpenSSL addon or the JavaScript fallback. */
export function sm2Backend(): 'native' | 'js' {
  return native ? 'native' : 'js';
}

// ---- keys ----

/** An SM2 public key: a point on the curve, checked when it was made. */
export class Sm2PublicKey {
  readonly type = 'public';
  #native?: NativeKey;
  #point?: js.Point;

  /** @internal use importSm2PublicKey */
  constructor(readonly bytes: Buffer) {
    if (bytes.length !== 65 || bytes[0] !== 4) throw new Sm2Error('an SM2 public key is 65 bytes, 04 || x || y');
    if (native) {
      try {
        this.#native = native.publicKey(bytes);
      } catch (error) {
        throw new Sm2Error((error as Error).message);
      }
    } else if (!js.isOnCurve(this.point)) {
      throw new Sm2Error('the public key is not a point on the SM2 curve');
    }
  }

  /** @internal */
  get handle(): NativeKey | undefined {
    return this.#native;
  }

  /** @internal */
  get point(): js.Point {
    this.#point ??= { x: js.toBigInt(this.bytes.subarray(1, 33)), y: js.toBigInt(this.bytes.subarray(33)) };
    return this.#point;
  }

  /** Uncompressed (04…, 130 hex digits, as sm-crypto writes it) or compressed (02/03…). */
  toHex(compressed = false): string {
    if (!compressed) return this.bytes.toString('hex');
    const odd = this.bytes[64]! & 1;
    return `0${2 + odd}${this.bytes.subarray(1, 33).toString('hex')}`;
  }

  /** SubjectPublicKeyInfo with id-ecPublicKey and the SM2 curve, as OpenSSL writes it. */
  toDer(): Buffer {
    return der.sequence(der.sequence(OID_EC_PUBLIC_KEY, OID_SM2), der.bitString(this.bytes));
  }

  toPem(): string {
    return der.toPem('PUBLIC KEY', this.toDer());
  }

  equals(other: Sm2PublicKey): boolean {
    return this.bytes.equals(other.bytes);
  }
}

/** An SM2 private key with its public key. The scalar never leaves except through an explicit export. */
export class Sm2PrivateKey {
  readonly type = 'private';
  readonly publicKey: Sm2PublicKey;
  #scalar: Buffer;
  #native?: NativeKey;

  /** @internal use importSm2PrivateKey or generateSm2KeyPair */
  constructor(scalar: Buffer) {
    if (scalar.length !== 32) throw new Sm2Error('an SM2 private key is 32 bytes');
    const d = js.toBigInt(scalar);
    if (d < 1n || d > js.N - 2n) throw new Sm2Error('the private key is not in [1, n-2]');
    this.#scalar = Buffer.from(scalar);
    if (native) {
      const [handle, point] = native.privateKey(this.#scalar);
      this.#native = handle;
      this.publicKey = new Sm2PublicKey(point);
    } else {
      this.publicKey = new Sm2PublicKey(js.pointBytes(js.publicPoint(d)));
    }
  }

  /** @internal */
  get handle(): NativeKey | undefined {
    return this.#native;
  }

  /** @internal */
  get scalar(): bigint {
    return js.toBigInt(this.#scalar);
  }

  /** 64 hex digits, as sm-crypto writes a private key. */
  toHex(): string {
    return this.#scalar.toString('hex');
  }

  /** SEC1 ECPrivateKey with the curve and the public key, as `openssl ec` writes it. */
  toSec1Der(): Buffer {
    return der.sequence(
      der.integer(Buffer.from([1])),
      der.octetString(this.#scalar),
      der.element(der.TAG.context0, OID_SM2),
      der.element(der.TAG.context1, der.bitString(this.publicKey.bytes)),
    );
  }

  /** PKCS#8 with id-ecPublicKey and the SM2 curve, as `openssl genpkey -algorithm SM2` writes it. */
  toDer(): Buffer {
    const sec1 = der.sequence(
      der.integer(Buffer.from([1])),
      der.octetString(this.#scalar),
      der.element(der.TAG.context1, der.bitString(this.publicKey.bytes)),
    );
    return der.sequence(der.integer(Buffer.from([0])), der.sequence(OID_EC_PUBLIC_KEY, OID_SM2), der.octetString(sec1));
  }

  toPem(format: 'pkcs8' | 'sec1' = 'pkcs8'): string {
    return format === 'sec1' ? der.toPem('EC PRIVATE KEY', this.toSec1Der()) : der.toPem('PRIVATE KEY', this.toDer());
  }
}

export function generateSm2KeyPair(): Sm2PrivateKey {
  for (;;) {
    const scalar = randomBytes(32);
    const d = js.toBigInt(scalar);
    if (d >= 1n && d <= js.N - 2n) return new Sm2PrivateKey(scalar);
  }
}

const HEX = /^(?:[0-9a-fA-F]{2})+$/;

function asText(input: string | Uint8Array): string | undefined {
  if (typeof input === 'string') return input;
  const text = Buffer.from(input).toString('latin1');
  return text.includes('-----BEGIN') ? text : undefined;
}

function checkCurve(algorithm: der.DerElement): void {
  const [kind, curve] = der.readChildren(algorithm.value);
  if (!kind || !OID_EC_PUBLIC_KEY.equals(der.element(kind.tag, kind.value)) || !curve) {
    throw new Sm2Error('not an elliptic-curve key');
  }
  // OpenSSL 1.1 wrote some SM2 keys with OID sm2 as the algorithm; 3.x writes id-ecPublicKey.
  if (!OID_SM2.equals(der.element(curve.tag, curve.value))) throw new Sm2Error('the key is not on the SM2 curve');
}

function privateFromSec1(sec1: Buffer, curveKnown: boolean): Sm2PrivateKey {
  const [version, scalar, ...rest] = der.readChildren(der.readWhole(sec1, der.TAG.sequence));
  if (!version || version.tag !== der.TAG.integer || version.value[0] !== 1 || !scalar || scalar.tag !== der.TAG.octetString) {
    throw new Sm2Error('not a SEC1 EC private key');
  }
  const parameters = rest.find((e) => e.tag === der.TAG.context0);
  if (parameters && !OID_SM2.equals(parameters.value)) throw new Sm2Error('the key is not on the SM2 curve');
  if (!parameters && !curveKnown) throw new Sm2Error('the SEC1 key does not name its curve');
  const key = new Sm2PrivateKey(der.fixedWidth(scalar.value, 32));
  const embedded = rest.find((e) => e.tag === der.TAG.context1);
  if (embedded) {
    const point = der.bitStringBytes(der.readElement(embedded.value).element);
    if (!point.equals(key.publicKey.bytes)) throw new Sm2Error('the embedded public key does not match the private key');
  }
  return key;
}

/**
 * Reads a private key: 64 hex digits (sm-crypto), PEM `PRIVATE KEY` (PKCS#8) or
 * `EC PRIVATE KEY` (SEC1), or the same as DER bytes. Encrypted PEM is refused with a hint.
 */
export function importSm2PrivateKey(input: string | Uint8Array): Sm2PrivateKey {
  try {
    const text = asText(input);
    if (text !== undefined && HEX.test(text.trim()) && text.trim().length === 64) {
      return new Sm2PrivateKey(Buffer.from(text.trim(), 'hex'));
    }
    let bytes: Buffer;
    if (text !== undefined) {
      const pem = der.fromPem(text);
      if (!pem) throw new Sm2Error('expected 64 hex digits or a PEM private key');
      if (pem.label === 'ENCRYPTED PRIVATE KEY') throw new Sm2Error('the private key is encrypted; decrypt it first (openssl pkey -in key.pem -out plain.pem)');
      // OpenSSL 3's `openssl ec` labels SEC1 SM2 keys `SM2 PRIVATE KEY`.
      if (pem.label === 'EC PRIVATE KEY' || pem.label === 'SM2 PRIVATE KEY') return privateFromSec1(pem.der, false);
      if (pem.label !== 'PRIVATE KEY') throw new Sm2Error(`expected a PRIVATE KEY or EC PRIVATE KEY, not ${pem.label}`);
      bytes = pem.der;
    } else {
      bytes = Buffer.from(input as Uint8Array);
    }
    const children = der.readChildren(der.readWhole(bytes, der.TAG.sequence));
    if (children[0]?.tag === der.TAG.integer && children[0].value[0] === 1) return privateFromSec1(bytes, false);
    const [version, algorithm, privateKey] = children;
    if (!version || version.tag !== der.TAG.integer || version.value[0] !== 0 || !algorithm || !privateKey || privateKey.tag !== der.TAG.octetString) {
      throw new Sm2Error('not a PKCS#8 private key');
    }
    checkCurve(algorithm);
    return privateFromSec1(privateKey.value, true);
  } catch (error) {
    throw asSm2Error(error);
  }
}

/**
 * Reads a public key: hex (130 digits from 04, or 66 compressed from 02/03; sm-crypto also
 * writes the 128 digits of x||y without 04), PEM `PUBLIC KEY` (SPKI), or its DER bytes.
 * Points off the curve are refused.
 */
export function importSm2PublicKey(input: string | Uint8Array): Sm2PublicKey {
  try {
    const text = asText(input);
    const trimmed = text?.trim();
    if (trimmed !== undefined && HEX.test(trimmed)) {
      const bytes = Buffer.from(trimmed, 'hex');
      if (bytes.length === 65 && bytes[0] === 4) return new Sm2PublicKey(bytes);
      if (bytes.length === 64) return new Sm2PublicKey(Buffer.concat([Buffer.from([4]), bytes]));
      if (bytes.length === 33 && (bytes[0] === 2 || bytes[0] === 3)) {
        const point = js.decompress(js.toBigInt(bytes.subarray(1)), bytes[0] === 3);
        if (!point) throw new Sm2Error('the compressed public key is not a point on the SM2 curve');
        return new Sm2PublicKey(js.pointBytes(point));
      }
      throw new Sm2Error('a hex public key is 04||x||y (130 digits), x||y (128) or 02/03||x (66)');
    }
    let bytes: Buffer;
    if (text !== undefined) {
      const pem = der.fromPem(text);
      if (!pem) throw new Sm2Error('expected hex or a PEM public key');
      if (pem.label !== 'PUBLIC KEY') throw new Sm2Error(`expected a PUBLIC KEY, not ${pem.label}`);
      bytes = pem.der;
    } else {
      bytes = Buffer.from(input as Uint8Array);
    }
    const [algorithm, point] = der.readChildren(der.readWhole(bytes, der.TAG.sequence));
    if (!algorithm || algorithm.tag !== der.TAG.sequence || !point) throw new Sm2Error('not a SubjectPublicKeyInfo');
    checkCurve(algorithm);
    return new Sm2PublicKey(Buffer.from(der.bitStringBytes(point)));
  } catch (error) {
    throw asSm2Error(error);
  }
}

function asSm2Error(error: unknown): Error {
  if (error instanceof Sm2Error) return error;
  if (error instanceof der.DerError || error instanceof RangeError) return new Sm2Error(error.message);
  return error as Error;
}

// ---- signatures ----

export interface Sm2SignOptions {
  /** The signer's distinguishing identifier; default `1234567812345678`. */
  id?: string | Uint8Array;
  /** `der` (default): SEQUENCE { r, s }. `raw`: r || s, 32 bytes each. */
  form?: 'der' | 'raw';
}

const DEFAULT_ID_BYTES = Buffer.from(DEFAULT_SM2_ID);
const idBytes = (id: string | Uint8Array | undefined): Buffer =>
  id === undefined ? DEFAULT_ID_BYTES : Buffer.from(id as string);

/** r || s (64 bytes) from a strict DER signature; throws Sm2Error on anything non-canonical. */
export function signatureDerToRaw(signature: Uint8Array): Buffer {
  try {
    const [r, s, extra] = der.readChildren(der.readWhole(Buffer.from(signature), der.TAG.sequence));
    if (!r || !s || extra) throw new Sm2Error('an SM2 signature is SEQUENCE { r INTEGER, s INTEGER }');
    return Buffer.concat([der.fixedWidth(der.integerMagnitude(r), 32), der.fixedWidth(der.integerMagnitude(s), 32)]);
  } catch (error) {
    throw asSm2Error(error);
  }
}

export function signatureRawToDer(signature: Uint8Array): Buffer {
  if (signature.length !== 64) throw new Sm2Error('a raw SM2 signature is 64 bytes, r || s');
  return der.sequence(der.integer(signature.subarray(0, 32)), der.integer(signature.subarray(32)));
}

function rawFromParts(r: bigint, s: bigint): Buffer {
  return Buffer.concat([js.toBytes(r), js.toBytes(s)]);
}

/** Signs `message` (SM3 over Z || message, GB/T 32918.2). */
export function sm2Sign(key: Sm2PrivateKey, message: Uint8Array | string, options: Sm2SignOptions = {}): Buffer {
  const data = Buffer.from(message as string);
  const signature = native
    ? native.sign(key.handle!, idBytes(options.id), data)
    : signatureRawToDer(signWithJs(key, data, options));
  return options.form === 'raw' ? signatureDerToRaw(signature) : signature;
}

function signWithJs(key: Sm2PrivateKey, data: Buffer, options: Sm2SignOptions): Buffer {
  const { r, s } = js.sign(key.scalar, key.publicKey.point, idBytes(options.id), data);
  return rawFromParts(r, s);
}

/** The same, off the main thread when the addon is built. */
export async function sm2SignAsync(key: Sm2PrivateKey, message: Uint8Array | string, options: Sm2SignOptions = {}): Promise<Buffer> {
  if (!native) return sm2Sign(key, message, options);
  const signature = await native.signAsync(key.handle!, idBytes(options.id), Buffer.from(message as string));
  return options.form === 'raw' ? signatureDerToRaw(signature) : signature;
}

/**
 * True only for a valid signature in the requested form: DER must be strict (minimal,
 * no trailing bytes), r and s in [1, n-1]. A malformed signature is false, not an exception.
 */
export function sm2Verify(key: Sm2PublicKey, message: Uint8Array | string, signature: Uint8Array, options: Sm2SignOptions = {}): boolean {
  const derSignature = canonicalDer(signature, options.form);
  if (!derSignature) return false;
  const data = Buffer.from(message as string);
  if (native) return native.verify(key.handle!, idBytes(options.id), data, derSignature);
  const raw = signatureDerToRaw(derSignature);
  return js.verify(key.point, idBytes(options.id), data, js.toBigInt(raw.subarray(0, 32)), js.toBigInt(raw.subarray(32)));
}

export async function sm2VerifyAsync(key: Sm2PublicKey, message: Uint8Array | string, signature: Uint8Array, options: Sm2SignOptions = {}): Promise<boolean> {
  if (!native) return sm2Verify(key, message, signature, options);
  const derSignature = canonicalDer(signature, options.form);
  if (!derSignature) return false;
  return native.verifyAsync(key.handle!, idBytes(options.id), Buffer.from(message as string), derSignature);
}

/** The signature as strict DER, or undefined when it is not well formed. */
function canonicalDer(signature: Uint8Array, form: 'der' | 'raw' | undefined): Buffer | undefined {
  try {
    if (form === 'raw') return signatureRawToDer(signature);
    const raw = signatureDerToRaw(signature);
    // Re-encoding must give the same bytes: one signature, one encoding.
    const canonical = signatureRawToDer(raw);
    return canonical.equals(Buffer.from(signature)) ? canonical : undefined;
  } catch {
    return undefined;
  }
}

// ---- encryption ----

/**
 * `asn1` (default): GM/T 0009 SEQUENCE { x, y, hash OCTET STRING, ciphertext OCTET STRING },
 * as `openssl pkeyutl -encrypt` writes it. `c1c3c2` (GB/T 32918.4 today) and `c1c2c3`
 * (the 2010 draft): C1 is 04 || x || y, 65 bytes; sm-crypto's hex leaves out the 04, which
 * `pointPrefix: false` matches.
 */
export interface Sm2CipherOptions {
  form?: 'asn1' | 'c1c3c2' | 'c1c2c3';
  pointPrefix?: boolean;
}

function partsFromAsn1(ciphertext: Buffer): js.CipherParts {
  const [x, y, hash, body, extra] = der.readChildren(der.readWhole(ciphertext, der.TAG.sequence));
  if (!x || !y || !hash || !body || extra || hash.tag !== der.TAG.octetString || body.tag !== der.TAG.octetString || hash.value.length !== 32 || body.value.length === 0) {
    throw new Sm2Error('not a GM/T 0009 SM2 ciphertext');
  }
  return {
    c1: { x: js.toBigInt(der.integerMagnitude(x)), y: js.toBigInt(der.integerMagnitude(y)) },
    c3: Buffer.from(hash.value),
    c2: Buffer.from(body.value),
  };
}

function partsToAsn1({ c1, c3, c2 }: js.CipherParts): Buffer {
  return der.sequence(der.integer(js.toBytes(c1.x)), der.integer(js.toBytes(c1.y)), der.octetString(c3), der.octetString(c2));
}

function partsFromBytes(ciphertext: Buffer, form: 'c1c3c2' | 'c1c2c3', prefix: boolean): js.CipherParts {
  const c1Length = prefix ? 65 : 64;
  if (ciphertext.length < c1Length + 33 || (prefix && ciphertext[0] !== 4)) throw new Sm2Error(`not an SM2 ${form} ciphertext`);
  const c1Bytes = ciphertext.subarray(prefix ? 1 : 0, c1Length);
  const rest = ciphertext.subarray(c1Length);
  const c1 = { x: js.toBigInt(c1Bytes.subarray(0, 32)), y: js.toBigInt(c1Bytes.subarray(32)) };
  return form === 'c1c3c2'
    ? { c1, c3: Buffer.from(rest.subarray(0, 32)), c2: Buffer.from(rest.subarray(32)) }
    : { c1, c3: Buffer.from(rest.subarray(rest.length - 32)), c2: Buffer.from(rest.subarray(0, rest.length - 32)) };
}

function partsToBytes({ c1, c3, c2 }: js.CipherParts, form: 'c1c3c2' | 'c1c2c3', prefix: boolean): Buffer {
  const point = js.pointBytes(c1).subarray(prefix ? 0 : 1);
  return Buffer.concat(form === 'c1c3c2' ? [point, c3, c2] : [point, c2, c3]);
}

/** Converts a ciphertext between the forms; throws Sm2Error when it is not of the `from` form. */
export function convertSm2Ciphertext(ciphertext: Uint8Array, from: Sm2CipherOptions, to: Sm2CipherOptions): Buffer {
  try {
    const bytes = Buffer.from(ciphertext);
    const parts = (from.form ?? 'asn1') === 'asn1' ? partsFromAsn1(bytes) : partsFromBytes(bytes, from.form as 'c1c3c2', from.pointPrefix ?? true);
    return (to.form ?? 'asn1') === 'asn1' ? partsToAsn1(parts) : partsToBytes(parts, to.form as 'c1c3c2', to.pointPrefix ?? true);
  } catch (error) {
    throw asSm2Error(error);
  }
}

/** @internal for the standard's worked example: encryption with a given k. */
export function sm2EncryptWithK(key: Sm2PublicKey, plaintext: Uint8Array, k: Uint8Array, options: Sm2CipherOptions = {}): Buffer {
  return convertSm2Ciphertext(partsToAsn1(js.encrypt(key.point, plaintext, js.toBigInt(k))), {}, options);
}

/** @internal for the standard's worked example: a signature with a given k, as raw r || s. */
export function sm2SignWithK(key: Sm2PrivateKey, message: Uint8Array, k: Uint8Array, options: Sm2SignOptions = {}): Buffer {
  const { r, s } = js.sign(key.scalar, key.publicKey.point, idBytes(options.id), message, js.toBigInt(k));
  return rawFromParts(r, s);
}

/** Encrypts at least one byte (GB/T 32918.4 has no empty message; OpenSSL refuses one). */
export function sm2Encrypt(key: Sm2PublicKey, plaintext: Uint8Array | string, options: Sm2CipherOptions = {}): Buffer {
  const data = Buffer.from(plaintext as string);
  if (data.length === 0) throw new Sm2Error('nothing to encrypt: the plaintext is empty');
  const asn1 = native ? native.encrypt(key.handle!, data) : partsToAsn1(js.encrypt(key.point, data));
  return (options.form ?? 'asn1') === 'asn1' ? asn1 : convertSm2Ciphertext(asn1, {}, options);
}

/** The plaintext, or undefined when the ciphertext is malformed or does not decrypt under this key. */
export function sm2Decrypt(key: Sm2PrivateKey, ciphertext: Uint8Array, options: Sm2CipherOptions = {}): Buffer | undefined {
  const asn1 = toAsn1(ciphertext, options);
  if (!asn1) return undefined;
  if (native) return native.decrypt(key.handle!, asn1) ?? undefined;
  return js.decrypt(key.scalar, partsFromAsn1(asn1));
}

export async function sm2DecryptAsync(key: Sm2PrivateKey, ciphertext: Uint8Array, options: Sm2CipherOptions = {}): Promise<Buffer | undefined> {
  if (!native) return sm2Decrypt(key, ciphertext, options);
  const asn1 = toAsn1(ciphertext, options);
  if (!asn1) return undefined;
  return (await native.decryptAsync(key.handle!, asn1)) ?? undefined;
}

function toAsn1(ciphertext: Uint8Array, options: Sm2CipherOptions): Buffer | undefined {
  try {
    // Parse even the ASN.1 form here: the strict reader refuses what OpenSSL might tolerate.
    return convertSm2Ciphertext(ciphertext, options, {});
  } catch {
    return undefined;
  }
}
