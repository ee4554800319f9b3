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
  constructor(what: string, max: number) {
    super(`${what} holds ${max} unexpired nonces; refusing rather than forgetting one`);
    this.name = 'NonceStoreFullError';
  }
}

/**
 * The embedded nonce store: bounded memory, in total and per terminal, so one terminal cannot
 * crowd out the others. Each terminal's entries sit in insertion order, which for a fixed TTL is
 * expiry order, so expired ones are swept from the front. When full of unexpired nonces it
 * faults instead of evicting one, because an evicted nonce could be replayed.
 */
export class MemoryNonceStore implements NonceStore {
  private readonly terminals = new Map<string, Map<string, number>>();
  private total = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxPerTerminal: number = maxEntries,
    private readonly now: () => number = Date.now,
  ) {}

  private sweep(nonces: Map<string, number>, now: number): void {
    for (const [nonce, expiry] of nonces) {
      if (expiry > now) break;
      nonces.delete(nonce);
      this.total--;
    }
  }

  async remember(terminalId: string, nonce: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    let nonces = this.terminals.get(terminalId);
    if (!nonces) {
      nonces = new Map();
      this.terminals.set(terminalId, nonces);
    }
    const expiry = nonces.get(nonce);
    if (expiry !== undefined && expiry > now) return false;
    if (expiry !== undefined) {
      // Expired but not yet swept: re-add at the back, where its new expiry belongs.
      nonces.delete(nonce);
      this.total--;
    }
    this.sweep(nonces, now);
    if (nonces.size >= this.maxPerTerminal) throw new NonceStoreFullError(`the nonce store for terminal ${terminalId}`, this.maxPerTerminal);
    if (this.total >= this.maxEntries) {
      for (const other of this.terminals.values()) this.sweep(other, now);
      if (this.total >= this.maxEntries) throw new NonceStoreFullError('the nonce store', this.maxEntries);
    }
    nonces.set(nonce, now + ttlMs);
    this.total++;
    return true;
  }

  get size(): number {
    return this.total;
  }

  async close(): Promise<void> {
    this.terminals.clear();
    this.total = 0;
  }
}
