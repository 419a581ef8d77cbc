/**
 * The node's event bus: every change the admin, the CLI and tests may follow
 * (api/NodeEvent), and the log lines people read. A log line is also an
 * event of type "log", so a follower sees what `roj run` prints; tests wait
 * on the structured events, never on a line's wording.
 */
import type { NodeEvent } from "./api/mod.ts";

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

  /** A line for people (the `roj run` log), also sent to followers as a "log" event. */
  say(line: string): void {
    this.#logLine(line);
    this.emit({ type: "log", line });
  }

  /** Calls `listener` for every event until the returned function is called. */
  subscribe(listener: (event: NodeEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
