/** Golden bytes of the devsync.prefs frame (feature devprefs1, node/device_sync/prefs_sync.ts). */
import assert from "node:assert/strict";
import { encodeFrame } from "./codec.ts";
import { DEVSYNC_PREFS_FEATURE } from "./features.ts";
import { check } from "./methods.ts";

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const CHAT = "d-abcdefghijklmnopqrstuvwxyz234567";
const change = {
  chat: CHAT,
  muted: true,
  pinned: false,
  archived: false,
  at: 1800000000000,
  read: 42,
};

Deno.test("golden bytes: a devsync.prefs request", () => {
  assert.equal(DEVSYNC_PREFS_FEATURE, "devprefs1");
  const p = check("devsync.prefs", "params", { changes: [change] });
  const json = `{"t":"req","id":5,"m":"devsync.prefs","p":{"changes":[{"chat":"${CHAT}",` +
    `"muted":true,"pinned":false,"archived":false,"at":1800000000000,"read":42}]}}`;
  const frame = encodeFrame({ t: "req", id: 5, m: "devsync.prefs", p });
  assert.equal(
    hex(frame),
    "000000b0" + hex(new TextEncoder().encode(json)),
  );
});

Deno.test("devsync.prefs params: 1 to 64 chats, chat ids only, bounded numbers", () => {
  const ok = (c: object) => ({ changes: [{ ...change, ...c }] });
  for (
    const good of [
      ok({}),
      ok({ chat: "n-abcdefghijklmnopqrstuvwxyz234567" }),
      ok({ chat: "g-abcdefghijklmnopqrstuvwxyz" }),
      ok({ at: 0, read: 0 }),
      { changes: Array(64).fill(change) },
    ]
  ) assert.ok(check("devsync.prefs", "params", good));
  for (
    const bad of [
      { changes: [] },
      { changes: Array(65).fill(change) },
      ok({ chat: "notes" }),
      ok({ chat: "d-" + "a".repeat(33) }),
      ok({ chat: "g-" + "a".repeat(32) }),
      ok({ chat: "x-" + "a".repeat(32) }),
      ok({ chat: CHAT + "\u001b[2J" }),
      ok({ muted: "yes" }),
      ok({ at: -1 }),
      ok({ read: 1.5 }),
      ok({ read: 2 ** 53 }),
      {},
    ]
  ) assert.throws(() => check("devsync.prefs", "params", bad), /bad_input|devsync/);
});
