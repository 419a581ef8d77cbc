import assert from "node:assert/strict";
import { createSigner, generateKeyPair } from "../identity/mod.ts";
import { tempStore } from "../../testing/temp.ts";
import { ChatLog } from "./chat_log.ts";
import { dropAside, entriesAside } from "./set_aside.ts";

const CHAT = "t-aside";

Deno.test("setting a chain aside: none of it is left in the chat, all of it aside, and another chain comes in", async () => {
  await using t = await tempStore();
  const store = t.store;
  const log = new ChatLog(store);
  const me = await createSigner(await generateKeyPair("me"));
  const other = await createSigner(await generateKeyPair("other"));
  await log.appendMany(CHAT, other, [{ type: "msg", body: "theirs" }]);
  const mine = await log.appendMany(
    CHAT,
    me,
    Array.from({ length: 450 }, (_, i) => ({ type: "msg", body: `m${i}` })),
  );
  assert.equal(await log.setAside(CHAT, me.publicKey), 450);
  const left = await log.read(CHAT);
  assert.deepEqual(left.map((e) => e.body), ["theirs"], "the other author's chain stays");
  assert.equal((await log.heads(CHAT)).size, 1);
  const aside = await entriesAside(store, CHAT);
  assert.deepEqual(aside.map((e) => e.seq), mine.map((e) => e.seq));
  assert.deepEqual(aside.map((e) => e.body), mine.map((e) => e.body));

  // A copy of our chain from elsewhere (here: the first two again) is taken in from seq 1.
  const back = await log.merge(CHAT, mine.slice(0, 2));
  assert.equal(back.stored.length, 2);
  // The gate refuses local writes unless a re-base says otherwise.
  log.gate = () => {
    throw new Error("refused");
  };
  await assert.rejects(() => log.append(CHAT, me, "msg", "x"), /refused/);
  const again = await log.appendMany(CHAT, me, [{ type: "msg", body: "m9", ts: 42 }], {
    ungated: true,
  });
  assert.equal(again[0]!.seq, 3);
  assert.equal(again[0]!.ts, 42, "a re-based message keeps its time");
  await dropAside(store, CHAT);
  assert.deepEqual(await entriesAside(store, CHAT), []);
});
