/** Golden bytes of the read-receipt and typing frames (features receipts, typing). */
import assert from "node:assert/strict";
import { encodeFrame } from "./codec.ts";
import { RECEIPTS_FEATURE, TYPING_FEATURE } from "./features.ts";
import { check } from "./methods.ts";

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const CHAT = "d-0123456789abcdef0123456789abcdef";

Deno.test("golden bytes: chat.read and chat.typing requests", () => {
  assert.deepEqual([RECEIPTS_FEATURE, TYPING_FEATURE], ["receipts", "typing"]);
  const read = encodeFrame({ t: "req", id: 7, m: "chat.read", p: { chat: CHAT, seq: 42 } });
  assert.equal(
    hex(read),
    "0000005d" +
      hex(new TextEncoder().encode(
        `{"t":"req","id":7,"m":"chat.read","p":{"chat":"${CHAT}","seq":42}}`,
      )),
  );
  assert.equal(read.length, 4 + 0x5d);
  const typing = encodeFrame({ t: "req", id: 8, m: "chat.typing", p: { chat: CHAT } });
  assert.equal(hex(typing.slice(0, 4)), "00000056");
  assert.equal(
    new TextDecoder().decode(typing.slice(4)),
    `{"t":"req","id":8,"m":"chat.typing","p":{"chat":"${CHAT}"}}`,
  );
});

Deno.test("chat.read and chat.typing params: only a chat id and a positive seq", () => {
  assert.deepEqual(check("chat.read", "params", { chat: CHAT, seq: 1 }), { chat: CHAT, seq: 1 });
  for (const bad of [{ chat: CHAT, seq: 0 }, { chat: CHAT }, { chat: "Bad!", seq: 1 }]) {
    assert.throws(() => check("chat.read", "params", bad), /bad_input|chat\.read/);
  }
  assert.throws(() => check("chat.typing", "params", { chat: "x".repeat(65) }));
});
