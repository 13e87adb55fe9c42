/**
 * Where an explanation's message names incidents, kept beside the text as offsets instead of
 * being found in it again by a pattern: the message also quotes what senders wrote (a CI's name
 * from an alert, which may read "incident 42" or "E7"), so only the writer of the message knows
 * which words are incident references.
 *
 * The engine writes its messages with a Wording (engine/wording.ts) and keeps the offsets of the
 * incident names it wrote (`refs`, engine names such as "E12"); the live correlator stores the
 * message with those names replaced by "incident <id>" and the offsets moved (`incidentRefs`);
 * the API replaces those by the incidents' numbers when it reads the alert for people. Each step
 * renames with renameRefs().
 */

/**
 * The message with each reference (an offset where `pattern`, a sticky expression whose first
 * group is the incident's key, matches) replaced by `rename(key)`, and the new offsets; an
 * offset where the pattern does not match (a message changed since) is dropped, its text kept.
 * Offsets are taken in order and must not overlap.
 */
export function renameRefs(
  message: string,
  refs: readonly number[],
  pattern: RegExp,
  rename: (key: string) => string,
): { message: string; refs: number[]; keys: string[] } {
  const parts: string[] = [];
  const moved: number[] = [];
  const keys: string[] = [];
  let from = 0;
  let length = 0;
  for (const at of [...refs].sort((a, b) => a - b)) {
    if (!Number.isInteger(at) || at < from || at >= message.length) continue;
    pattern.lastIndex = at;
    const found = pattern.exec(message);
    if (found === null || found.index !== at || found[1] === undefined) continue;
    const before = message.slice(from, at);
    const name = rename(found[1]);
    parts.push(before, name);
    moved.push(length + before.length);
    keys.push(found[1]);
    length += before.length + name.length;
    from = at + found[0].length;
  }
  parts.push(message.slice(from));
  return { message: parts.join(''), refs: moved, keys };
}

/** An engine incident name at a reference ("E12"): the key is the whole name. */
export const ENGINE_NAME = /(E\d+)/y;

/** A stored reference ("incident 123"): the key is the id (at most 18 digits, a bigint). */
export const STORED_REF = /incident (\d{1,18})(?!\d)/y;
