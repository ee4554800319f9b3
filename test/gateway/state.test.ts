import assert from 'node:assert/strict';
import { MemoryNonceStore, NonceStoreFullError } from '../../gateway/state/nonce-store.js';
import { MemoryRateCounterStore } from '../../gateway/state/rate-counters.js';

describe('state stores', function () {
  it('nonce store: refuses a nonce seen within its TTL, per terminal, and forgets it after', async function () {
    let now = 1_000_000;
    const store = new MemoryNonceStore(100, 100, () => now);
    assert.equal(await store.remember('t1', 'nonce-aaaaaaaaaaaa', 600_000), true);
    assert.equal(await store.remember('t1', 'nonce-aaaaaaaaaaaa', 600_000), false);
    assert.equal(await store.remember('t2', 'nonce-aaaaaaaaaaaa', 600_000), true);
    now += 600_001;
    assert.equal(await store.remember('t1', 'nonce-aaaaaaaaaaaa', 600_000), true);
  });

  it('nonce store: bounded memory, and full means a fault rather than a forgotten nonce', async function () {
    let now = 0;
    const store = new MemoryNonceStore(3, 3, () => now);
    for (const n of ['a', 'b', 'c']) assert.equal(await store.remember('t', n, 1000), true);
    await assert.rejects(store.remember('t', 'd', 1000), NonceStoreFullError);
    assert.equal(await store.remember('t', 'a', 1000), false, 'a full store still recognises a replay');
    now = 1001;
    assert.equal(await store.remember('t', 'd', 1000), true, 'expired entries make room');
    assert.equal(store.size, 1);
  });

  it('nonce store: one terminal cannot fill it for the others', async function () {
    const store = new MemoryNonceStore(10, 3, () => 0);
    for (const n of ['a', 'b', 'c']) assert.equal(await store.remember('noisy', n, 1000), true);
    await assert.rejects(store.remember('noisy', 'd', 1000), /terminal noisy holds 3/);
    assert.equal(await store.remember('quiet', 'a', 1000), true);
    assert.equal(store.size, 4);
  });

  it('rate counters: over the limit is a result with the seconds to wait', async function () {
    const store = new MemoryRateCounterStore();
    const limit = { points: 2, durationSeconds: 30 };
    assert.equal((await store.consume('k', limit)).allowed, true);
    assert.equal((await store.consume('k', limit)).remaining, 0);
    const over = await store.consume('k', limit);
    assert.equal(over.allowed, false);
    assert.ok(over.retryAfterSeconds >= 1 && over.retryAfterSeconds <= 30);
    assert.equal((await store.consume('other', limit)).allowed, true);
  });
});
