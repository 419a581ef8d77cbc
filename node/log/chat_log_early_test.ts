/** ChatLog's `signed` hand-off (chats/commit_overlap.ts): entries out before their commit, never re-signed. */
import assert from "node:assert/strict";
import { tempStore } from "../../testing/temp.ts";
import { createSigner, generateKeyPair } from "../identity/mod.ts";
import { keys } from "../store/mod.ts";
import { ChatLog } from "./chat_log.ts";
import type { Entry } from "./entry.ts";

const CHAT = "d-early";

Deno.test("signed entries are handed out with their commit, which sets the marker with them", async () => {
  await using t = await tempStore();
  const signer = await createSigner(await generateKeyPair("alice"));
  const log = new ChatLog(t.store);
  const marker = keys.overlapMark(CHAT);
  let handed: Entry[] = [];
  let settled = false;
  const [e] = await log.appendMany(CHAT, signer, [{ type: "msg", body: "hi" }], {
    alsoSet: marker,
    signed: (made, committed) => {
      handed = made;
      committed.then(() => settled = true);
    },
  });
  assert.equal(handed[0], e);
  assert.ok(settled, "the append resolves once the commit handed out with them is in");
  assert.equal((await t.store.kv.get(marker)).value, true, "the marker went in with the entry");
  assert.equal((await log.heads(CHAT)).size, 1);
});

Deno.test("a commit that fails after its entries went out is not tried again with new ones", async () => {
  await using t = await tempStore();
  const signer = await createSigner(await generateKeyPair("alice"));
  const mine = new ChatLog(t.store);
  const other = new ChatLog(t.store); // another writer of the same store
  await mine.append(CHAT, signer, "msg", "one");
  await other.append(CHAT, signer, "msg", "two, under mine's cached head");
  const handed: Entry[] = [];
  await assert.rejects(
    mine.appendMany(CHAT, signer, [{ type: "msg", body: "three" }], {
      signed: (made) => handed.push(...made),
    }),
    { code: "internal" },
  );
  assert.equal(handed.length, 1, "signed once, not re-signed for a retry");
  // Without the hand-off the same race is retried and succeeds.
  await other.append(CHAT, signer, "msg", "four");
  const [e] = await mine.appendMany(CHAT, signer, [{ type: "msg", body: "five" }]);
  assert.equal(e!.seq, 4);
});
