/**
 * `roj run --events FILE`: every event of the node, one JSON object a line,
 * appended to a file as it happens, for scripts (the NAT lab tests read it).
 *
 * A file rather than the control socket's `follow`: a follower connects only
 * once the node runs, so it misses what happens while it starts (the port
 * mapping, the first sessions), and it is cut off as the node stops, before
 * the last events (mappings removed). Written synchronously, so that a line
 * is in the file before the next event happens and a SIGKILL loses none
 * that was told.
 */
import { type NodeEvent, RojError } from "../node/mod.ts";

const encoder = new TextEncoder();

/** Something whose events can be followed (a RojNode). */
export interface EventSource {
  subscribe(listener: (event: NodeEvent) => void): () => void;
}

/** Appends what `source` tells, from now on, to `path` (mode 0600). Returns a function that stops and closes it. */
export function appendEvents(source: EventSource, path: string): () => void {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { write: true, append: true, create: true, mode: 0o600 });
  } catch (err) {
    throw new RojError("bad_input", `--events ${path}: ${(err as Error).message}`, { cause: err });
  }
  let open = true;
  const stop = source.subscribe((event) => {
    if (!open) return;
    const line = encoder.encode(`${JSON.stringify(event)}\n`);
    try {
      for (let at = 0; at < line.length;) at += file.writeSync(line.subarray(at));
    } catch {
      // A full disk or a removed file: the node runs on without its event file.
      open = false;
    }
  });
  return () => {
    stop();
    open = false;
    file.close();
  };
}
