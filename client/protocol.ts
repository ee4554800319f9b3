// PROTOCOL.md §2.1, §3 and §4 as plain functions: the strings that are signed and the encrypted
// envelope. The gateway and the client SDK both use this file, so the two cannot drift apart.
import { randomBytes } from 'node:crypto';
import { equalSecrets, hmacSm3, sm3Hex } from '../crypto/sm3.js';
import { sm4Decrypt, sm4Encrypt } from '../crypto/sm4.js';

export const REQUEST_SIGNATURE_PREFIX = 'BG1-SM2-SM3';
export const RESPONSE_SIGNATURE_PREFIX = 'BG1-SM2-SM3-RESP';
export const ENCRYPTED_CONTENT_TYPE = 'application/vnd.baygate.enc+json';
export const NONCE_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;

/** §2.1: split on '&', keep each pair as sent, sort by byte value, join with '&'. */
export function canonicalQuery(rawQuery: string): string {
  if (rawQuery === '') return '';
  return rawQuery
    .split('&')
    .map((pair) => Buffer.from(pair, 'latin1'))
    .sort(Buffer.compare)
    .map((pair) => pair.toString('latin1'))
    .join('&');
}

export interface RequestToSign {
  method: string;
  /** The path as sent on the request line, before any '?'. */
  path: string;
  /** The raw query after '?', or ''. */
  query: string;
  clientId: string;
  timestamp: string;
  nonce: string;
  body: Uint8Array;
}

/** §2.1: the eight LF-joined fields. */
export function requestStringToSign(r: RequestToSign): string {
  return [
    REQUEST_SIGNATURE_PREFIX,
    r.method.toUpperCase(),
    r.path,
    canonicalQuery(r.query),
    r.clientId,
    r.timestamp,
    r.nonce,
    sm3Hex(r.body),
  ].join('\n');
}

/** §3: what the gateway's response signature covers. */
export function responseStringToSign(requestId: string, status: number, timestamp: string, body: Uint8Array): string {
  return [RESPONSE_SIGNATURE_PREFIX, requestId, String(status), timestamp, sm3Hex(body)].join('\n');
}

/** A fresh nonce: 32 characters of base64url. */
export function newNonce(): string {
  return randomBytes(24).toString('base64url');
}

/** §4: the wire envelope. `ek` is absent in responses. */
export interface Envelope {
  v: 1;
  kid: string;
  ek?: string;
  iv: string;
  ct: string;
  mac: string;
}

/** §4's K: encKey (16 bytes) || macKey (16 bytes). */
export interface SessionKey {
  encKey: Buffer;
  macKey: Buffer;
}

export function splitSessionKey(k: Uint8Array): SessionKey | undefined {
  if (k.length !== 32) return undefined;
  return { encKey: Buffer.from(k.subarray(0, 16)), macKey: Buffer.from(k.subarray(16)) };
}

/** Encrypts a plaintext under K: SM4-CBC with PKCS#7 and a fresh IV, HMAC-SM3 over iv || ct. */
export function sealEnvelope(plaintext: Uint8Array, key: SessionKey, kid: string, ek?: Uint8Array): Envelope {
  const iv = randomBytes(16);
  const ct = sm4Encrypt({ mode: 'cbc', key: key.encKey, iv }, plaintext);
  const mac = hmacSm3(key.macKey, Buffer.concat([iv, ct]));
  return {
    v: 1,
    kid,
    ...(ek ? { ek: Buffer.from(ek).toString('base64') } : {}),
    iv: iv.toString('base64'),
    ct: ct.toString('base64'),
    mac: mac.toString('base64'),
  };
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict base64 (no whitespace, canonical padding), or undefined. */
export function decodeBase64(text: unknown): Buffer | undefined {
  if (typeof text !== 'string' || !BASE64.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

/** What is wrong with an envelope's shape, or undefined when it has the §4 shape. */
export function envelopeProblem(value: unknown, expectEk: boolean): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'the body is not a JSON object';
  const e = value as Record<string, unknown>;
  if (e.v !== 1) return 'v must be 1';
  for (const field of ['kid', 'iv', 'ct', 'mac', ...(expectEk ? ['ek'] : [])]) {
    if (typeof e[field] !== 'string' || e[field] === '') return `${field} must be a non-empty string`;
  }
  const allowed = new Set(['v', 'kid', 'ek', 'iv', 'ct', 'mac']);
  const extra = Object.keys(e).find((k) => !allowed.has(k));
  return extra === undefined ? undefined : `unknown field "${extra}"`;
}

/** Checks the MAC, then decrypts: the plaintext, or undefined for any failure (one answer for all). */
export function openEnvelope(envelope: Pick<Envelope, 'iv' | 'ct' | 'mac'>, key: SessionKey): Buffer | undefined {
  const iv = decodeBase64(envelope.iv);
  const ct = decodeBase64(envelope.ct);
  const mac = decodeBase64(envelope.mac);
  if (!iv || iv.length !== 16 || !ct || ct.length === 0 || ct.length % 16 !== 0 || !mac) return undefined;
  if (!equalSecrets(hmacSm3(key.macKey, Buffer.concat([iv, ct])), mac)) return undefined;
  return sm4Decrypt({ mode: 'cbc', key: key.encKey, iv }, ct);
}
