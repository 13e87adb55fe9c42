import { describe, expect, it } from 'vitest';
import { parsePayload } from '../../ingest/payload.ts';

const nested = (levels: number, inner = '1') => '['.repeat(levels) + inner + ']'.repeat(levels);

describe('parsing a webhook body', () => {
  it('reads 256 levels of nesting and refuses 257', () => {
    expect(() => parsePayload(nested(256))).not.toThrow();
    expect(() => parsePayload(nested(257))).toThrow(/deeper than 256 levels/);
    expect(() => parsePayload(`{"a":${nested(256)}}`)).toThrow(/deeper than 256 levels/);
  });

  it('refuses nesting a hundred thousand deep without overflowing the stack, with or without a long integer', () => {
    expect(() => parsePayload(nested(100_000))).toThrow(/deeper than 256 levels/);
    expect(() => parsePayload(nested(100_000, '12345678901234567890'))).toThrow(
      /deeper than 256 levels/,
    );
  });

  it('refuses a key given twice whose first value nests too deep, with a long integer beside it', () => {
    expect(() => parsePayload(`{"a":${nested(100_000)},"a":1,"b":12345678901234567890}`)).toThrow(
      /deeper than 256 levels/,
    );
  });

  it('keeps an integer beyond 2^53 as its exact digits, and plain numbers as numbers', () => {
    expect(parsePayload('{"groupKey":12345678901234567890,"n":42,"x":1.5}')).toEqual({
      groupKey: '12345678901234567890',
      n: 42,
      x: 1.5,
    });
  });

  it('refuses a key named __proto__ at any depth rather than have a map drop it', () => {
    expect(() => parsePayload('{"labels":{"__proto__":"x","a":"b"}}')).toThrow(/"__proto__"/);
    expect(() => parsePayload('[{"a":{"__proto__":{}}}]')).toThrow(/"__proto__"/);
    expect(parsePayload('{"labels":{"proto":"x","__proto":"y"}}')).toEqual({
      labels: { proto: 'x', __proto: 'y' },
    });
  });

  it('says what is wrong with a body that is not JSON', () => {
    expect(() => parsePayload('{"a":')).toThrow(SyntaxError);
  });
});
