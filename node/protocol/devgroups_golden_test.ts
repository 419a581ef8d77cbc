/** Golden bytes of the devsync.groups and devsync.gop frames (feature devgroups1, node/device_sync/group_sync.ts). */
import assert from "node:assert/strict";
import { encodeFrame } from "./codec.ts";
import { DEVSYNC_GROUPS_FEATURE } from "./features.ts";
import { check } from "./methods.ts";

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const KEY = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
const ID = "g-abcdefghijklmnopqrstuvwxyz";
const EPOCH = "0123456789abcdef0123456789abcdef";
const group = { id: ID, name: "friends", epochs: [{ e: EPOCH, k: KEY }] };

Deno.test("golden bytes: a devsync.groups request", () => {
  assert.equal(DEVSYNC_GROUPS_FEATURE, "devgroups1");
  const p = check("devsync.groups", "params", { groups: [group] });
  const json = `{"t":"req","id":5,"m":"devsync.groups","p":{"groups":[{"id":"${ID}",` +
    `"name":"friends","epochs":[{"e":"${EPOCH}","k":"${KEY}"}]}]}}`;
  const frame = encodeFrame({ t: "req", id: 5, m: "devsync.groups", p });
  assert.equal(hex(frame), "000000d6" + hex(new TextEncoder().encode(json)));
});

Deno.test("golden bytes: a devsync.gop request", () => {
  const p = check("devsync.gop", "params", {
    op: "add",
    group: ID,
    members: [{ key: KEY, name: "bob" }],
  });
  const json = `{"t":"req","id":6,"m":"devsync.gop","p":{"op":"add","group":"${ID}",` +
    `"members":[{"key":"${KEY}","name":"bob"}]}}`;
  const frame = encodeFrame({ t: "req", id: 6, m: "devsync.gop", p });
  assert.equal(hex(frame), "000000ac" + hex(new TextEncoder().encode(json)));
});

Deno.test("devsync.groups params: 1 to 16 groups, 64 epochs each, ids and keys checked", () => {
  const ok = (g: object) => ({ groups: [{ ...group, ...g }] });
  assert.ok(check("devsync.groups", "params", ok({ epochs: [] })));
  for (
    const bad of [
      { groups: [] },
      { groups: Array(17).fill(group) },
      ok({ id: "g-ABC" }),
      ok({ id: "bob" }),
      ok({ name: "" }),
      ok({ name: "x".repeat(65) }),
      ok({ epochs: Array(65).fill({ e: EPOCH, k: KEY }) }),
      ok({ epochs: [{ e: "zz", k: KEY }] }),
      ok({ epochs: [{ e: EPOCH, k: "A".repeat(45) }] }),
      {},
    ]
  ) assert.throws(() => check("devsync.groups", "params", bad), /bad_input|devsync/);
});

Deno.test("devsync.gop params: a known op, at most 16 members, bounded names", () => {
  const base = { op: "create", name: "friends", members: [] };
  assert.ok(check("devsync.gop", "params", base));
  for (
    const bad of [
      { ...base, op: "rekey" },
      { ...base, name: "x".repeat(65) },
      { ...base, group: "g-1" },
      { ...base, members: Array(17).fill({ key: KEY, name: "b" }) },
      { ...base, members: [{ key: KEY, name: "" }] },
      {},
    ]
  ) assert.throws(() => check("devsync.gop", "params", bad), /bad_input|devsync/);
});
