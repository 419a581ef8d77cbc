/**
 * A member handing group mail to an anchor: every entry of the group the
 * anchor was not handed before (with `forward`, anyone's, so a member
 * forwards for others), sealed under the epochs it is filed under, in chain
 * order; someone else's entries only after asking which the anchor lacks.
 */
import { toHex } from "../log/mod.ts";
import { encodeB64 } from "../protocol/mod.ts";
import { keys } from "../store/mod.ts";
import { fileUnder, type MailEpoch } from "./mail_epoch.ts";
import { boxId, sealBox } from "./mailbox_crypto.ts";
import { PUT_BYTES } from "./put_sealed.ts";
import type { AnchorSession, VisitContext } from "./visit_context.ts";

/** Hands the anchor every entry of the group it was not handed before, in chain order. */
export async function push(
  ctx: VisitContext,
  s: AnchorSession,
  chat: string,
  epochs: MailEpoch[],
  forward: boolean,
): Promise<void> {
  const { kv, log } = ctx.host;
  const key = keys.mboxPushed(s.peer, chat);
  const pushed = (await kv.get<Record<string, number | string>>(key)).value ?? {};
  const save = async (k: string, seq: number) => {
    pushed[k] = seq;
    await kv.set(key, pushed);
  };
  const me = toHex(ctx.me);
  for (const [k, head] of await log.heads(chat)) {
    if (!forward && k !== me) continue;
    let from = Number(pushed[k] ?? 0);
    while (from < head.seq && !s.rpc.closed) {
      const entries = await log.entriesAfter(chat, head.author, from, 500);
      if (entries.length === 0) break;
      /** The boxes to hand over: entry index, epoch, box id; in entry order. */
      const boxes = entries.flatMap((e, j) =>
        fileUnder(epochs, e).map((ep) => ({ j, ep, id: boxId(ep.keys, e.hash) }))
      );
      // Someone else's entries: their author or another member has often handed them
      // over already, so ask first instead of uploading the same boxes again.
      const held = new Set<string>();
      if (k !== me) {
        for (const ep of new Set(boxes.map((b) => b.ep))) {
          const ids = boxes.filter((b) => b.ep === ep).map((b) => b.id);
          const res = await s.rpc.request("mbox.has", { tag: ep.keys.tag, ids }, 30_000);
          const missing = new Set(res.missing);
          for (const id of ids) if (!missing.has(id)) held.add(`${ep.id}/${id}`);
        }
      }
      // One put per run of boxes under one tag, in entry order.
      for (let b = 0; b < boxes.length && !s.rpc.closed;) {
        const ep = boxes[b]!.ep;
        const items: Array<{ i: string; b: string }> = [];
        const at: number[] = [];
        let bytes = 0;
        for (; b < boxes.length && boxes[b]!.ep === ep; b++) {
          const x = boxes[b]!;
          if (held.has(`${ep.id}/${x.id}`)) continue;
          const e = entries[x.j]!;
          const box = sealBox(ep.keys, e.signed, e.sig);
          if (items.length > 0 && bytes + box.length > PUT_BYTES) break;
          items.push({ i: x.id, b: encodeB64(box) });
          at.push(x.j);
          bytes += box.length;
        }
        if (items.length === 0) continue;
        const res = await s.rpc.request("mbox.put", { tag: ep.keys.tag, items }, 30_000);
        if (res.reason || res.taken < items.length) {
          // Every entry before the first one refused is held: hand over from there next time.
          const refused = at[Math.min(res.taken, at.length - 1)]!;
          if (refused > 0) await save(k, entries[refused - 1]!.seq);
          ctx.host.say(
            `${s.name} holds no more group mail from us: ${res.reason ?? "refused"}`,
          );
          ctx.host.note?.({ op: "refused", anchor: s.name, chat, reason: res.reason ?? "refused" });
          return;
        }
      }
      if (s.rpc.closed) return;
      from = entries.at(-1)!.seq;
      await save(k, from);
    }
  }
}
