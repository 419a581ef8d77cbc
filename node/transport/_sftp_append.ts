/**
 * What one SFTP handle opened for appending has received, as a pure state
 * machine: writes must be contiguous from the size the file had at open, bytes
 * are split into lines at "\n", and the total is bounded. Checking and storing
 * the lines is the caller's business.
 */

/** Most bytes one handle may append. */
export const MAX_APPEND_BYTES = 8 * 1024 * 1024;

/** A complete line with its number in the whole file (1-based). */
export interface NumberedLine {
  readonly line: string;
  readonly number: number;
}

export type WriteResult =
  | { readonly ok: true; readonly lines: NumberedLine[] }
  | { readonly ok: false; readonly reason: string };

export type FinishResult =
  | { readonly ok: true; readonly lines: string[] }
  | { readonly ok: false; readonly reason: string };

export interface AppendBufferOptions {
  /** Lines the file already had at open, so reasons can name the line in the user's file. @default 0 */
  linesBefore?: number;
  /** @default MAX_APPEND_BYTES */
  maxBytes?: number;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

export class AppendBuffer {
  /** The file size at open; the first write must be at this offset. */
  readonly base: number;
  readonly #maxBytes: number;
  #received = 0;
  #lineNumber: number;
  #tail: Uint8Array[] = [];
  #tailBytes = 0;
  readonly #lines: string[] = [];
  #failure: string | null = null;

  constructor(base: number, options: AppendBufferOptions = {}) {
    this.base = base;
    this.#maxBytes = options.maxBytes ?? MAX_APPEND_BYTES;
    this.#lineNumber = options.linesBefore ?? 0;
  }

  /** Bytes accepted so far. */
  get received(): number {
    return this.#received;
  }

  /** The first failure, after which every write and the finish fail. */
  get failure(): string | null {
    return this.#failure;
  }

  /** Marks the buffer failed (for example when a line did not pass its check). */
  fail(reason: string): void {
    this.#failure ??= reason;
  }

  /** Takes one WRITE; returns the lines it completed (empty lines dropped). */
  write(offset: number, data: Uint8Array): WriteResult {
    if (this.#failure !== null) return { ok: false, reason: this.#failure };
    const expected = this.base + this.#received;
    if (offset !== expected) {
      return this.#refuse(
        `only appending at the end is allowed (write at ${offset}, the end is ${expected})`,
      );
    }
    if (this.#received + data.length > this.#maxBytes) {
      return this.#refuse(`one upload may append at most ${this.#maxBytes} bytes`);
    }
    this.#received += data.length;
    const lines: NumberedLine[] = [];
    let start = 0;
    for (let nl = data.indexOf(10); nl !== -1; nl = data.indexOf(10, start)) {
      const piece = data.subarray(start, nl);
      start = nl + 1;
      const bytes = this.#tailBytes === 0 ? piece : this.#joinTail(piece);
      this.#lineNumber++;
      let line: string;
      try {
        line = decoder.decode(bytes);
      } catch {
        return this.#refuse(`line ${this.#lineNumber} is not UTF-8`);
      }
      if (line.endsWith("\r")) line = line.slice(0, -1);
      if (line.trim() === "") continue;
      lines.push({ line, number: this.#lineNumber });
      this.#lines.push(line);
    }
    if (start < data.length) {
      this.#tail.push(data.slice(start));
      this.#tailBytes += data.length - start;
    }
    return { ok: true, lines };
  }

  /** The lines to store, once every byte has arrived; fails on a partial last line. */
  finish(): FinishResult {
    if (this.#failure !== null) return { ok: false, reason: this.#failure };
    if (this.#tailBytes > 0) {
      return this.#refuse(`line ${this.#lineNumber + 1} does not end with a newline`);
    }
    return { ok: true, lines: this.#lines.slice() };
  }

  #joinTail(piece: Uint8Array): Uint8Array {
    const out = new Uint8Array(this.#tailBytes + piece.length);
    let p = 0;
    for (const t of this.#tail) {
      out.set(t, p);
      p += t.length;
    }
    out.set(piece, p);
    this.#tail = [];
    this.#tailBytes = 0;
    return out;
  }

  #refuse(reason: string): { ok: false; reason: string } {
    this.fail(reason);
    return { ok: false, reason: this.#failure! };
  }
}
