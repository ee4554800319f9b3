import type { Sm2PrivateKey, Sm2PublicKey } from '../crypto/sm2.js';

export interface GatewayKey {
  readonly id: string;
  readonly use: 'sig' | 'enc';
  readonly key: Sm2PrivateKey;
  /** Milliseconds since the epoch; absent means no end. */
  readonly notAfter?: number;
}

/** One entry of GET /.well-known/baygate/keys (PROTOCOL.md §3). */
export interface PublishedKey {
  kid: string;
  use: 'sig' | 'enc';
  alg: 'SM2';
  publicKey: string;
  publicKeyHex: string;
  notAfter?: string;
}

/** A terminal's registered request-signing key (PROTOCOL.md §2). */
export interface TerminalKey {
  readonly id: string;
  readonly key: Sm2PublicKey;
  readonly distinguishingId: string;
}

/**
 * The gateway's SM2 keys from the policy, in policy order. The first unexpired key of a use is
 * the active one; the rest stay published (and, for encryption, accepted) until they expire or
 * leave the policy. Expiry is checked at each use, so a key stops at its notAfter without a reload.
 */
export class GatewayKeySet {
  constructor(readonly keys: readonly GatewayKey[], private readonly now: () => number = Date.now) {}

  private valid(key: GatewayKey): boolean {
    return key.notAfter === undefined || key.notAfter > this.now();
  }

  /** The key that signs responses now, or undefined when none is valid. */
  signing(): GatewayKey | undefined {
    return this.keys.find((k) => k.use === 'sig' && this.valid(k));
  }

  /** The encryption key a kiosk named, if it is one of ours and still valid. */
  encryption(kid: string): GatewayKey | undefined {
    return this.keys.find((k) => k.use === 'enc' && k.id === kid && this.valid(k));
  }

  /** The published document; active keys first within each use. */
  document(): { keys: PublishedKey[] } {
    return {
      keys: this.keys.filter((k) => this.valid(k)).map((k) => ({
        kid: k.id,
        use: k.use,
        alg: 'SM2' as const,
        publicKey: k.key.publicKey.toPem(),
        publicKeyHex: k.key.publicKey.toHex(),
        ...(k.notAfter === undefined ? {} : { notAfter: new Date(k.notAfter).toISOString() }),
      })),
    };
  }
}
