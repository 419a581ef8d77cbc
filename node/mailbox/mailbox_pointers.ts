/**
 * Pointers: someone added while offline does not know the group yet, so
 * cannot derive its tags. Each member therefore also leaves, once per anchor,
 * group, fellow member M and stretch of M's membership, a pointer box (the
 * group's id and the mailbox secrets of the epochs it holds, which M needs to
 * fetch the history its membership is proven by) under a tag only it and M
 * can compute from their pairwise X25519 secret (salt "roj-mbox-pointer-v1",
 * info M's key; see mailbox_crypto.ts). On
 * each connect a node reads the pointers its contacts left for it, fetches
 * the groups it is not in, and offers them to the host, which adopts those
 * whose entries name it a member (through a scratch log, as a group offered
 * by a peer). The anchor learns that the two use one tag, as it can already
 * for sealed address records. Pointers are left only for current
 * members, so a removed member learns no secret of a later epoch that way.
 *
 * A device of a person neither leaves nor reads pointers: they are tagged
 * with the pairwise secret of the member's key (the person's), which it does
 * not hold; its person's groups come from its siblings (device_sync).
 */
import { base64 } from "@scure/base";
import { sha256 } from "@noble/hashes/sha2.js";
import { z } from "zod";
import { type RawEntry, toHex } from "../log/mod.ts";
import { sharedSecretOf } from "../identity/mod.ts";
import { encodeB64 } from "../protocol/mod.ts";
import { keys } from "../store/mod.ts";
import { bytesEqual } from "../wire/mod.ts";
import { isGroupChatId } from "../groups/mod.ts";
import type { Cursor } from "./epoch_cursor.ts";
import { type MailEpoch, stretchStart } from "./mail_epoch.ts";
import { ROUND_BOXES } from "./mailbox_fetch.ts";
import {
  boxId,
  MAILBOX_SECRET_BYTES,
  mailboxKeys,
  openBox,
  pointerKeys,
  sealBox,
} from "./mailbox_crypto.ts";
import type { AnchorSession, VisitContext } from "./visit_context.ts";

/** Epoch secrets in one pointer, at most (the newest); a pointer must fit one box. */
const MAX_POINTER_EPOCHS = 400;

/** What a pointer box holds: the group and the mailbox secrets of the epochs the writer holds. */
const PointerBody = z.object({
  c: z.string().max(64),
  e: z.array(z.tuple([z.string().regex(/^[0-9a-f]{32}$/), z.string().max(64)]))
    .min(1).max(MAX_POINTER_EPOCHS),
}).strict();

/**
 * Leaves a pointer to the group for each fellow member not pointed to at
 * this anchor since their membership began (so a re-add gets a new one).
 */
export async function point(
  ctx: VisitContext,
  s: AnchorSession,
  chat: string,
  epochs: MailEpoch[],
): Promise<void> {
  const g = ctx.host.groups.get(chat);
  if (!g || onDevice(ctx)) return;
  const key = keys.mboxPushed(s.peer, chat);
  const pushed = (await ctx.host.kv.get<Record<string, number | string>>(key)).value ?? {};
  const me = toHex(ctx.member);
  const body = new TextEncoder().encode(JSON.stringify({
    c: chat,
    e: epochs.slice(-MAX_POINTER_EPOCHS).map((ep) => [ep.id, base64.encode(ep.secret)]),
  }));
  for (const [hex, m] of g.membership.members) {
    if (hex === me || s.rpc.closed) continue;
    const since = stretchStart(g.membership, hex);
    if (since === null || pushed[`to:${hex}`] === since) continue;
    const pk = pointerKeys(
      sharedSecretOf(ctx.host.keyPair, m.key, ctx.host.agreeKeyOf?.(m.key)),
      m.key,
    );
    const id = boxId(pk, sha256(new TextEncoder().encode(`${chat}/${since}`)));
    const res = await s.rpc.request("mbox.put", {
      tag: pk.tag,
      items: [{ i: id, b: encodeB64(sealBox(pk, body, new Uint8Array())) }],
    }, 30_000);
    if (res.taken < 1) return; // quota: the log line comes from #push
    pushed[`to:${hex}`] = since;
    await ctx.host.kv.set(key, pushed);
  }
}

/**
 * Reads the pointers contacts left for us and joins the groups they point
 * to; adds the tags read to `pointerTags` (a notice under one means a new pointer).
 */
export async function readPointers(
  ctx: VisitContext,
  s: AnchorSession,
  pointerTags: Set<string>,
): Promise<void> {
  if (onDevice(ctx)) return;
  for (const them of ctx.host.contacts()) {
    if (s.rpc.closed) return;
    const pk = pointerKeys(
      sharedSecretOf(ctx.host.keyPair, them, ctx.host.agreeKeyOf?.(them)),
      ctx.me,
    );
    pointerTags.add(pk.tag);
    const cursorKey = keys.mboxCursor(s.peer, `to:${toHex(them)}`);
    const cursor = (await ctx.host.kv.get<Cursor>(cursorKey)).value ?? { gen: "", after: 0 };
    const get = (from: number) =>
      s.rpc.requestBulk("mbox.get", { tag: pk.tag, after: from, limit: 100 }, 30_000);
    let res = await get(cursor.after);
    // A new mailbox (its data was lost): read it from the start.
    if (res.gen !== cursor.gen && cursor.after > 0) res = await get(0);
    let after = res.gen === cursor.gen ? cursor.after : 0;
    for (const item of res.items) {
      after = Math.max(after, item.n);
      const opened = openBox(pk, item.b);
      if (!opened) continue;
      let pointer: z.infer<typeof PointerBody>;
      try {
        pointer = PointerBody.parse(JSON.parse(new TextDecoder().decode(opened.signed)));
      } catch {
        continue;
      }
      if (!isGroupChatId(pointer.c)) continue;
      if (ctx.host.groups.get(pointer.c)?.membership.members.has(toHex(ctx.member))) continue;
      const secrets: Uint8Array[] = [];
      for (const [, b64] of pointer.e) {
        try {
          const secret = base64.decode(b64);
          if (secret.length === MAILBOX_SECRET_BYTES) secrets.push(secret);
        } catch { /* skipped */ }
      }
      await joinPointed(ctx, s, pointer.c, secrets);
    }
    // Unchanged (nothing new, the usual case): no write, on every session with every holder.
    if (res.gen !== cursor.gen || after !== cursor.after) {
      await ctx.host.kv.set(cursorKey, { gen: res.gen, after });
    }
  }
}

/** Whether this node is a device of the person who is the member (see the module's note). */
function onDevice(ctx: VisitContext): boolean {
  return !bytesEqual(ctx.me, ctx.member);
}

/** Fetches a group we are not in from the anchor, under the pointed epochs, and offers it to the host. */
async function joinPointed(
  ctx: VisitContext,
  s: AnchorSession,
  chat: string,
  secrets: Uint8Array[],
): Promise<void> {
  const raws: RawEntry[] = [];
  for (const secret of secrets) {
    const mk = mailboxKeys(secret);
    let after = 0;
    for (let more = true; more && raws.length < ROUND_BOXES && !s.rpc.closed;) {
      const res = await s.rpc.requestBulk("mbox.get", { tag: mk.tag, after, limit: 500 }, 30_000);
      for (const item of res.items) {
        after = Math.max(after, item.n);
        const raw = openBox(mk, item.b);
        if (raw) raws.push(raw);
      }
      more = res.more && res.items.length > 0;
    }
  }
  if (raws.length === 0) return;
  if (await ctx.host.join(chat, raws, s.name)) ctx.visit(s, chat, true);
}
