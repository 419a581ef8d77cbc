/**
 * The local API's part for files (node/files): methods, their results, the
 * file view and the transfer event. api.ts takes each in by one line.
 */
import { z } from "zod";

const chatName = z.string().min(1).max(64);
/** Most bytes in one `file.upload` part (its base64 stays under the admin's 256 KiB bodies). */
export const MAX_UPLOAD_PART = 128 * 1024;
/** Most bytes one `file.read` returns. */
export const MAX_FILE_READ = 256 * 1024;

/** Parameters of the file methods. */
export const fileMethodParams = {
  /** Send a file from a path the node reads. */
  "file.send": z.object({
    chat: chatName,
    path: z.string().min(1).max(4096),
    caption: z.string().min(1).max(2000).optional(),
  }).strict(),
  files: z.object({ chat: chatName }).strict(),
  "file.save": z.object({
    chat: chatName,
    id: z.string().min(1).max(64),
    out: z.string().min(1).max(4096),
  }).strict(),
  "file.retry": z.object({ chat: chatName, id: z.string().min(1).max(64) }).strict(),
  /**
   * A part of a file the admin uploads, in order (`upload` from the first
   * part's answer); the part with `last` sends the file under `name`.
   */
  "file.upload": z.object({
    chat: chatName,
    name: z.string().min(1).max(512),
    caption: z.string().min(1).max(2000).optional(),
    upload: z.string().regex(/^u[0-9]{1,12}$/).optional(),
    offset: z.number().int().min(0).max(2 ** 53 - 1),
    b: z.string().max(Math.ceil(MAX_UPLOAD_PART / 3) * 4).regex(/^[A-Za-z0-9+/]*={0,2}$/),
    last: z.boolean(),
  }).strict(),
  /** Stop fetching a file (or, ours, sending it); `file.retry` takes it up again. */
  "file.cancel": z.object({ chat: chatName, id: z.string().min(1).max(64) }).strict(),
  /** The sender's thumbnail of a file (JPEG, base64), for the admin. */
  "file.thumb": z.object({ chat: chatName, id: z.string().min(1).max(64) }).strict(),
  /** Bytes of a complete file, a range at a time (the admin's downloads). */
  "file.read": z.object({
    chat: chatName,
    id: z.string().min(1).max(64),
    offset: z.number().int().min(0).max(2 ** 53 - 1),
    length: z.number().int().min(1).max(MAX_FILE_READ),
  }).strict(),
};

/** A file in a chat (node/files). */
export interface FileView {
  /** The start of its entry's hash: what `roj get` takes. */
  readonly id: string;
  readonly chat: string;
  /** Sanitised: no path separator or control character. */
  readonly name: string;
  readonly size: number;
  readonly type: string;
  /** Who sent it, as this node names them; "me" for our own. */
  readonly from: string;
  readonly mine: boolean;
  readonly ts: number;
  readonly caption?: string;
  /** "fetching" also while waiting for the sender to be online. */
  readonly state: "complete" | "fetching" | "refused" | "failed";
  /** Verified chunks held, of `total`. */
  readonly done: number;
  readonly total: number;
  /** Why it is refused or failed, or what stopped the last attempt. */
  readonly reason?: string;
  /** The sender made a thumbnail (`file.thumb`). */
  readonly thumb?: boolean;
  /** A fetch is running now. */
  readonly active?: boolean;
}

/**
 * A file's transfer (node/files): "progress" while chunks come (receive) or
 * are served (send), "complete", "bad-chunk" (one failed its check and is
 * asked for again), "interrupted" (resumes later), "failed" and "refused"
 * with a node-made reason. `fetched`: chunk bytes fetched by this attempt.
 */
export type FileEvent = {
  readonly type: "file";
  readonly op:
    | "progress"
    | "complete"
    | "bad-chunk"
    | "interrupted"
    | "failed"
    | "refused"
    /**
     * A group file of ours, or one we fetched and offered: an anchor now
     * holds its sealed chunks (`anchor`).
     */
    | "anchored";
  readonly chat: string;
  readonly id: string;
  readonly name: string;
  readonly size: number;
  readonly side: "send" | "receive";
  readonly done: number;
  readonly total: number;
  readonly fetched?: number;
  readonly index?: number;
  readonly reason?: string;
  /** A group file: the holder a fetch completed from ("complete"). */
  readonly from?: string;
  /** The anchor that took a group file of ours ("anchored"), or refused it ("refused", side "send"). */
  readonly anchor?: string;
};

/** What the file methods return. */
export interface FileResults {
  "file.send": FileView;
  files: FileView[];
  "file.save": { path: string; size: number };
  "file.retry": FileView;
  "file.thumb": { b: string };
  "file.cancel": FileView;
  "file.upload": { upload: string; received: number; file?: FileView };
  /** `b`: base64 of the bytes (fewer than asked only at the end); `size`: the whole file's. */
  "file.read": { b: string; size: number; name: string };
}
