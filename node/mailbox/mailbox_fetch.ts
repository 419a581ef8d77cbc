/**
 * A member fetching group mail from an anchor: under every epoch due (see
 * epoch_cursor.ts), round by round (the next round is fetched while one
 * merges), merging the entries as if a member had pushed them and letting
 * membership grow as adds arrive.
 */
import { RojError } from "../errors.ts";
import { decodeEntry, type RawEntry, toHex } from "../log/mod.ts";
import { keys } from "../store/mod.ts";
import { bytesEqual } from "../wire/mod.ts";
import { type Cursor, type Cursors, dueEpochs, isCursors, retireCursors } from "./epoch_cursor.ts";
import { fileUnder, type MailEpoch } from "./mail_epoch.ts";
import { openBox } from "./mailbox_crypto.ts";
import type { AnchorSession, VisitContext } from "./visit_context.ts";

/** Boxes fetched before they are merged (the next round is fetched while one merges). */
export const ROUND_BOXES = 2_000;
/** Boxes asked for per mbox.get (the most it takes; the anchor also caps the bytes). */
const FETCH_PAGE = 1000;
/** Boxes read from one anchor for one group in one visit, at most. */
const MAX_VISIT_BOXES = 200_000;
/** Entries merged at once. */
const MERGE_CHUNK = 1000;
/** Smaller catch-ups from an anchor are not reported as progress. */
const PROGRESS_MIN = 100;
/** Rounds of following new epochs in one visit, at most. */
const MAX_CHAIN = 64;

/** An entry fetched from a box, with what merging it needs at hand. */
type FetchedEntry = RawEntry & {
  author: Uint8Array;
  hex: string;
  seq: number;
  lamport: number;
  ts: number;
};

/** A visit's progress over its rounds: entries fetched, merged (or given up), and new ones stored. */
interface Tally {
  fetched: number;
  merged: number;
  stored: number;
}

/**
 * Fetches under every epoch due (the current one, the one before, and
 * those fetched before and still in their grace period at `now`), again as
 * merged changes bring new epochs, then retires epochs past their grace.
 * Resolves with the number of new entries stored.
 */
export async function fetchDue(
  ctx: VisitContext,
  s: AnchorSession,
  chat: string,
  now: number,
): Promise<number> {
  const kv = ctx.host.kv;
  const key = keys.mboxCursor(s.peer, chat);
  const saved = (await kv.get<unknown>(key)).value;
  const cursors: Cursors = isCursors(saved) ? saved.e : {};
  const done = new Set<string>();
  // The first visit in a session looks at the past epochs in their grace
  // period; later ones only at those the anchor says have new boxes (it
  // tells us of every tag we fetched in the session), the current one, and
  // any epoch that came in since the visit began.
  const first = !s.looked.has(chat);
  s.looked.add(chat);
  const startedAt = (await ctx.epochsOf(chat)).at(-1)?.id;
  let stored = 0;
  for (let round = 0; round < MAX_CHAIN && !s.rpc.closed; round++) {
    const epochs = await ctx.epochsOf(chat);
    const todo = dueEpochs({ epochs, startedAt, notified: s.notified, first, cursors, done, now });
    if (todo.length === 0) break;
    for (const ep of todo) {
      if (s.rpc.closed) break;
      done.add(ep.id);
      s.notified.delete(ep.keys.tag);
      const before = cursors[ep.id];
      const got = await fetchEpoch(ctx, s, chat, ep, before ?? { gen: "", after: 0 });
      stored += got.stored;
      cursors[ep.id] = { ...before, ...got.cursor };
      await kv.set(key, { v: 2, e: cursors });
    }
  }
  await kv.set(key, { v: 2, e: retireCursors(cursors, await ctx.epochsOf(chat), now) });
  return stored;
}

/**
 * Fetches and merges the boxes filed under one epoch after `cursor`;
 * resolves with the new cursor and the number of new entries stored.
 */
export async function fetchEpoch(
  ctx: VisitContext,
  s: AnchorSession,
  chat: string,
  ep: MailEpoch,
  start: Cursor,
): Promise<{ cursor: Cursor; stored: number }> {
  const mk = ep.keys;
  // The cursor moves once a round is merged; the next round is fetched meanwhile.
  let cursor: Cursor = { gen: start.gen, after: start.after };
  let after = cursor.after;
  let gen = cursor.gen;
  const tally: Tally = { fetched: 0, merged: 0, stored: 0 };
  let merging: Promise<void> = Promise.resolve();
  // One hex string per run of boxes by one author, not one per box.
  let lastAuthor: Uint8Array = new Uint8Array(0);
  let lastHex = "";
  const hexOf = (author: Uint8Array) => {
    if (!bytesEqual(author, lastAuthor)) [lastAuthor, lastHex] = [author, toHex(author)];
    return lastHex;
  };
  const get = (from: number) => {
    const p = s.rpc.requestBulk(
      "mbox.get",
      { tag: mk.tag, after: from, limit: FETCH_PAGE },
      30_000,
    );
    p.catch(() => {}); // awaited in turn, unless the visit ends first
    return p;
  };
  /** The next page, asked for before the last one is opened: the anchor works on it meanwhile. */
  let next: ReturnType<typeof get> | null = null;
  // Bounds against an anchor that never stops answering "more" (the rest waits for the next visit).
  let seen = 0;
  let restarted = false;
  for (let more = true; more && !s.rpc.closed && seen < MAX_VISIT_BOXES;) {
    const raws: FetchedEntry[] = [];
    let bad = 0;
    while (raws.length < ROUND_BOXES) {
      const res = await (next ?? get(after));
      next = null;
      if (res.gen !== gen) {
        // A new mailbox (its data was lost): read it from the start, once per visit.
        if (after !== 0 && !restarted) {
          restarted = true;
          after = 0;
          gen = res.gen;
          continue;
        }
        gen = res.gen;
      }
      const before = after;
      seen += res.items.length;
      const last = res.items.reduce((n, item) => Math.max(n, item.n), after);
      more = res.more && last > before && seen < MAX_VISIT_BOXES;
      if (more) next = get(last);
      for (const item of res.items) {
        after = Math.max(after, item.n);
        const raw = openBox(mk, item.b);
        if (!raw) {
          bad++;
          continue;
        }
        try {
          const f = decodeEntry(raw.signed);
          if (f.chat !== chat) throw new RojError("wrong_chat", "entry of another chat");
          raws.push({
            ...raw,
            author: f.author,
            hex: hexOf(f.author),
            seq: f.seq,
            lamport: f.lamport,
            ts: f.ts,
          });
        } catch {
          bad++;
        }
      }
      if (!more) break;
    }
    if (bad > 0) {
      ctx.host.say(`mailbox of ${s.name}: ${bad} boxes did not open; skipped`);
      ctx.host.note?.({ op: "unopened", anchor: s.name, chat, boxes: bad });
    }
    tally.fetched += raws.length;
    // At most one round merging while the next is fetched.
    await merging;
    const upTo: Cursor = { gen, after };
    merging = (raws.length > 0 ? mergeRound(ctx, s, chat, raws, ep, tally) : Promise.resolve())
      .then(() => {
        cursor = upTo;
      });
    merging.catch(() => {}); // awaited below or before the next round
  }
  await merging;
  if (tally.fetched >= PROGRESS_MIN) {
    ctx.host.progress({ chat, from: s.name, done: tally.fetched, total: tally.fetched });
  }
  return { cursor, stored: tally.stored };
}

/**
 * Merges one round of fetched entries, authors' chains in order, letting
 * membership grow as adds arrive; `tally` counts progress over the visit.
 */
async function mergeRound(
  ctx: VisitContext,
  s: AnchorSession,
  chat: string,
  raws: FetchedEntry[],
  from: MailEpoch,
  tally: Tally,
): Promise<void> {
  const { groups, log } = ctx.host;
  raws.sort((a, b) => (a.hex < b.hex ? -1 : a.hex > b.hex ? 1 : a.seq - b.seq));
  // The anchor holds these now: never hand them back. Unless they came under
  // a tag we would not file them under (an older epoch, for those who
  // missed a change): then they are handed over again, under the right one.
  const epochs = await ctx.epochsOf(chat);
  const held = new Map<string, number>();
  const elsewhere = new Set<string>();
  for (const r of raws) {
    const under = fileUnder(epochs, r);
    if (under.length !== 1 || under[0]!.id !== from.id) elsewhere.add(r.hex);
    held.set(r.hex, Math.max(held.get(r.hex) ?? 0, r.seq));
  }
  for (const k of elsewhere) held.delete(k);
  await notePushed(ctx, s.peer, chat, held);
  // The visit's end reports done = total; until then a round never looks finished.
  const progress = () => {
    if (tally.fetched >= PROGRESS_MIN) {
      const total = tally.fetched;
      ctx.host.progress({ chat, from: s.name, done: Math.min(tally.merged, total - 1), total });
    }
  };
  let pending = raws;
  let stored = 0;
  progress();
  const devices = ctx.host.devices;
  while (pending.length > 0) {
    const ever = new Set(groups.everMembers(chat).map(toHex));
    // A member's device's entries (a phone's, say): its certificate first, each pass, as
    // members grow (a few certificates a pass, each a signature check: see learn).
    const others = pending.filter((r) => !ever.has(r.hex));
    if (devices && others.length > 0) await devices.learn(chat, others);
    const now: FetchedEntry[] = [];
    const later: FetchedEntry[] = [];
    for (const r of pending) {
      const counts = ever.has(r.hex) || (devices?.speaks(chat, r.author, r.ts) ?? false);
      (counts ? now : later).push(r);
    }
    if (now.length === 0) break;
    let progressed = 0;
    const retry: typeof pending = [];
    for (let i = 0; i < now.length; i += MERGE_CHUNK) {
      const chunk = now.slice(i, i + MERGE_CHUNK);
      const res = await log.merge(chat, chunk);
      const gaps = new Set(
        res.rejected.filter((r) => r.code === "seq_gap").map((r) => `${toHex(r.author!)}/${r.seq}`),
      );
      if (gaps.size > 0) {
        for (const r of chunk) if (gaps.has(`${r.hex}/${r.seq}`)) retry.push(r);
      }
      progressed += res.stored.length;
      tally.merged += chunk.length - gaps.size;
      if (res.stored.length > 0) await ctx.host.stored(chat, res.stored);
      progress();
    }
    stored += progressed;
    pending = [...later, ...retry];
    if (progressed === 0) break;
  }
  tally.merged += pending.length;
  tally.stored += stored;
  if (stored > 0) {
    const g = groups.get(chat);
    ctx.host.say(
      `mailbox of ${s.name}: ${stored} new entr${stored === 1 ? "y" : "ies"} in ${g?.name ?? chat}${
        pending.length > 0 ? `, ${pending.length} not taken` : ""
      }`,
    );
    ctx.host.note?.({
      op: "taken",
      anchor: s.name,
      chat,
      entries: stored,
      left: pending.length,
    });
  }
}

async function notePushed(
  ctx: VisitContext,
  anchor: Uint8Array,
  chat: string,
  heads: Map<string, number>,
): Promise<void> {
  const key = keys.mboxPushed(anchor, chat);
  const pushed = (await ctx.host.kv.get<Record<string, number>>(key)).value ?? {};
  let changed = false;
  for (const [k, seq] of heads) {
    if ((pushed[k] ?? 0) < seq) {
      pushed[k] = seq;
      changed = true;
    }
  }
  if (changed) await ctx.host.kv.set(key, pushed);
}
