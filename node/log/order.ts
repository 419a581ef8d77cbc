/** Display order of a chat: (Lamport, author, seq), total and the same on every node. */
import type { EntryFields } from "./entry.ts";

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}

/** Sort comparator for display order. */
export function compareEntries(
  a: Pick<EntryFields, "lamport" | "author" | "seq">,
  b: Pick<EntryFields, "lamport" | "author" | "seq">,
): number {
  return a.lamport - b.lamport || compareBytes(a.author, b.author) || a.seq - b.seq;
}

export { compareBytes };
