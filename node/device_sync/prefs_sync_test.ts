/**
 * PrefsSync on one node with a store in memory (no sibling session): what a
 * sibling's records do here, and what a restart keeps, including settings
 * and marks a crash left without a record.
 */
import assert from "node:assert/strict";
import { FakeClock } from "../clock/mod.ts";
import { ReadMarks } from "../chats/mod.ts";
import { EventBus } from "../events.ts";
import { ChatPrefs } from "../prefs/mod.ts";
import { keys, type Store } from "../store/mod.ts";
import { PrefsSync } from "./prefs_sync.ts";

const CHAT = "d-abcdefghijklmnopqrstuvwxyz234567";
const SIB = new Uint8Array(32).fill(7);
const change = (c: object) => ({
  chat: CHAT,
  muted: false,
  pinned: false,
  archived: false,
  at: 0,
  read: 0,
  ...c,
});

async function open(kv: Deno.Kv, clock: FakeClock) {
  const prefs = await ChatPrefs.open({ kv } as Store);
  const reads = new ReadMarks(kv);
  const events: string[] = [];
  const bus = new EventBus(() => {});
  bus.subscribe((e) => {
    if (e.type === "chat-synced") events.push(e.chat);
  });
  const sync = new PrefsSync({ kv, clock, bus, prefs, reads });
  sync.start();
  return { prefs, reads, sync, events };
}

Deno.test("PrefsSync: a sibling's newer settings and higher marks apply; older ones do nothing", async () => {
  using kv = await Deno.openKv(":memory:");
  const clock = new FakeClock();
  const n = await open(kv, clock);
  const now = clock.now();
  await n.sync.take(SIB, [change({ muted: true, at: now - 10, read: 40 })]);
  assert.deepEqual(n.prefs.get(CHAT), { muted: true, pinned: false, archived: false });
  assert.equal(await n.reads.get(CHAT), 40);
  assert.deepEqual(n.events, [CHAT], "told once");
  // Older settings and a lower mark: nothing changes, nobody is told.
  await n.sync.take(SIB, [change({ pinned: true, at: now - 20, read: 30 })]);
  assert.deepEqual(n.prefs.get(CHAT), { muted: true, pinned: false, archived: false });
  assert.equal(await n.reads.get(CHAT), 40);
  assert.equal(n.events.length, 1);
  // Set here later: that wins over the sibling's, and is recorded as ours.
  await clock.advance(1);
  await n.prefs.set(CHAT, { archived: true });
  await n.reads.read(CHAT, 45);
  await n.sync.take(SIB, [change({ at: now - 5, read: 44 })]);
  assert.deepEqual(n.prefs.get(CHAT), { muted: true, pinned: false, archived: true });
  assert.equal(await n.reads.get(CHAT), 45);
  n.sync.close();
});

Deno.test("PrefsSync: records survive a restart, and settings or marks without one get one", async () => {
  using kv = await Deno.openKv(":memory:");
  const clock = new FakeClock();
  const first = await open(kv, clock);
  await first.sync.take(SIB, [change({ pinned: true, at: clock.now(), read: 9 })]);
  first.sync.close();
  // As a crash between the two writes would leave it: a setting and a mark, no record of them.
  const other = "g-abcdefghijklmnopqrstuvwxyz";
  await kv.set(keys.chatPrefs(other), { muted: true, pinned: false, archived: false });
  await kv.set(keys.readMark(other), 12);
  const again = await open(kv, clock);
  assert.deepEqual(again.prefs.get(CHAT), { muted: false, pinned: true, archived: false });
  assert.equal(await again.reads.get(CHAT), 9);
  // take waits for the records to load; an old record of ours changes nothing.
  await again.sync.take(SIB, [change({ chat: other, at: 1, read: 1 })]);
  const rec = (await kv.get<{ muted: boolean; read: number; at: number }>(keys.prefsRecord(other)))
    .value;
  assert.equal(rec?.muted, true);
  assert.equal(rec?.read, 12);
  assert.ok((rec?.at ?? 0) >= clock.now(), "dated as set at the restart");
  assert.deepEqual(again.prefs.get(other), { muted: true, pinned: false, archived: false });
  again.sync.close();
});
