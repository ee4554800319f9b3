import { createCipheriv, createDecipheriv } from 'node:crypto';

// SM4 (GB/T 32907-2016) through Node's OpenSSL. ECB and CBC use PKCS#7 padding unless told
// otherwise; CTR is a stream mode and never pads. Keys and IVs are 16 bytes; a wrong length is
// a programming error and throws. A failed decryption (bad padding) answers undefined, with no
// detail, so that no caller can become a padding oracle by echoing why.

export type Sm4Mode = 'ecb' | 'cbc' | 'ctr';

export interface Sm4Options {
  mode: Sm4Mode;
  key: Uint8Array;
  /** Required for cbc and ctr (16 bytes); absent for ecb. */
  iv?: Uint8Array;
  /** PKCS#7 padding for ecb and cbc; default true. */
  padding?: boolean;
}

const BLOCK = 16;

function check({ mode, key, iv }: Sm4Options): void {
  if (key.length !== BLOCK) throw new TypeError(`an SM4 key is 16 bytes, not ${key.length}`);
  if (mode === 'ecb' && iv) throw new TypeError('SM4-ECB takes no IV');
  if (mode !== 'ecb' && iv?.length !== BLOCK) throw new TypeError(`SM4-${mode.toUpperCase()} needs a 16-byte IV`);
}

export function sm4Encrypt(options: Sm4Options, plaintext: Uint8Array): Buffer {
  check(options);
  const cipher = createCipheriv(`sm4-${options.mode}`, options.key, options.mode === 'ecb' ? null : options.iv!);
  cipher.setAutoPadding(options.mode !== 'ctr' && options.padding !== false);
  return Buffer.concat([cipher.update(plaintext), cipher.final()]);
}

export function sm4Decrypt(options: Sm4Options, ciphertext: Uint8Array): Buffer | undefined {
  check(options);
  const decipher = createDecipheriv(`sm4-${options.mode}`, options.key, options.mode === 'ecb' ? null : options.iv!);
  decipher.setAutoPadding(options.mode !== 'ctr' && options.padding !== false);
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    return undefined;
  }
}

/**
 * Encrypts one block `rounds` times over, each output the next input (GB/T 32907 Appendix A.2
 * runs this a million times). One cipher object, so the loop stays native.
 */
export function sm4EncryptBlockRepeatedly(key: Uint8Array, block: Uint8Array, rounds: number): Buffer {
  if (block.length !== BLOCK) throw new TypeError('one SM4 block is 16 bytes');
  const cipher = createCipheriv('sm4-ecb', key, null);
  cipher.setAutoPadding(false);
  let state = Buffer.from(block);
  for (let i = 0; i < rounds; i++) state = cipher.update(state);
  return state;
}
