import assert from 'node:assert/strict';
import { parseStrictJson, StrictJsonError } from '../../gateway/strict-json.js';

describe('strict JSON', function () {
  const samples = [
    '{}', '[]', '0', '-0', '1.5e-3', '"\\u00e9\\ud83d\\ude00\\n\\t\\"\\\\\\/"', 'true', 'null',
    '{"a":[1,2,{"b":null}],"c":"中文","d":-12.5E+2}', ' \n\t{ "x" : [ ] } ',
    JSON.stringify({ deep: Array.from({ length: 20 }, (_, i) => ({ i, s: `v${i}` })) }),
  ];
  for (const sample of samples) {
    it(`parses ${sample.slice(0, 30)} exactly as JSON.parse does`, function () {
      assert.deepEqual(parseStrictJson(sample), JSON.parse(sample));
    });
  }

  const refused: Array<[string, RegExp, string]> = [
    ['{"a":1,"a":2}', /duplicate key "a"/, '/'],
    ['{"x":{"a":1,"a":2}}', /duplicate key "a"/, '/x'],
    ['{"x":{"__proto__":{}}}', /forbidden key "__proto__"/, '/x'],
    ['{"constructor":1}', /forbidden key "constructor"/, '/'],
    ['[1,2,]', /unexpected token/, '/2'],
    ['{"a":01}', /expected "," or "}"/, '/'],
    ['"\u0001"', /control character/, '/'],
    ['"\\x41"', /bad escape/, '/'],
    ['NaN', /unexpected token/, '/'],
    ['{"a":1', /expected "," or "}"/, '/'],
    ['', /unexpected end/, '/'],
  ];
  for (const [text, message, pointer] of refused) {
    it(`refuses ${JSON.stringify(text)}`, function () {
      assert.throws(() => parseStrictJson(text), (error: unknown) => {
        assert.ok(error instanceof StrictJsonError);
        assert.match(error.message, message);
        assert.equal(error.pointer, pointer);
        return true;
      });
    });
  }

  it('allows 64 levels of nesting and refuses 65', function () {
    assert.doesNotThrow(() => parseStrictJson('['.repeat(64) + ']'.repeat(64)));
    assert.throws(() => parseStrictJson('['.repeat(65) + ']'.repeat(65)), /nesting deeper than 64/);
  });

  it('never lets a key reach an object prototype', function () {
    const parsed = parseStrictJson('{"a":{"b":1}}') as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(parsed), Object.prototype);
    assert.equal(({} as Record<string, unknown>).b, undefined);
  });
});
