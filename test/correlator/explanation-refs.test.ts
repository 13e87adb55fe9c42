import { describe, expect, it } from 'vitest';
import { Wording } from '../../correlator/engine/wording.ts';
import { ENGINE_NAME, renameRefs, STORED_REF } from '../../correlator/explanation-refs.ts';
import { nameIncidents } from '../../services/store/alerts.ts';

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
    for (const refs of [[3], [-1], [1.5], [999], [12], [0, 0]]) {
      const out = renameRefs(message, refs, STORED_REF, (id) => `<${id}>`);
      const real = refs.includes(0);
      expect(out.message).toBe(real ? '<5>: same CI incident 6' : message);
      expect(out.refs).toEqual(real ? [0] : []);
      expect(out.keys).toEqual(real ? ['5'] : []);
    }
    // A number too long for an id is no reference.
    expect(renameRefs('incident 1234567890123456789', [0], STORED_REF, () => 'X').keys).toEqual([]);
  });
});

describe('an explanation as the API shows it', () => {
  const numbers = { '5': 'INC0001005', '6': 'INC0001006' };
  const stored = {
    decision: 'attach',
    message: 'incident 5: same CI incident 6; merged incident 6',
  };

  it('names by number only the incidents at its references, and says where', () => {
    expect(nameIncidents({ ...stored, incidentRefs: [0, 39] }, numbers)).toEqual({
      decision: 'attach',
      message: 'incident INC0001005: same CI incident 6; merged incident INC0001006',
      incidents: [
        { id: '5', number: 'INC0001005', at: [0] },
        { id: '6', number: 'INC0001006', at: [48] },
      ],
    });
  });

  it('reads one stored before references by its words, as then', () => {
    expect(nameIncidents(stored, numbers)).toMatchObject({
      message: 'incident INC0001005: same CI incident INC0001006; merged incident INC0001006',
      incidents: [
        { id: '5', number: 'INC0001005', at: [0] },
        { id: '6', number: 'INC0001006', at: [29, 57] },
      ],
    });
  });

  it('links nothing by words when its references are not a list of offsets', () => {
    for (const incidentRefs of [null, 'x', [true, '0', -1]])
      expect(nameIncidents({ ...stored, incidentRefs }, numbers)).toEqual({
        ...stored,
        incidents: [],
      });
  });

  it('drops the references when not read for people', () => {
    expect(nameIncidents({ ...stored, incidentRefs: [0] }, null)).toEqual(stored);
  });
});
