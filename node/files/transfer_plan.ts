/**
 * What to ask for next while fetching a file, as pure functions of the
 * transfer's state: the lowest missing chunks not already asked for, at most
 * `window` in flight, each at most MAX_TRIES times per holder before the
 * holder is given up on (a chunk that fails its hash is refused and asked
 * again). The caller owns sockets and the disk; this decides.
 */

/** Times one chunk is asked of one holder (a bad hash counts) before the holder is dropped. */
export const MAX_TRIES = 3;
/** Chunks asked for at once. */
export const WINDOW = 16;

export interface TransferState {
  /** Per chunk index: held (verified) or not. */
  readonly held: readonly boolean[];
  /** Indices asked for and not answered. */
  readonly inFlight: ReadonlySet<number>;
  /** Failed attempts per index with the current holder. */
  readonly tries: ReadonlyMap<number, number>;
}

/** A new transfer over `held`. */
export function startTransfer(held: readonly boolean[]): TransferState {
  return { held, inFlight: new Set(), tries: new Map() };
}

/** Chunk indices to ask for now: the lowest missing ones not in flight, filling the window. */
export function nextRequests(s: TransferState, window = WINDOW): number[] {
  const out: number[] = [];
  const room = window - s.inFlight.size;
  for (let i = 0; i < s.held.length && out.length < room; i++) {
    if (!s.held[i] && !s.inFlight.has(i)) out.push(i);
  }
  return out;
}

/** The state once `indices` are asked for. */
export function asked(s: TransferState, indices: readonly number[]): TransferState {
  return { ...s, inFlight: new Set([...s.inFlight, ...indices]) };
}

/** What an answer for one chunk leads to. */
export type ChunkOutcome =
  | { readonly kind: "stored"; readonly state: TransferState }
  | { readonly kind: "retry"; readonly state: TransferState }
  | { readonly kind: "give-up"; readonly state: TransferState; readonly index: number };

/** Chunk `index` came back verified (`ok`) or not (bad hash, wrong length, an error). */
export function answered(s: TransferState, index: number, ok: boolean): ChunkOutcome {
  const inFlight = new Set(s.inFlight);
  inFlight.delete(index);
  if (ok) {
    const held = [...s.held];
    held[index] = true;
    return { kind: "stored", state: { held, inFlight, tries: s.tries } };
  }
  const tries = new Map(s.tries);
  const n = (tries.get(index) ?? 0) + 1;
  tries.set(index, n);
  const state = { held: s.held, inFlight, tries };
  return n >= MAX_TRIES ? { kind: "give-up", state, index } : { kind: "retry", state };
}

/** Held chunks, and whether all are. */
export function heldCount(s: { readonly held: readonly boolean[] }): number {
  return s.held.reduce((n, h) => n + (h ? 1 : 0), 0);
}

export function isComplete(s: { readonly held: readonly boolean[] }): boolean {
  return s.held.every((h) => h);
}

/** Why a file is not fetched from a peer (or into a group), or null when it may be. */
export function admission(
  size: number,
  limits: { readonly maxFileSize: number; readonly quotaPerContact: number },
  usedByPeer: number,
  of: "contact" | "group" = "contact",
): string | null {
  if (size > limits.maxFileSize) {
    return `${size} bytes is over the limit of ${limits.maxFileSize} bytes (--max-file-size)`;
  }
  if (of === "group" && usedByPeer + size > limits.quotaPerContact) {
    return `this group's files would take ${usedByPeer + size} bytes here, over the quota of ` +
      `${limits.quotaPerContact} bytes per group (--file-quota)`;
  }
  if (usedByPeer + size > limits.quotaPerContact) {
    return `their files would take ${usedByPeer + size} bytes here, over the quota of ` +
      `${limits.quotaPerContact} bytes per contact (--file-quota)`;
  }
  return null;
}

/**
 * Whether progress is worth telling: at each whole percent (at most 101
 * events a file, however large), given the percent told last (-1: none yet).
 */
export function progressStep(lastPct: number, done: number, total: number): number | null {
  const pct = total > 0 ? Math.floor((100 * done) / total) : 100;
  return pct > lastPct ? pct : null;
}
