import assert from 'node:assert/strict';
import { isHongKongId, isMainlandResidentId, mainlandResidentIdCheckChar, passesLuhn } from '../../audit/identity-numbers.js';
import { createMasker, maskString } from '../../audit/mask.js';

describe('identity number checks', function () {
  it('validates the GB 11643 check character and birth date of mainland resident IDs', function () {
    assert.ok(isMainlandResidentId('44030419900307123X'));
    assert.ok(isMainlandResidentId('44030419900307123x'));
    assert.ok(isMainlandResidentId('11010519491231002X'));
    assert.ok(!isMainlandResidentId('440304199003071230'), 'wrong check character');
    assert.ok(!isMainlandResidentId('440304199002301234'), 'February 30th');
    assert.ok(!isMainlandResidentId('44030419900307123'), 'too short');
    assert.equal(mainlandResidentIdCheckChar('11010519491231002'), 'X');
  });

  it('validates Hong Kong identity card check digits', function () {
    assert.ok(isHongKongId('A123456(3)'));
    assert.ok(isHongKongId('A1234563'));
    assert.ok(isHongKongId('AB987654(3)'), 'two-letter prefix');
    assert.ok(isHongKongId('G123456(A)'), 'check character A');
    assert.ok(!isHongKongId('AB987654(2)'));
    assert.ok(!isHongKongId('A123456(4)'));
    assert.ok(!isHongKongId('C668668(E)'), 'E is not a check character');
  });

  it('applies the Luhn check to bank card numbers', function () {
    assert.ok(passesLuhn('4111111111111111'));
    assert.ok(passesLuhn('5500005555555559'));
    assert.ok(!passesLuhn('4111111111111112'));
  });
});

describe('masking', function () {
  it('masks resident IDs, mistyped ones too, but not other 18-digit numbers', function () {
    assert.equal(maskString('身份证 44030419900307123X 已核验'), '身份证 440***********123X 已核验');
    assert.equal(maskString('440304199003071230'), '440***********1230');
    // An order number whose "birth date" is not a date is left alone.
    assert.equal(maskString('order 202699991234567890'), 'order 202699991234567890');
  });

  it('masks phone numbers of the three places, e-mail and bank cards', function () {
    assert.equal(maskString('13812345678'), '138****5678');
    assert.equal(maskString('+86 13812345678'), '+86 138****5678');
    assert.equal(maskString('call +852 9123 4567'), 'call +852********67');
    assert.equal(maskString('zhang.san@example.com'), 'z***@example.com');
    assert.equal(maskString('card 4111111111111111'), 'card 4111********1111');
    assert.equal(maskString('HKID A123456(3)'), 'HKID A*********');
  });

  it('applies field rules from the policy, and always hides secrets', function () {
    const masker = createMasker([{ field: 'name', rule: 'name' }, { field: 'address', rule: 'district' }, { field: 'note', rule: 'drop' }]);
    const masked = masker.mask({
      name: '欧阳娜娜',
      address: '广东省深圳市福田区福华三路 88 号',
      note: 'free text',
      password: 'hunter2',
      nested: [{ Name: '张三', mobile: '13912345678' }],
    });
    assert.deepEqual(masked, {
      name: '欧***',
      address: '广东省深圳市福田区***',
      password: '***',
      nested: [{ Name: '张*', mobile: '139****5678' }],
    });
  });

  it('bounds the summary it writes to the audit record', function () {
    const masker = createMasker([]);
    const summary = masker.summary({ items: Array.from({ length: 500 }, (_, i) => `item-${i}`) }, 200)!;
    assert.ok(summary.length <= 200);
    assert.match(summary, /…\(truncated\)$/);
    assert.equal(masker.summary(undefined, 100), undefined);
  });
});
