/**
 * What the SFTP view tells the user, and how: one-line status messages, and
 * the channel's stderr for what OpenSSH's `sftp` would not show otherwise.
 */
import { Buffer } from "node:buffer";
import type { SftpStream } from "./_sftp_stream.ts";

/** The advice given whenever an upload is refused for the way it was made. */
export const HOW_TO_APPEND = "get the file, add lines at its end, then upload it with `put -a`";

/** One line, for a status message. */
export function messageOf(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return (text.split("\n")[0] ?? "").slice(0, 500) || "internal error";
}

/** A client-supplied path, safe to put in a one-line message. */
export function shown(path: string): string {
  // deno-lint-ignore no-control-regex
  const clean = path.replace(/[\x00-\x1f\x7f]/g, "?");
  return clean.length > 200 ? clean.slice(0, 200) + "…" : clean;
}

/**
 * Writes a line to the channel's stderr, which OpenSSH's `sftp` prints; it
 * shows no message for a failed WRITE or CLOSE otherwise. Uses ssh2
 * internals (its SFTP stream is not a Channel), so it is best effort and
 * respects the channel window.
 */
export function tellUser(sftp: SftpStream, text: string): void {
  const s = sftp as unknown as {
    outgoing?: { id: number; state: string; window: number; packetSize: number };
    _protocol?: { channelExtData?: (id: number, data: Uint8Array, type: number) => void };
  };
  const out = s.outgoing;
  const proto = s._protocol;
  if (!out || out.state !== "open" || typeof proto?.channelExtData !== "function") return;
  const bytes = Buffer.from(`roj: ${text}\n`);
  if (bytes.length > out.window || bytes.length > out.packetSize) return;
  try {
    out.window -= bytes.length;
    proto.channelExtData(out.id, bytes, 1);
  } catch {
    // Only a courtesy; the status reply still carries the failure.
  }
}
