/**
 * ChatSync.early between two real logs over an in-memory pipe: a message
 * written before the last one's answer came goes out at once behind it (the
 * peer merges pushes in the order they came), at most a window of them.
 */
import assert from "node:assert/strict";
import { createSigner, generateKeyPair } from "../identity/mod.ts";
import { ChatLog, type Entry, toHex } from "../log/mod.ts";
import { RpcSession } from "../protocol/mod.ts";
import { memoryPipePair } from "../transport/mod.ts";
import { tempStore } from "../../testing/temp.ts";
import { ChatSync } from "./chat_sync.ts";

const CHAT = "d-early-push";

Deno.test("sync: early pushes go out behind ones still unanswered, a window of them, and all land in order", async () => {
  const alice = await createSigner(await generateKeyPair("alice"));
  await using ta = await tempStore();
  await using tb = await tempStore();
  const logA = new ChatLog(ta.store);
  const logB = new ChatLog(tb.store);
  const [pa, pb] = memoryPipePair();
  const features = ["sync1", "bulk1"];
  const rpcA = new RpcSession(pa, { hello: { features, name: "a" } });
  const rpcB = new RpcSession(pb, { hello: { features, name: "b" } });
  const syncB = new ChatSync(logB, rpcB, CHAT, {});
  // Bob answers no push until told: every early push below is still unanswered when the next goes.
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let pushes = 0;
  rpcB.handle("sync.heads", () => syncB.answerHeads());
  rpcB.handleBulk("sync.push", async (p) => {
    pushes++;
    await gate;
    return syncB.answerPush(p);
  });
  await Promise.all([rpcA.ready, rpcB.ready]);
  const syncA = new ChatSync(logA, rpcA, CHAT, {});
  await syncA.start(); // bob holds nothing, and says so

  const went: boolean[] = [];
  const write = (body: string) =>
    logA.appendMany(CHAT, alice, [{ type: "msg", body }], {
      signed: (made: Entry[], committed: Promise<void>) =>
        went.push(syncA.early(alice.publicKey, made, committed)),
    });
  for (const body of ["one", "two", "three", "four"]) await write(body);
  assert.deepEqual(went, [true, true, true, false], "three go early, the fourth waits its turn");
  while (pushes < 3) await new Promise((r) => setTimeout(r, 1));
  open();
  await syncA.notify(); // the flush after the fourth's commit
  assert.deepEqual((await logB.read(CHAT)).map((e) => e.body), ["one", "two", "three", "four"]);

  // All answered: the next goes early again, following what bob is known to hold.
  await write("five");
  assert.equal(went.at(-1), true);
  await syncA.notify();
  assert.equal((await logB.heads(CHAT)).get(toHex(alice.publicKey))?.seq, 5);
  rpcA.close();
  rpcB.close();
});
