/**
 * A removed or blocked contact's sealed copies are dropped (issue 17, item
 * 13): an anchor holds the copy each of two members handed it; removing one
 * member, then blocking the other, leaves it holding nothing of theirs, in
 * memory (its status) and in its store (after a restart too).
 */
import assert from "node:assert/strict";
import { keys } from "../node/store/mod.ts";
import { toHex } from "../node/log/mod.ts";
import { befriend, startTestNode, until } from "../testing/nodes.ts";

/** Uploader (hex) of each sealed copy in `kv`. */
async function uploaders(kv: Deno.Kv): Promise<string[]> {
  const out: string[] = [];
  for await (const e of kv.list({ prefix: keys.sealedAll() })) out.push(String(e.key[2]));
  return out.sort();
}

Deno.test("an anchor drops the sealed copies of a member it removes or blocks", async () => {
  await using anchor = await startTestNode("anchor", { host: "127.0.0.79", passive: true });
  await using alice = await startTestNode("alice", { host: "127.0.0.80" });
  await using bob = await startTestNode("bob", { host: "127.0.0.81" });
  for (const member of [alice, bob]) {
    await member.node.call("add", { invite: (await anchor.node.call("invite", {})).text });
  }
  await befriend(alice, bob);
  const records = async () => (await anchor.node.call("status", {})).records ?? 0;
  await until(async () => await records() === 2, 10_000, "the anchor holds both copies");
  const kv = anchor.node.profile.store.kv;
  // The anchor files each copy under the member's keyed hash, and names the member by a tag.
  const filed = (k: Uint8Array) => toHex(anchor.node.contacts.storedId(k));
  const [a, b] = [filed(alice.node.publicKey), filed(bob.node.publicKey)];
  assert.deepEqual(await uploaders(kv), [a, b].sort());
  const tag = (k: Uint8Array) => anchor.node.contacts.get(k)!.name;

  await anchor.node.call("remove", { name: tag(alice.node.publicKey) });
  assert.equal(await records(), 1);
  assert.deepEqual(await uploaders(kv), [b]);

  await anchor.node.call("block", { name: tag(bob.node.publicKey) });
  assert.equal(await records(), 0);
  assert.deepEqual(await uploaders(kv), []);

  // Nothing comes back from the store on the next start.
  await anchor.stop();
  await using again = await startTestNode("anchor", {
    dir: anchor.dir,
    host: "127.0.0.79",
    passive: true,
  });
  assert.equal((await again.node.call("status", {})).records, 0);
});
