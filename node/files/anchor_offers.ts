/**
 * Which group files a member offers which anchor (issue 15): every file
 * complete here, its own or one it fetched, to every anchor online that is
 * not known to hold it (it took it from us, or we fetched it from it). So a
 * file stays at an anchor for offline members after its sender is gone; the
 * anchor still decides by its quota, and sees only the sealed chunks.
 */
import type { FileRecord } from "./file_records.ts";

/** An anchor online, and the roots it is known to hold. */
export interface AnchorHolding<A> {
  readonly anchor: A;
  readonly held: ReadonlySet<string>;
}

/** Per anchor, the complete files to offer it, each root once, in the order given (pure). */
export function anchorOffers<A, R extends FileRecord>(
  records: readonly R[],
  anchors: readonly AnchorHolding<A>[],
): Array<{ readonly anchor: A; readonly files: R[] }> {
  const out: Array<{ anchor: A; files: R[] }> = [];
  for (const { anchor, held } of anchors) {
    const seen = new Set<string>();
    const files = records.filter((r) => {
      const root = r.manifest.root;
      if (r.state !== "complete" || held.has(root) || seen.has(root)) return false;
      seen.add(root);
      return true;
    });
    if (files.length > 0) out.push({ anchor, files });
  }
  return out;
}
