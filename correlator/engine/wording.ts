/**
 * The engine's explanation messages as it writes them, with the offsets of the incident names in
 * them (see ../explanation-refs.ts, which the live correlator and the API rename them with).
 */

/** No references, shared (an engine holds an explanation per alert). */
const NO_REFS: readonly number[] = Object.freeze([]);

/** A message being written, with the offsets of the incident names in it. */
export class Wording {
  readonly #parts: string[] = [];
  readonly #refs: number[] = [];
  #length = 0;

  /** Adds plain text. */
  text(text: string): this {
    this.#parts.push(text);
    this.#length += text.length;
    return this;
  }

  /** Adds an incident's name, and its offset to the references. */
  incident(name: string): this {
    this.#refs.push(this.#length);
    return this.text(name);
  }

  /** Adds another wording's text and references after this one's. */
  append(other: Wording): this {
    for (const ref of other.#refs) this.#refs.push(this.#length + ref);
    for (const part of other.#parts) this.text(part);
    return this;
  }

  /**
   * The message, joined rather than concatenated (V8 keeps a string built with `+` as a tree of
   * its pieces for as long as it lives, and the engine holds every alert's explanation), and the
   * offsets of the incident names in it, copied to their size (the list pushed to has room for 16
   * numbers after its first push: 144 bytes for the one or two it holds).
   */
  done(): { message: string; refs: readonly number[] } {
    return {
      message: this.#parts.join(''),
      refs: this.#refs.length > 0 ? this.#refs.slice() : NO_REFS,
    };
  }
}
