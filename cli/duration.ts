/** Durations as people type them on the command line: 90s, 30m, 24h, 7d. */
import { RojError } from "../node/mod.ts";

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

export interface DurationBounds {
  /** Shortest accepted, in seconds. @default 60 */
  min?: number;
  /** Longest accepted, in seconds. @default 30 days */
  max?: number;
}

/** "30m" for 1800 s: the largest unit that divides it evenly. */
export function formatDuration(seconds: number): string {
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["m", 60]] as const) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/**
 * Parses a whole number and a unit (s, m, h, d) into seconds.
 * @throws {RojError} bad_input naming the text seen, when it is malformed or out of bounds.
 * @example
 * ```ts
 * import { parseDuration } from "./duration.ts";
 * parseDuration("24h"); // 86400
 * ```
 */
export function parseDuration(text: string, bounds: DurationBounds = {}): number {
  const min = bounds.min ?? 60;
  const max = bounds.max ?? 30 * 86400;
  const m = /^\s*(\d{1,9})\s*([smhd])\s*$/i.exec(text);
  if (!m) {
    throw new RojError(
      "bad_input",
      `bad duration ${
        JSON.stringify(text.slice(0, 40))
      }: use a whole number and a unit, like 30m, 24h or 7d`,
    );
  }
  const seconds = Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
  if (seconds < min || seconds > max) {
    throw new RojError(
      "bad_input",
      `duration ${JSON.stringify(text.trim())} is out of range: use ${formatDuration(min)} to ${
        formatDuration(max)
      }`,
    );
  }
  return seconds;
}
