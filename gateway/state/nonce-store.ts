/**
 * Remembers nonces per terminal for the replay check (PROTOCOL.md §2.1). `remember` answers
 * false for a nonce already seen within its time to live. A fault is thrown; the signature
 * stage fails closed on it.
 */
export interface NonceStore {
  remember(terminalId: string, nonce: string, ttlMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export class NonceStoreFullError extends Error {
  constructor(max: number) {
    super(`the nonce store holds ${max} unexpired nonces; refusing rather than forgetting one`);
    this.name = 'NonceStoreFullError';
  }
}

/**
 * The embedded nonce store: bounded memory. Entries sit in insertion order, which for a fixed
 * TTL is expiry order, so expired ones are swept from the front. When it is full of unexpired
 * nonces it faults instead of evicting one, because an evicted nonce could be replayed.
 */
export class MemoryNonceStore implements NonceStore {
  private readonly expiries = new Map<string, number>();

  constructor(private readonly maxEntries: number, private readonly now: () => number = Date.now) {}

  private sweep(now: number): void {
    for (const [key, expiry] of this.expiries) {
      if (expiry > now) break;
      this.expiries.delete(key);
    }
  }

  async remember(terminalId: string, nonce: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    const key = `${terminalId}\u0000${nonce}`;
    const expiry = this.expiries.get(key);
    if (expiry !== undefined && expiry > now) return false;
    this.sweep(now);
    if (this.expiries.size >= this.maxEntries) throw new NonceStoreFullError(this.maxEntries);
    this.expiries.delete(key);
    this.expiries.set(key, now + ttlMs);
    return true;
  }

  get size(): number {
    return this.expiries.size;
  }

  async close(): Promise<void> {
    this.expiries.clear();
  }
}
