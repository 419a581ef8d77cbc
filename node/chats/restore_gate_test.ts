/** The restore gate: off in a folder never restored; on after one, per chat, until the peer is heard. */
import assert from "node:assert/strict";
import { tempStore } from "../../testing/temp.ts";
import { createSigner, generateKeyPair } from "../identity/mod.ts";
import { ChatLog } from "../log/mod.ts";
import { keys } from "../store/mod.ts";
import { RestoreGate } from "./restore_gate.ts";

const CHAT = "d-test";

Deno.test("a folder never restored writes freely", async () => {
  await using t = await tempStore();
  const gate = await RestoreGate.open(t.store, new Uint8Array(32));
  gate.check(CHAT, "bob");
});

Deno.test("after a restore a chat waits until we hold what the peer holds of ours; then for good", async () => {
  await using t = await tempStore();
  const kp = await generateKeyPair("alice");
  const signer = await createSigner(kp);
  const log = new ChatLog(t.store);
  await log.append(CHAT, signer, "msg", "one");
  await t.store.kv.set(keys.restoreGate(), 1);
  const gate = await RestoreGate.open(t.store, kp.publicKey);
  assert.throws(() => gate.check(CHAT, "bob"), { code: "busy" });

  await gate.heard(CHAT, 2, log); // bob holds two of ours; we have one
  assert.throws(() => gate.check(CHAT, "bob"), { code: "busy" });
  await log.append(CHAT, signer, "msg", "two (as if taken back from bob)");
  await gate.stored(CHAT, log);
  gate.check(CHAT, "bob");
  assert.throws(() => gate.check("d-other", "carol"), { code: "busy" }, "per chat");

  const reopened = await RestoreGate.open(t.store, kp.publicKey);
  reopened.check(CHAT, "bob");
  assert.throws(() => reopened.check("d-other", "carol"), { code: "busy" });
});

Deno.test("an overlap marker left by an unclean stop holds its chat until the peer was heard; then it goes", async () => {
  await using t = await tempStore();
  const kp = await generateKeyPair("alice");
  const signer = await createSigner(kp);
  const log = new ChatLog(t.store);
  await log.append(CHAT, signer, "msg", "one");
  await t.store.kv.set(keys.overlapMark(CHAT), true);
  const gate = await RestoreGate.open(t.store, kp.publicKey);
  assert.throws(() => gate.check(CHAT, "bob"), {
    code: "busy",
    message: /stopped without closing/,
  });
  gate.check("d-other", "carol"); // no marker there

  await gate.heard(CHAT, 2, log); // bob holds two of ours: the second went out, its commit did not
  assert.throws(() => gate.check(CHAT, "bob"), { code: "busy" });
  await log.append(CHAT, signer, "msg", "two (as if taken back from bob)");
  await gate.stored(CHAT, log);
  gate.check(CHAT, "bob");
  assert.equal((await t.store.kv.get(keys.overlapMark(CHAT))).value, null, "the marker went");

  gate.trip(CHAT); // a commit failed after its entries went out
  assert.throws(() => gate.check(CHAT, "bob"), { code: "busy" });
  await gate.heard(CHAT, 2, log);
  gate.check(CHAT, "bob");
});
