/** Golden bytes of a read receipt in a group (feature greceipts): `chat.read` with a group id. */
import assert from "node:assert/strict";
import { encodeFrame } from "./codec.ts";
import { GROUP_RECEIPTS_FEATURE, helloFeatures } from "./features.ts";
import { check } from "./methods.ts";

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const GROUP = "g-abcdefghijklmnopqrstuvwxyz";

Deno.test("golden bytes: chat.read for a group, and the greceipts feature", () => {
  assert.equal(GROUP_RECEIPTS_FEATURE, "greceipts");
  // Listed by every node that runs chats; never by an anchor.
  assert.ok(helloFeatures({ passive: false, punch: false, relay: false }).includes("greceipts"));
  assert.ok(!helloFeatures({ passive: true, punch: false, relay: false }).includes("greceipts"));
  const read = encodeFrame({ t: "req", id: 9, m: "chat.read", p: { chat: GROUP, seq: 3 } });
  assert.equal(
    hex(read),
    "00000056" +
      hex(new TextEncoder().encode(
        `{"t":"req","id":9,"m":"chat.read","p":{"chat":"${GROUP}","seq":3}}`,
      )),
  );
  assert.equal(read.length, 4 + 0x56);
  assert.deepEqual(check("chat.read", "params", { chat: GROUP, seq: 3 }), { chat: GROUP, seq: 3 });
});
