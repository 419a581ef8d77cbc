/**
 * Files the admin uploads in parts (its request bodies are small): each part
 * appended in order to `<data>/files/uploads/<id>` (0600), the last one
 * sends the file like `roj send --file` and drops the upload. At most
 * MAX_UPLOADS at once; what a restart leaves is dropped at open.
 */
import { RojError } from "../errors.ts";
import type { FileView } from "../api/mod.ts";

/** Uploads open at once. */
export const MAX_UPLOADS = 4;

export interface UploadPart {
  readonly chat: string;
  readonly name: string;
  readonly caption?: string;
  /** Absent for the first part. */
  readonly upload?: string;
  readonly offset: number;
  readonly bytes: Uint8Array;
  readonly last: boolean;
}

/** Sends the uploaded file at `path` under `name`. */
export type SendUpload = (
  chat: string,
  path: string,
  name: string,
  caption?: string,
) => Promise<FileView>;

export class Uploads {
  readonly #dir: string;
  readonly #maxSize: number;
  readonly #send: SendUpload;
  readonly #open = new Map<string, { chat: string; size: number }>();
  #next = 0;

  private constructor(dir: string, maxSize: number, send: SendUpload) {
    this.#dir = dir;
    this.#maxSize = maxSize;
    this.#send = send;
  }

  static async open(
    filesDir: string,
    maxSize: number,
    send: SendUpload,
  ): Promise<Uploads> {
    const dir = `${filesDir}/uploads`;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    return new Uploads(dir, maxSize, send);
  }

  /**
   * Takes one part. @returns the upload's id and bytes so far, and the file once the last part is in.
   * @throws {RojError} bad_input (out of order, over the limit), busy (too many uploads)
   */
  async part(p: UploadPart): Promise<{ upload: string; received: number; file?: FileView }> {
    let id = p.upload;
    if (id === undefined) {
      if (p.offset !== 0) throw new RojError("bad_input", "an upload starts at offset 0");
      if (this.#open.size >= MAX_UPLOADS) {
        throw new RojError("busy", `${MAX_UPLOADS} uploads are under way; try again when one ends`);
      }
      id = `u${this.#next++}`;
      this.#open.set(id, { chat: p.chat, size: 0 });
      await Deno.writeFile(`${this.#dir}/${id}`, new Uint8Array(0), { mode: 0o600 });
    }
    const u = this.#open.get(id);
    if (!u || u.chat !== p.chat) throw new RojError("not_found", "no such upload");
    if (p.offset !== u.size) {
      throw new RojError("bad_input", `expected the part at offset ${u.size}, got ${p.offset}`);
    }
    if (u.size + p.bytes.length > this.#maxSize) {
      await this.#drop(id);
      throw new RojError("bad_input", `the file is over the limit of ${this.#maxSize} bytes`);
    }
    const path = `${this.#dir}/${id}`;
    await Deno.writeFile(path, p.bytes, { append: true });
    u.size += p.bytes.length;
    if (!p.last) return { upload: id, received: u.size };
    try {
      const file = await this.#send(p.chat, path, p.name, p.caption);
      return { upload: id, received: u.size, file };
    } finally {
      await this.#drop(id);
    }
  }

  async #drop(id: string): Promise<void> {
    this.#open.delete(id);
    await Deno.remove(`${this.#dir}/${id}`).catch(() => {});
  }
}
