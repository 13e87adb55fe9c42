import { describe, expect, it } from 'vitest';
import { ENGINE_NAME, renameRefs, STORED_REF, Wording } from '../../correlator/explanation-refs.ts';

describe('an explanation message with the places where it names incidents', () => {
  it('keeps the offsets of the incident names it was written with, and only those', () => {
    const reason = new Wording().text('within 4 hops of ').incident('E3').text("'s");
    const { message, refs } = new Wording()
      .incident('E12')
      .text(': same CI E1; merged ')
      .incident('E2')
      .text(', ')
      .append(reason)
      .done();
    expect(message).toBe("E12: same CI E1; merged E2, within 4 hops of E3's");
    expect(refs.map((at) => message.slice(at, at + 3))).toEqual(['E12', 'E2,', "E3'"]);
    expect(new Wording().text('new incident').done().refs).toEqual([]);
  });

  it('renames each reference and moves the offsets, leaving the words a sender wrote', () => {
    const message = 'E12: same CI E1; merged E2';
    const ids: Record<string, string> = { E12: '1001', E2: '7', E1: '99' };
    const stored = renameRefs(message, [0, 24], ENGINE_NAME, (n) => `incident ${ids[n]}`);
    expect(stored.message).toBe('incident 1001: same CI E1; merged incident 7');
    expect(stored.keys).toEqual(['E12', 'E2']);
    const numbers: Record<string, string> = { '1001': 'INC0000005', '7': 'INC0000006' };
    const read = renameRefs(
      stored.message,
      stored.refs,
      STORED_REF,
      (id) => `incident ${numbers[id]}`,
    );
    expect(read.message).toBe('incident INC0000005: same CI E1; merged incident INC0000006');
    expect(read.refs.map((at) => read.message.slice(at, at + 19))).toEqual([
      'incident INC0000005',
      'incident INC0000006',
    ]);
  });

  it('drops an offset where no reference is (a hostile or stale one), keeping the text', () => {
    const message = 'incident 5: same CI incident 6';
    for (const refs of [[3], [-1], [1.5], [999], [0, 0]]) {
      const out = renameRefs(message, refs, STORED_REF, () => 'X');
      expect(out.message.replace(/^X/, 'incident 5')).toBe(message);
    }
    // A number too long for an id is no reference.
    expect(renameRefs('incident 1234567890123456789', [0], STORED_REF, () => 'X').keys).toEqual([]);
  });
});
