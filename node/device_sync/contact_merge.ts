/**
 * How a person's devices agree on their contacts (feature devcontacts1):
 * pure decisions, no store, no clock of their own.
 *
 * Each device keeps one record per contact key: its state (live, blocked or
 * removed, the last two kept as tombstones), the name the person gave, its
 * addresses, whether it is an anchor, and `at`, when the person made that
 * change, by the clock of the device it was made on. A change from a sibling
 * replaces the record when it is later (last writer wins per contact); at
 * the same time, the greater of the two by a fixed order of their content,
 * so every device ends with the same record whatever order changes came in.
 * A change dated more than {@linkcode MAX_CHANGE_SKEW_MS} ahead of our clock
 * counts as made then, so a device whose clock runs ahead cannot pin a
 * contact for ever.
 *
 * Names: two contacts never share one. When the name a record wants is taken
 * by another contact, the contact with the smaller key keeps it and the other
 * shows it with the start of its key appended ({@linkcode resolveName}), on
 * every device alike; the record keeps the wanted name.
 */
import { toHex } from "../wire/mod.ts";

/** How far ahead of our clock a sibling's change time is taken (5 minutes). */
export const MAX_CHANGE_SKEW_MS = 5 * 60_000;
/** Removed or blocked contacts remembered at most; the oldest go first. */
export const MAX_CONTACT_TOMBSTONES = 1024;

export type ContactState = "live" | "blocked" | "removed";

/** One contact as the person last left it, on some device. */
export interface ContactRecord {
  readonly key: Uint8Array;
  readonly state: ContactState;
  /** The name the person gave (may show suffixed, see resolveName); "" when removed. */
  readonly name: string;
  readonly addresses: readonly string[];
  readonly anchor: boolean;
  /** When the person made this change (ms, the deciding device's clock). */
  readonly at: number;
}

/** The order that breaks a tie between two records of one time. */
function content(r: ContactRecord): string {
  return JSON.stringify([r.state, r.name, r.anchor, r.addresses]);
}

/**
 * What a sibling's change does to our record of that contact: the record to
 * keep when the change wins, else null.
 */
export function mergeChange(
  local: ContactRecord | undefined,
  change: ContactRecord,
  now: number,
): ContactRecord | null {
  const at = Math.min(change.at, now + MAX_CHANGE_SKEW_MS);
  const next = at === change.at ? change : { ...change, at };
  if (!local || next.at > local.at) return next;
  if (next.at < local.at) return null;
  return content(next) > content(local) ? next : null;
}

/** When a change made here now is dated: now, but after the record it replaces. */
export function stampLocal(previous: ContactRecord | undefined, now: number): number {
  return previous ? Math.max(now, previous.at + 1) : now;
}

const suffixed = (name: string, key: Uint8Array) =>
  `${name.slice(0, 33)}-${toHex(key).slice(0, 6)}`;

/**
 * The name contact `key` shows for `wanted`, given the other contacts'
 * names: `wanted` when free; when another contact has it, the smaller key
 * keeps it and the other gets `<name>-<its key's first 6 hex>` (`displaced`:
 * the other contact's new name when it is the one to give way). A reserved
 * name (a chat's) always gives way.
 */
export function resolveName(
  key: Uint8Array,
  wanted: string,
  others: readonly { readonly key: Uint8Array; readonly name: string }[],
  reserved: readonly string[] = [],
): { name: string; displaced?: { key: Uint8Array; name: string } } {
  const lower = wanted.toLowerCase();
  if (reserved.some((r) => r.toLowerCase() === lower)) return { name: suffixed(wanted, key) };
  const clash = others.find((o) => o.name.toLowerCase() === lower && toHex(o.key) !== toHex(key));
  if (!clash) return { name: wanted };
  if (toHex(key) < toHex(clash.key)) {
    return { name: wanted, displaced: { key: clash.key, name: suffixed(clash.name, clash.key) } };
  }
  return { name: suffixed(wanted, key) };
}

/** The tombstones to forget so that at most MAX_CONTACT_TOMBSTONES stay: the oldest. */
export function tombstonesOver(
  records: Iterable<ContactRecord>,
  max = MAX_CONTACT_TOMBSTONES,
): ContactRecord[] {
  const dead = [...records].filter((r) => r.state === "removed").sort((a, b) => a.at - b.at);
  return dead.slice(0, Math.max(0, dead.length - max));
}
