import assert from 'node:assert/strict';
import { resolveClientAddress } from '../../gateway/client-address.js';
import { compileRanges, normaliseAddress } from '../../policies/ip-ranges.js';

describe('client address and IP ranges', function () {
  const proxies = compileRanges(['10.0.0.0/8', '::1']);

  it('folds IPv4-mapped IPv6 to IPv4, in addresses and in ranges', function () {
    assert.equal(normaliseAddress('::ffff:192.0.2.7'), '192.0.2.7');
    assert.ok(compileRanges(['192.0.2.0/24']).contains('::ffff:192.0.2.7'));
    assert.ok(compileRanges(['::ffff:192.0.2.0/120']).contains('192.0.2.7'));
    assert.ok(!compileRanges(['192.0.2.0/24']).contains('2001:db8::1'));
    assert.ok(compileRanges(['2001:db8::/32']).contains('2001:db8::1'));
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', function () {
    assert.deepEqual(resolveClientAddress('::ffff:203.0.113.9', '198.51.100.1', proxies), { address: '203.0.113.9' });
  });

  it('takes the first untrusted hop from the right when the peer is a trusted proxy', function () {
    assert.deepEqual(resolveClientAddress('10.1.2.3', '198.51.100.1, 203.0.113.5, 10.9.9.9', proxies), { address: '203.0.113.5' });
    assert.deepEqual(resolveClientAddress('::1', ['198.51.100.1', '10.0.0.2'], proxies), { address: '198.51.100.1' });
  });

  it('flags an X-Forwarded-For hop that is not an address', function () {
    const result = resolveClientAddress('10.1.2.3', '198.51.100.1, not-an-ip', proxies);
    assert.equal(result.address, '10.1.2.3');
    assert.match(result.problem!, /not an IP address/);
  });

  it('uses the peer when there is no header', function () {
    assert.deepEqual(resolveClientAddress('10.1.2.3', undefined, proxies), { address: '10.1.2.3' });
  });
});
