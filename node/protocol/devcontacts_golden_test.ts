/** Golden bytes of the devsync.contacts frame (feature devcontacts1, node/device_sync/contact_sync.ts). */
import assert from "node:assert/strict";
import { encodeFrame } from "./codec.ts";
import { DEVSYNC_CONTACTS_FEATURE } from "./features.ts";
import { check } from "./methods.ts";

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const KEY = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
const change = {
  key: KEY,
  state: "live",
  name: "bob",
  addresses: ["127.0.0.3:7022"],
  anchor: false,
  at: 1800000000000,
};

Deno.test("golden bytes: a devsync.contacts request", () => {
  assert.equal(DEVSYNC_CONTACTS_FEATURE, "devcontacts1");
  const p = check("devsync.contacts", "params", { changes: [change] });
  const json = `{"t":"req","id":4,"m":"devsync.contacts","p":{"changes":[{"key":"${KEY}",` +
    `"state":"live","name":"bob","addresses":["127.0.0.3:7022"],"anchor":false,"at":1800000000000}]}}`;
  const frame = encodeFrame({ t: "req", id: 4, m: "devsync.contacts", p });
  assert.equal(
    hex(frame),
    "000000cf" + hex(new TextEncoder().encode(json)),
  );
});

Deno.test("devsync.contacts params: 1 to 64 changes, contact names, bounded addresses", () => {
  const ok = (c: object) => ({ changes: [{ ...change, ...c }] });
  assert.ok(check("devsync.contacts", "params", ok({ state: "removed", name: "", addresses: [] })));
  for (
    const bad of [
      { changes: [] },
      { changes: Array(65).fill(change) },
      ok({ name: "x".repeat(41) }),
      ok({ name: "bob\u001b[2J" }),
      ok({ state: "gone" }),
      ok({ addresses: Array(9).fill("a:1") }),
      ok({ addresses: ["x".repeat(301)] }),
      ok({ key: "A".repeat(45) }),
      ok({ at: -1 }),
      {},
    ]
  ) assert.throws(() => check("devsync.contacts", "params", bad), /bad_input|devsync/);
});
