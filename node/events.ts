/**
 * The node's event bus: every change the admin, the CLI and tests may follow
 * (api/NodeEvent), and the log lines people read. A log line is also an
 * event of type "log", so a follower sees what `roj run` prints; tests wait
 * on the structured events, never on a line's wording.
 *
 * Log lines often carry peer text (names, error messages from a peer's
 * refusal, a record's addresses), so the bus escapes every line before it
 * leaves (text/escapeControl): a line holds no terminal escape and no newline,
 * and whoever reads the log can trust that one line is one thing said.
 */
import type { NodeEvent } from "./api/mod.ts";
import { escapeControl } from "./text/mod.ts";

export class EventBus {
  readonly #listeners = new Set<(e: NodeEvent) => void>();
  readonly #logLine: (line: string) => void;

  constructor(logLine: (line: string) => void) {
    this.#logLine = logLine;
  }

  emit(event: NodeEvent): void {
    for (const l of this.#listeners) {
      try {
        l(event);
      } catch { /* a listener's failure is its own */ }
    }
  }

  /**
   * A line for people (the `roj run` log), also sent to followers as a "log"
   * event; escaped on the way, so peer text in it cannot reach a terminal raw
   * nor start a line of its own.
   */
  say(line: string): void {
    const safe = escapeControl(line);
    this.#logLine(safe);
    this.emit({ type: "log", line: safe });
  }

  /** Calls `listener` for every event until the returned function is called. */
  subscribe(listener: (event: NodeEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
