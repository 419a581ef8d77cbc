/**
 * The cascade's dials under way, kept immutable as its state is, in parts by
 * the peer id's first character: a step that changes one dial copies that
 * part and the short list of parts, not every dial. With 1,000 offline
 * contacts all being dialled, copying the whole record at each of the 1,000
 * steps their answers make cost seconds of CPU and hundreds of MB of garbage.
 */
import type { Dial, PeerId } from "./cascade_state.ts";

export type DialTable = Readonly<Record<string, Readonly<Record<PeerId, Dial>>>>;

const partOf = (peer: PeerId) => peer.slice(0, 1);

/** The dial of `peer` under way, if any. */
export function dialOf(table: DialTable, peer: PeerId): Dial | undefined {
  return table[partOf(peer)]?.[peer];
}

/** A table with `peer`'s dial set to `dial`, or without it (undefined); `table` is left as it was. */
export function withDial(table: DialTable, peer: PeerId, dial: Dial | undefined): DialTable {
  const key = partOf(peer);
  const part = { ...table[key] };
  if (dial) part[peer] = dial;
  else delete part[peer];
  const next = { ...table, [key]: part };
  if (!dial && Object.keys(part).length === 0) delete next[key];
  return next;
}

/** Every dial under way, with its peer. */
export function dialEntries(table: DialTable): [PeerId, Dial][] {
  return Object.values(table).flatMap((part) => Object.entries(part));
}

/** The peers being dialled. */
export function dialPeers(table: DialTable): PeerId[] {
  return dialEntries(table).map(([peer]) => peer);
}
