import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { BaygateError, CODES, type ErrorCode } from '../../gateway/errors.js';
import { ROOT } from '../helpers/harness.js';

describe('error codes', function () {
  it('are exactly the codes of PROTOCOL.md §5, each with its HTTP status', async function () {
    const protocol = await readFile(path.resolve(ROOT, '../shared/PROTOCOL.md'), 'utf8');
    const table = new Map<string, number>();
    for (const [, code, status] of protocol.matchAll(/^\| `(BG_[A-Z_]+)` \| ([0-9]{3}) \|/gm)) table.set(code!, Number(status));
    assert.ok(table.size >= 24, `found only ${table.size} codes in PROTOCOL.md`);
    assert.deepEqual(Object.keys(CODES).sort(), [...table.keys()].sort());
    for (const [code, status] of table) assert.equal(CODES[code as ErrorCode].status, status, code);
  });

  it('have unique wording in both languages', function () {
    const zh = Object.values(CODES).map((c) => c.message);
    const en = Object.values(CODES).map((c) => c.messageEn);
    assert.equal(new Set(zh).size, zh.length);
    assert.equal(new Set(en).size, en.length);
  });

  it('are all documented in the README', async function () {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    for (const code of Object.keys(CODES)) assert.ok(readme.includes(`\`${code}\``), `${code} is not in README.md`);
  });

  it('never expose what went wrong inside the gateway', function () {
    assert.equal(new BaygateError('BG_INTERNAL', { details: [{ message: 'stack' }] }).expose, false);
    assert.equal(new BaygateError('BG_VALIDATION_FAILED').expose, true);
  });
});
