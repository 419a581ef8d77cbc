/**
 * Tables by peer, kept immutable as the cascade's state is, in two levels of
 * parts by the peer id's first two characters: a change copies two short
 * lists of parts and one small part, not the whole table. With 1,000 offline
 * contacts all being dialled, copying the dials (and filtering the round's
 * waiting list) at each of the 1,000 steps their answers make cost seconds
 * of CPU and hundreds of MB of garbage. Holds the dials under way and the
 * dials a round still waits for.
 */
import type { Dial, PeerId } from "./cascade_state.ts";

type Part<V> = Readonly<Record<PeerId, V>>;

export interface PeerTable<V> {
  readonly size: number;
  readonly parts: Readonly<Record<string, Readonly<Record<string, Part<V>>>>>;
}

export type DialTable = PeerTable<Dial>;

/** A table with nothing in it. */
export function emptyTable<V>(): PeerTable<V> {
  return { size: 0, parts: {} };
}

/** What the table holds for `peer`, if anything. */
export function tableGet<V>(table: PeerTable<V>, peer: PeerId): V | undefined {
  // charAt, not slice: V8 keeps one-character strings, so a lookup allocates nothing.
  return table.parts[peer.charAt(0)]?.[peer.charAt(1)]?.[peer];
}

/** A table with `peer` set to `value`, or without it (undefined); `table` is left as it was. */
export function tableWith<V>(
  table: PeerTable<V>,
  peer: PeerId,
  value: V | undefined,
): PeerTable<V> {
  const a = peer.charAt(0), b = peer.charAt(1);
  const had = tableGet(table, peer) !== undefined;
  if (value === undefined && !had) return table;
  const mid = { ...table.parts[a] };
  const part = { ...mid[b] };
  if (value === undefined) delete part[peer];
  else part[peer] = value;
  // Set, the part and its level are not empty: no list of their keys to count.
  if (value !== undefined || !isEmpty(part)) mid[b] = part;
  else delete mid[b];
  const parts = { ...table.parts };
  if (value !== undefined || !isEmpty(mid)) parts[a] = mid;
  else delete parts[a];
  return { size: table.size + (value === undefined ? -1 : had ? 0 : 1), parts };
}

function isEmpty(o: object): boolean {
  for (const _ in o) return false;
  return true;
}

/**
 * A table holding `entries` (a later one for a peer replaces an earlier),
 * built in one pass: what tableWith for each in turn would give, without a
 * copy of the parts per entry (a round's waiting list holds every contact).
 */
export function tableOf<V>(entries: Iterable<readonly [PeerId, V]>): PeerTable<V> {
  const parts: Record<string, Record<string, Record<PeerId, V>>> = {};
  let size = 0;
  for (const [peer, value] of entries) {
    const part = (parts[peer.charAt(0)] ??= {})[peer.charAt(1)] ??= {};
    if (!Object.hasOwn(part, peer)) size++;
    part[peer] = value;
  }
  return { size, parts };
}

/** Everything the table holds, with its peer. */
export function tableEntries<V>(table: PeerTable<V>): [PeerId, V][] {
  return Object.values(table.parts).flatMap((mid) =>
    Object.values(mid).flatMap((part) => Object.entries(part))
  );
}

/** The dial of `peer` under way, if any. */
export const dialOf = (dials: DialTable, peer: PeerId): Dial | undefined => tableGet(dials, peer);

/** The peers the table holds something for. */
export function tablePeers<V>(table: PeerTable<V>): PeerId[] {
  return tableEntries(table).map(([peer]) => peer);
}
