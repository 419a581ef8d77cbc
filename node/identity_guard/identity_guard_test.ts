/**
 * The identity guard at work on a real log: refused writes, a resolve that
 * sets our entries aside, and the re-base once a contact's copy of our chain
 * is in, here with a contact that tells no head hashes (an older peer).
 */
import assert from "node:assert/strict";
import { systemClock } from "../clock/mod.ts";
import { isRojError } from "../errors.ts";
import { EventBus } from "../events.ts";
import { createSigner, generateKeyPair } from "../identity/mod.ts";
import { ChatLog, createEntry } from "../log/mod.ts";
import { tempStore } from "../../testing/temp.ts";
import type { NodeEvent } from "../api/mod.ts";
import { IdentityGuard } from "./identity_guard.ts";

const CHAT = "d-guard";

Deno.test("guard: second, refused, resolved, re-based on top of an older contact's copy", async () => {
  await using t = await tempStore();
  const log = new ChatLog(t.store);
  const me = await createSigner(await generateKeyPair("me"));
  const events: NodeEvent[] = [];
  const bus = new EventBus(() => {});
  bus.subscribe((e) => events.push(e));
  let resynced = 0;
  const guard = await IdentityGuard.open({
    me: me.publicKey,
    signer: me,
    log,
    store: t.store,
    clock: systemClock,
    bus,
    chatName: () => "bob",
    resync: () => resynced++,
    written: () => {},
    evidence: () => {},
  });
  await log.appendMany(CHAT, me, [{ type: "msg", body: "m1" }, { type: "msg", body: "m2" }]);
  guard.diverged(CHAT, 1, "bob");
  await until(() => events.some((e) => e.type === "identity" && e.op === "conflict"));
  await assert.rejects(
    () => log.append(CHAT, me, "msg", "no"),
    (e) => isRojError(e, "identity_conflict"),
  );
  assert.equal(guard.view().conflict?.writesRefused, true);

  assert.deepEqual(await guard.resolve(), { rebasing: ["bob"], setAside: 2 });
  assert.equal(resynced, 1);
  assert.deepEqual(await log.read(CHAT), [], "ours are aside");
  // The contact holds one entry of ours, another node's: we lack it, so nothing goes yet.
  guard.seen({ chat: CHAT, seq: 1, theirs: null, mine: null, hashless: true }, "bob");
  const theirs = await createEntry(me, {
    chat: CHAT,
    author: me.publicKey,
    seq: 1,
    prev: null,
    lamport: 1,
    ts: 1,
    type: "msg",
    body: "elsewhere",
  });
  assert.equal((await log.merge(CHAT, [theirs])).stored.length, 1);
  guard.ownArrived(CHAT);
  await until(() => events.some((e) => e.type === "identity" && e.op === "rebased"));
  assert.deepEqual((await log.read(CHAT)).map((e) => e.body), ["elsewhere", "m1", "m2"]);
  assert.deepEqual(guard.state.rebasing, []);
  await log.append(CHAT, me, "msg", "flows"); // writes go again
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(check(), "timed out");
}
