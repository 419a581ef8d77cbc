/** Golden bytes of the devsync.invites frame (feature devinvites1, node/device_sync/invite_sync.ts). */
import assert from "node:assert/strict";
import { encodeFrame } from "./codec.ts";
import { DEVSYNC_INVITES_BY_FEATURE, DEVSYNC_INVITES_FEATURE } from "./features.ts";
import { check } from "./methods.ts";

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const NONCE = "0123456789abcdef0123456789abcdef";
const record = { nonce: NONCE, expires: 1800000000000, uses: 1 };

Deno.test("golden bytes: a devsync.invites request", () => {
  assert.equal(DEVSYNC_INVITES_FEATURE, "devinvites1");
  const p = check("devsync.invites", "params", { invites: [record] });
  const json = `{"t":"req","id":5,"m":"devsync.invites","p":{"invites":[{"nonce":"${NONCE}",` +
    `"expires":1800000000000,"uses":1}]}}`;
  const frame = encodeFrame({ t: "req", id: 5, m: "devsync.invites", p });
  const body = new TextEncoder().encode(json);
  assert.equal(hex(frame), body.length.toString(16).padStart(8, "0") + hex(body));
  assert.equal(hex(frame).slice(0, 8), "00000088"); // 136 bytes of JSON
});

Deno.test("devsync.invites params: 1 to 64 records, hex nonces, bounded uses", () => {
  const ok = (c: object) => ({ invites: [{ ...record, ...c }] });
  assert.ok(check("devsync.invites", "params", ok({ uses: 0 })));
  for (
    const bad of [
      { invites: [] },
      { invites: Array(65).fill(record) },
      ok({ nonce: NONCE.toUpperCase() }),
      ok({ nonce: NONCE + "00" }),
      ok({ uses: -1 }),
      ok({ uses: 1001 }),
      ok({ uses: 1.5 }),
      ok({ expires: -1 }),
      {},
    ]
  ) assert.throws(() => check("devsync.invites", "params", bad), /bad_input|devsync/);
});

Deno.test("golden bytes: a devsync.invites record with its issuer (devinvites2)", () => {
  assert.equal(DEVSYNC_INVITES_BY_FEATURE, "devinvites2");
  const by = "ab".repeat(32);
  const p = check("devsync.invites", "params", { invites: [{ ...record, by }] });
  const json = `{"t":"req","id":5,"m":"devsync.invites","p":{"invites":[{"nonce":"${NONCE}",` +
    `"expires":1800000000000,"uses":1,"by":"${by}"}]}}`;
  const frame = encodeFrame({ t: "req", id: 5, m: "devsync.invites", p });
  const body = new TextEncoder().encode(json);
  assert.equal(hex(frame), body.length.toString(16).padStart(8, "0") + hex(body));
  for (const bad of [by.toUpperCase(), by + "00", "ab"]) {
    assert.throws(() => check("devsync.invites", "params", { invites: [{ ...record, by: bad }] }));
  }
  // An older peer's record (no issuer) still checks.
  assert.ok(check("devsync.invites", "params", { invites: [record] }));
});
