/**
 * The local API's part for files (node/files): methods, their results, the
 * file view and the transfer event. api.ts takes each in by one line.
 */
import { z } from "zod";

const chatName = z.string().min(1).max(64);
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
  /** Who sent it, as this node names them ("me" style: this node's name for our own). */
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
  readonly op: "progress" | "complete" | "bad-chunk" | "interrupted" | "failed" | "refused";
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
};

/** What the file methods return. */
export interface FileResults {
  "file.send": FileView;
  files: FileView[];
  "file.save": { path: string; size: number };
  "file.retry": FileView;
  /** `b`: base64 of the bytes (fewer than asked only at the end); `size`: the whole file's. */
  "file.read": { b: string; size: number; name: string };
}
