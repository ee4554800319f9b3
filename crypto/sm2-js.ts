// SM2 (GB/T 32918.1–.4) in plain TypeScript over BigInt: the fallback when the native addon
// (crypto/native) is not built, and the only path that takes a fixed k, so that the standard's
// worked examples can be reproduced bit for bit. About 100× slower than the addon, and not
// constant-time: crypto/sm2.ts warns loudly whenever the gateway runs on it.
import { randomBytes } from 'node:crypto';
import { sm3 } from './sm3.js';

// The recommended curve, GB/T 32918.5 (GM/T 0003.5) §3.
export const P = 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn;
export const A = 0xfffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffcn;
export const B = 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n;
export const N = 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n;
export const GX = 0x32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7n;
export const GY = 0xbc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0n;

export interface Point {
  x: bigint;
  y: bigint;
}

const mod = (a: bigint, m: bigint): bigint => {
  const r = a % m;
  return r < 0n ? r + m : r;
};

function inverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [mod(a, m), m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  if (oldR !== 1n) throw new RangeError('not invertible');
  return mod(oldS, m);
}

function power(base: bigint, exponent: bigint, m: bigint): bigint {
  let result = 1n;
  let b = mod(base, m);
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % m;
    b = (b * b) % m;
  }
  return result;
}

// Jacobian coordinates (X, Y, Z) for x = X/Z², y = Y/Z³; Z = 0 is the point at infinity.
type Jacobian = [bigint, bigint, bigint];
const INFINITY: Jacobian = [1n, 1n, 0n];

function double([x, y, z]: Jacobian): Jacobian {
  if (z === 0n || y === 0n) return INFINITY;
  const yy = (y * y) % P;
  const s = (4n * x * yy) % P;
  const zz = (z * z) % P;
  const m = mod(3n * x * x + A * zz * zz, P);
  const x3 = mod(m * m - 2n * s, P);
  const y3 = mod(m * (s - x3) - 8n * yy * yy, P);
  const z3 = (2n * y * z) % P;
  return [x3, y3, z3];
}

function add(p: Jacobian, q: Jacobian): Jacobian {
  if (p[2] === 0n) return q;
  if (q[2] === 0n) return p;
  const z1z1 = (p[2] * p[2]) % P;
  const z2z2 = (q[2] * q[2]) % P;
  const u1 = (p[0] * z2z2) % P;
  const u2 = (q[0] * z1z1) % P;
  const s1 = (p[1] * q[2] * z2z2) % P;
  const s2 = (q[1] * p[2] * z1z1) % P;
  if (u1 === u2) return s1 === s2 ? double(p) : INFINITY;
  const h = mod(u2 - u1, P);
  const r = mod(s2 - s1, P);
  const hh = (h * h) % P;
  const hhh = (h * hh) % P;
  const v = (u1 * hh) % P;
  const x3 = mod(r * r - hhh - 2n * v, P);
  const y3 = mod(r * (v - x3) - s1 * hhh, P);
  const z3 = (p[2] * q[2] * h) % P;
  return [x3, y3, z3];
}

function multiply(k: bigint, point: Point): Jacobian {
  let result = INFINITY;
  let addend: Jacobian = [point.x, point.y, 1n];
  for (let e = k; e > 0n; e >>= 1n) {
    if (e & 1n) result = add(result, addend);
    addend = double(addend);
  }
  return result;
}

function affine([x, y, z]: Jacobian): Point | undefined {
  if (z === 0n) return undefined;
  const zi = inverse(z, P);
  const zi2 = (zi * zi) % P;
  return { x: (x * zi2) % P, y: (y * zi2 * zi) % P };
}

const G: Point = { x: GX, y: GY };

export function isOnCurve({ x, y }: Point): boolean {
  if (x < 0n || x >= P || y < 0n || y >= P) return false;
  return mod(y * y - (x * x * x + A * x + B), P) === 0n;
}

/** y for x with the parity of `odd` (p ≡ 3 mod 4, so √a = a^((p+1)/4)), or undefined. */
export function decompress(x: bigint, odd: boolean): Point | undefined {
  if (x >= P) return undefined;
  const rhs = mod(x * x * x + A * x + B, P);
  let y = power(rhs, (P + 1n) / 4n, P);
  if ((y * y) % P !== rhs) return undefined;
  if ((y & 1n) === 1n !== odd) y = P - y;
  return { x, y };
}

export function publicPoint(d: bigint): Point {
  const point = affine(multiply(d, G));
  if (!point) throw new RangeError('the private key is not in [1, n-2]');
  return point;
}

export const toBigInt = (bytes: Uint8Array): bigint =>
  bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);

export function toBytes(value: bigint, size = 32): Buffer {
  return Buffer.from(value.toString(16).padStart(size * 2, '0'), 'hex');
}

export function pointBytes({ x, y }: Point): Buffer {
  return Buffer.concat([Buffer.from([4]), toBytes(x), toBytes(y)]);
}

/** Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA), GB/T 32918.2 §5.5. */
export function identityDigest(id: Uint8Array, publicKey: Point): Buffer {
  const entl = Buffer.alloc(2);
  entl.writeUInt16BE(id.length * 8);
  return sm3(
    Buffer.concat([entl, id, toBytes(A), toBytes(B), toBytes(GX), toBytes(GY), toBytes(publicKey.x), toBytes(publicKey.y)]),
  );
}

function randomScalar(): bigint {
  for (;;) {
    const k = toBigInt(randomBytes(32));
    if (k >= 1n && k <= N - 2n) return k;
  }
}

/** GB/T 32918.2 §6.1. `fixedK` is for the standard's worked examples only. */
export function sign(d: bigint, publicKey: Point, id: Uint8Array, message: Uint8Array, fixedK?: bigint): { r: bigint; s: bigint } {
  const e = toBigInt(sm3(Buffer.concat([identityDigest(id, publicKey), message])));
  const dInverse = inverse(1n + d, N);
  for (;;) {
    const k = fixedK ?? randomScalar();
    const x1 = affine(multiply(k, G))!.x;
    const r = mod(e + x1, N);
    if (r === 0n || r + k === N) {
      if (fixedK !== undefined) throw new RangeError('this k gives r = 0 or r + k = n');
      continue;
    }
    const s = mod(dInverse * (k - r * d), N);
    if (s === 0n) {
      if (fixedK !== undefined) throw new RangeError('this k gives s = 0');
      continue;
    }
    return { r, s };
  }
}

/** GB/T 32918.2 §7.1, with r and s range checks. */
export function verify(publicKey: Point, id: Uint8Array, message: Uint8Array, r: bigint, s: bigint): boolean {
  if (r < 1n || r >= N || s < 1n || s >= N) return false;
  const t = mod(r + s, N);
  if (t === 0n) return false;
  const e = toBigInt(sm3(Buffer.concat([identityDigest(id, publicKey), message])));
  const point = affine(add(multiply(s, G), multiply(t, publicKey)));
  if (!point) return false;
  return mod(e + point.x, N) === r;
}

/** KDF of GB/T 32918.4 §5.4.3 with SM3. */
function kdf(z: Buffer, length: number): Buffer {
  const blocks: Buffer[] = [];
  const counter = Buffer.alloc(4);
  for (let i = 1, have = 0; have < length; i++, have += 32) {
    counter.writeUInt32BE(i);
    blocks.push(sm3(Buffer.concat([z, counter])));
  }
  return Buffer.concat(blocks).subarray(0, length);
}

export interface CipherParts {
  c1: Point;
  /** SM3(x2 || M || y2) */
  c3: Buffer;
  c2: Buffer;
}

/** GB/T 32918.4 §6.1. */
export function encrypt(publicKey: Point, message: Uint8Array, fixedK?: bigint): CipherParts {
  for (;;) {
    const k = fixedK ?? randomScalar();
    const c1 = affine(multiply(k, G))!;
    const shared = affine(multiply(k, publicKey));
    if (!shared) throw new RangeError('the public key is not valid');
    const x2 = toBytes(shared.x);
    const y2 = toBytes(shared.y);
    const t = kdf(Buffer.concat([x2, y2]), message.length);
    if (message.length > 0 && t.every((b) => b === 0)) {
      if (fixedK !== undefined) throw new RangeError('this k gives an all-zero key stream');
      continue;
    }
    const c2 = Buffer.from(message.map((b, i) => b ^ t[i]!));
    return { c1, c3: sm3(Buffer.concat([x2, message, y2])), c2 };
  }
}

/** GB/T 32918.4 §7.1; undefined when C1 is not on the curve or C3 does not match. */
export function decrypt(d: bigint, { c1, c3, c2 }: CipherParts): Buffer | undefined {
  if (!isOnCurve(c1)) return undefined;
  const shared = affine(multiply(d, c1));
  if (!shared) return undefined;
  const x2 = toBytes(shared.x);
  const y2 = toBytes(shared.y);
  const t = kdf(Buffer.concat([x2, y2]), c2.length);
  if (c2.length > 0 && t.every((b) => b === 0)) return undefined;
  const message = Buffer.from(c2.map((b, i) => b ^ t[i]!));
  const expected = sm3(Buffer.concat([x2, message, y2]));
  return expected.equals(c3) ? message : undefined;
}
