/**
 * ChatSync between two real logs over an in-memory pipe: the notify() race.
 */
import assert from "node:assert/strict";
import { createSigner, generateKeyPair } from "../identity/mod.ts";
import { ChatLog, type Head } from "../log/mod.ts";
import { RpcSession } from "../protocol/mod.ts";
import { memoryPipePair } from "../transport/mod.ts";
import { tempStore } from "../../testing/temp.ts";
import { ChatSync } from "./chat_sync.ts";

const CHAT = "t-sync";
type Heads = Map<string, Head & { author: Uint8Array }>;

/**
 * A log whose next heads() answers an older snapshot, as if an append
 * committed just after the read, and then runs `after`.
 */
class LateCommitLog extends ChatLog {
  stale: Heads | undefined;
  after: (() => void) | undefined;
  override async heads(chat: string): Promise<Heads> {
    const real = await super.heads(chat);
    const stale = this.stale;
    if (!stale) return real;
    this.stale = undefined;
    this.after?.();
    return stale;
  }
}

Deno.test("sync: a notify() arriving as a push loop ends is not lost, whatever the microtask it lands in", async () => {
  const alice = await createSigner(await generateKeyPair("alice"));
  for (let ticks = 0; ticks <= 12; ticks++) {
    await using ta = await tempStore();
    await using tb = await tempStore();
    const logA = new LateCommitLog(ta.store);
    const logB = new ChatLog(tb.store);
    const [pa, pb] = memoryPipePair();
    const rpcA = new RpcSession(pa, { hello: { features: ["sync1"], name: "a" } });
    const rpcB = new RpcSession(pb, { hello: { features: ["sync1"], name: "b" } });
    const syncB = new ChatSync(logB, rpcB, CHAT, {});
    rpcB.handle("sync.heads", () => syncB.answerHeads());
    rpcB.handle("sync.push", (p) => syncB.answerPush(p));
    await Promise.all([rpcA.ready, rpcB.ready]);
    const syncA = new ChatSync(logA, rpcA, CHAT, {});

    await logA.append(CHAT, alice, "msg", "one");
    await syncA.start(); // the peer holds "one"
    const before = await logA.heads(CHAT);
    await logA.append(CHAT, alice, "msg", "two"); // committed; its notify comes late

    let late: Promise<void> | undefined;
    logA.stale = before;
    logA.after = () => {
      let p = Promise.resolve();
      for (let i = 0; i < ticks; i++) p = p.then(() => {});
      p.then(() => late = syncA.notify());
    };
    await syncA.notify(); // a pass that reads the old heads and pushes nothing
    while (!late) await Promise.resolve();
    await late;
    const got = (await logB.heads(CHAT)).get([...before.keys()][0]!)?.seq;
    assert.equal(
      got,
      2,
      `notify ${ticks} microtask(s) after the last heads read: "two" not pushed`,
    );
    rpcA.close("done");
    rpcB.close("done");
  }
});
