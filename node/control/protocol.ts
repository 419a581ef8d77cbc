/**
 * The control protocol: how the CLI talks to a running node over the Unix
 * socket `<data>/roj.sock` (mode 0600, so only the owner may connect).
 *
 * Newline-delimited JSON, one object per line, UTF-8:
 *
 *   client → node   {"id": 1, "method": "send", "params": {"chat": "bob", "text": "hi"}}
 *   node → client   {"id": 1, "ok": true, "result": {…MessageView}}
 *                   {"id": 1, "ok": false, "error": {"code": "not_found", "message": "…"}}
 *
 *   client → node   {"id": 2, "method": "follow", "params": {"chat": "bob"}}
 *   node → client   {"id": 2, "ok": true, "result": "following"}
 *                   {"id": 2, "event": {…NodeEvent}}      (until either side closes)
 *
 * `id` is a number or a short string chosen by the client and echoed back; a
 * line the node cannot read gets `"id": null`. Methods and their params are
 * those of node/api (`parseCall`); errors carry a RojError code (`internal`
 * for a bug in the node, whose message is then the bug's own), and a client
 * takes a code it does not know for `protocol`. A request line
 * longer than MAX_REQUEST_LINE bytes is answered with a bad_input error and the
 * connection is closed. Unknown fields in the envelope are refused.
 *
 * Version history:
 *   1  first version.
 */
import { z } from "zod";
import type { RojErrorCode } from "../errors.ts";
import type { Method, NodeEvent } from "../api/mod.ts";

/** The protocol version; bump with an entry in the history above. */
export const CONTROL_PROTOCOL_VERSION = 1;

/** Longest request line the node reads, in bytes, newline excluded. */
export const MAX_REQUEST_LINE = 1024 * 1024;

/** Longest response line the client reads (a long `read` may be large), in bytes. */
export const MAX_RESPONSE_LINE = 256 * 1024 * 1024;

/** The file name of the socket inside the data folder. */
export const SOCKET_NAME = "roj.sock";

export type RequestId = number | string;

/** Methods answered with one result (all but `follow`). */
export type CallMethod = Exclude<Method, "follow">;

const requestId = z.union([z.number().finite(), z.string().max(100)]);

/** The envelope of a request line; `params` is checked later by parseCall. */
export const requestSchema = z.object({
  id: requestId,
  method: z.string().max(100),
  params: z.unknown().optional(),
}).strict();

export interface WireError {
  readonly code: RojErrorCode | string;
  readonly message: string;
}

export type ResponseLine =
  | { readonly id: RequestId | null; readonly ok: true; readonly result: unknown }
  | { readonly id: RequestId | null; readonly ok: false; readonly error: WireError }
  | { readonly id: RequestId; readonly event: NodeEvent };

/** What the client accepts from the node; results are the node's own views. */
export const responseSchema = z.union([
  z.object({ id: requestId.nullable(), ok: z.literal(true), result: z.unknown() }),
  z.object({
    id: requestId.nullable(),
    ok: z.literal(false),
    error: z.object({ code: z.string(), message: z.string() }),
  }),
  z.object({ id: requestId, event: z.object({ type: z.string() }).passthrough() }),
]);

/** The result of a follow request before the events start. */
export const FOLLOWING = "following";

/**
 * Splits a byte stream into lines without ever holding more than `max` bytes
 * of an unfinished line. Pure: the socket owner feeds it chunks.
 */
export class LineSplitter {
  readonly #max: number;
  #parts: Uint8Array[] = [];
  #size = 0;
  #overflow = false;

  /** @param max longest line accepted, in bytes, newline excluded. */
  constructor(max: number) {
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`bad max line ${max}`);
    this.#max = max;
  }

  /** True once a line longer than `max` was seen; the splitter then takes no more input. */
  get overflow(): boolean {
    return this.#overflow;
  }

  /** Bytes held for the unfinished line. */
  get pending(): number {
    return this.#size;
  }

  /**
   * Feeds a chunk; returns the complete lines in it, without "\n" (or "\r\n").
   * Lines finished before an overlong one are still returned.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#overflow) return [];
    const lines: Uint8Array[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) break;
      const part = chunk.subarray(start, nl);
      if (this.#size + part.length > this.#max) return this.#fail(lines);
      lines.push(this.#take(part));
      start = nl + 1;
    }
    const rest = chunk.subarray(start);
    if (this.#size + rest.length > this.#max) return this.#fail(lines);
    if (rest.length > 0) {
      this.#parts.push(rest.slice());
      this.#size += rest.length;
    }
    return lines;
  }

  #fail(lines: Uint8Array[]): Uint8Array[] {
    this.#overflow = true;
    this.#parts = [];
    this.#size = 0;
    return lines;
  }

  #take(last: Uint8Array): Uint8Array {
    let line: Uint8Array;
    if (this.#parts.length === 0) line = last.slice();
    else {
      line = new Uint8Array(this.#size + last.length);
      let at = 0;
      for (const p of this.#parts) {
        line.set(p, at);
        at += p.length;
      }
      line.set(last, at);
    }
    this.#parts = [];
    this.#size = 0;
    return line.length > 0 && line[line.length - 1] === 0x0d ? line.subarray(0, -1) : line;
  }
}
