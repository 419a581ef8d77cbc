/**
 * The person's records in own mail (own_mail.ts), for a device never online
 * with this one: contact changes (ownmail1, own_mail_contacts.ts), and,
 * feature ownmail2, chat settings with read marks and issued invites. Each
 * kind travels in boxes of its own, sealed under the pair's key like an
 * entry's box but with no signature (only the two devices can seal under
 * it), in the form the devices' own sessions carry it:
 *
 *   plaintext = "roj-ownmail-prefs-v1\0"   || UTF-8 JSON of the devsync.prefs params
 *   plaintext = "roj-ownmail-invites-v1\0" || UTF-8 JSON of the devsync.invites params
 *
 * so each box holds at most the method's bound of records, is checked
 * against the method's schema when it opens, and is taken through the same
 * path as a sibling session's request (prefs_sync.ts `take`, invite_sync.ts
 * `take`): settings merge last writer wins, read marks the highest, invites
 * the fewer uses and the earlier end, so a box taken twice changes nothing.
 *
 * What was filed at an anchor for a sibling is kept per anchor and sibling:
 * the number the records are counted up to (contacts, settings), or per
 * invite the form last filed (an invite has no number; few are held, and a
 * mark expires after the invite does). An invite taken from a sibling is
 * marked as filed for it there in the form it came, so the change it makes
 * here is not filed back to it (prefs_sync.ts leaves out a sibling's own).
 */
import { OWN_MAIL_INVITES_MAGIC, OWN_MAIL_PREFS_MAGIC } from "../identity/mod.ts";
import { check, type MethodName, type ParamsOf } from "../protocol/mod.ts";
import { keys } from "../store/mod.ts";
import { type ContactChange, contactsBytes, parseContacts } from "./own_mail_contacts.ts";

export type PrefsChange = ParamsOf<"devsync.prefs">["changes"][number];
export type InviteRecord = ParamsOf<"devsync.invites">["invites"][number];

/** Records per box (the methods' bound, methods.ts). */
const PER_BOX = 64;
/** How long an invite's filed mark outlives the invite (the registry drops it a day after). */
const MARK_AFTER_END = 2 * 24 * 60 * 60 * 1000;

/** Puts one box's plaintext at the anchor for the sibling; why not, if refused. */
export type PutBody = (body: Uint8Array) => Promise<string | undefined>;

/** One kind of record own mail carries. */
export interface OwnRecords {
  readonly kind: "contacts" | "settings" | "invites";
  /** Whether a sibling that lists only ownmail1 reads it (contacts). */
  readonly old: boolean;
  /** Files through `put` what `sibling` was not handed at `anchor` yet: how many, why not if refused. */
  push(
    anchor: Uint8Array,
    sibling: Uint8Array,
    put: PutBody,
  ): Promise<{ filed: number; reason?: string }>;
  /** Takes a box's plaintext `sibling` filed at `anchor` if it holds these records: true then. */
  take(anchor: Uint8Array, sibling: Uint8Array, plain: Uint8Array): Promise<boolean>;
}

const encoder = new TextEncoder();

function boxBytes(magic: Uint8Array, params: unknown): Uint8Array {
  const json = encoder.encode(JSON.stringify(params));
  const out = new Uint8Array(magic.length + json.length);
  out.set(magic);
  out.set(json, magic.length);
  return out;
}

/** A box's params, checked against `method`'s schema; null when not such a box or they fail it. */
function parseBox<M extends MethodName>(
  magic: Uint8Array,
  method: M,
  bytes: Uint8Array,
): ParamsOf<M> | null {
  if (bytes.length <= magic.length || magic.some((b, i) => bytes[i] !== b)) return null;
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(magic.length));
    return check(method, "params", JSON.parse(text)) as ParamsOf<M>;
  } catch {
    return null;
  }
}

/** Hands records numbered above the mark kept under `key`, a box per batch `next` gives. */
async function pushNumbered<T>(
  kv: Deno.Kv,
  key: Deno.KvKey,
  next: (after: number) => Promise<{ items: T[]; upTo: number }>,
  bytes: (items: T[]) => Uint8Array,
  put: PutBody,
): Promise<{ filed: number; reason?: string }> {
  let after = (await kv.get<number>(key)).value ?? 0;
  let filed = 0;
  for (;;) {
    const { items, upTo } = await next(after);
    if (upTo <= after) return { filed };
    if (items.length > 0) {
      const reason = await put(bytes(items));
      if (reason !== undefined) return { filed, reason };
      filed += items.length;
    }
    after = upTo;
    await kv.set(key, after);
  }
}

/** Taken unless the taker throws (a refused box counts as not taken). */
async function taken<T>(got: T | null, take: (v: T) => Promise<unknown>): Promise<boolean> {
  if (got === null) return false;
  try {
    await take(got);
    return true;
  } catch {
    return false;
  }
}

/** What the contact boxes need of device_sync/contact_sync.ts. */
export interface ContactSource {
  changesAfter(sibling: Uint8Array, after: number): Promise<{
    changes: ContactChange[];
    upTo: number;
  }>;
  take(sibling: Uint8Array, changes: ContactChange[]): Promise<unknown>;
}

/** The contact records (ownmail1: first, as an entry of a chat with a new contact needs it). */
export function contactRecords(kv: Deno.Kv, src: () => ContactSource): OwnRecords {
  return {
    kind: "contacts",
    old: true,
    push: (anchor, sibling, put) =>
      pushNumbered(
        kv,
        keys.ownMailPushed(anchor, sibling, "contacts"),
        async (after) => {
          const { changes, upTo } = await src().changesAfter(sibling, after);
          return { items: changes, upTo };
        },
        contactsBytes,
        put,
      ),
    take: (_anchor, sibling, plain) => taken(parseContacts(plain), (c) => src().take(sibling, c)),
  };
}

/** What the settings boxes need of device_sync/prefs_sync.ts (undefined: not synced here). */
export interface PrefsSource {
  changesAfter(sibling: Uint8Array, after: number): Promise<{
    changes: PrefsChange[];
    upTo: number;
  }>;
  take(sibling: Uint8Array, changes: readonly PrefsChange[]): Promise<unknown>;
}

const PREFS = encoder.encode(OWN_MAIL_PREFS_MAGIC);

/** Chat settings and read marks (ownmail2). */
export function prefsRecords(kv: Deno.Kv, src: () => PrefsSource | undefined): OwnRecords {
  return {
    kind: "settings",
    old: false,
    push: (anchor, sibling, put) => {
      const s = src();
      if (!s) return Promise.resolve({ filed: 0 });
      return pushNumbered(
        kv,
        keys.ownMailPushed(anchor, sibling, "prefs"),
        async (after) => {
          const { changes, upTo } = await s.changesAfter(sibling, after);
          return { items: changes, upTo };
        },
        (changes) => boxBytes(PREFS, { changes }),
        put,
      );
    },
    take: async (_anchor, sibling, plain) => {
      const s = src();
      const got = s ? parseBox(PREFS, "devsync.prefs", plain) : null;
      return await taken(got, (p) => s!.take(sibling, p.changes));
    },
  };
}

/** What the invite boxes need of device_sync/invite_sync.ts (undefined: no invites here). */
export interface InviteSource {
  /** Every invite record held here, as devsync.invites carries them (with `by`). */
  wire(): Promise<InviteRecord[]>;
  take(records: readonly InviteRecord[]): Promise<unknown>;
}

const INVITES = encoder.encode(OWN_MAIL_INVITES_MAGIC);

/** Issued invites (ownmail2): each one filed again whenever it changed since last filed there. */
export function inviteRecords(
  kv: Deno.Kv,
  now: () => number,
  src: () => InviteSource | undefined,
): OwnRecords {
  return {
    kind: "invites",
    old: false,
    push: async (anchor, sibling, put) => {
      const s = src();
      if (!s) return { filed: 0 };
      const fresh: Array<{ r: InviteRecord; key: Deno.KvKey; mark: string }> = [];
      for (const r of await s.wire()) {
        const key = markKey(anchor, sibling, r);
        const mark = markOf(r);
        if ((await kv.get<string>(key)).value !== mark) fresh.push({ r, key, mark });
      }
      let filed = 0;
      for (let i = 0; i < fresh.length; i += PER_BOX) {
        const batch = fresh.slice(i, i + PER_BOX);
        const reason = await put(boxBytes(INVITES, { invites: batch.map((b) => b.r) }));
        if (reason !== undefined) return { filed, reason };
        for (const b of batch) await kv.set(b.key, b.mark, { expireIn: expireIn(b.r) });
        filed += batch.length;
      }
      return { filed };
    },
    take: async (anchor, sibling, plain) => {
      const s = src();
      const got = s ? parseBox(INVITES, "devsync.invites", plain) : null;
      return await taken(got, async (p) => {
        for (const r of p.invites) {
          await kv.set(markKey(anchor, sibling, r), markOf(r), { expireIn: expireIn(r) });
        }
        await s!.take(p.invites);
      });
    },
  };
  function expireIn(r: InviteRecord): number {
    return Math.max(0, r.expires - now()) + MARK_AFTER_END;
  }
}

const markKey = (anchor: Uint8Array, sibling: Uint8Array, r: InviteRecord) =>
  keys.ownMailPushed(anchor, sibling, `invite:${r.nonce}`);
const markOf = (r: InviteRecord) => `${r.expires}/${r.uses}/${r.by ?? ""}`;
