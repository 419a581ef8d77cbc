import assert from "node:assert/strict";
import { agreementPublicKey, generateKeyPair } from "../identity/mod.ts";
import { tempStore } from "../../testing/temp.ts";
import { agreeKeys } from "./agree_keys.ts";
import { ContactBook } from "./contact_book.ts";

Deno.test("agreeKeys: a contact's published X25519 key is kept, reopened and cleared; ours answers for us", async () => {
  await using t = await tempStore();
  const file = await generateKeyPair("me");
  const agent = { ...await generateKeyPair("agent"), seed: new Uint8Array(32).fill(9) };
  const book = await ContactBook.open(t.store);
  await book.add(agent.publicKey, "agent", [], 0);
  const of = agreeKeys(file, book);
  assert.equal(of(agent.publicKey), undefined);
  assert.equal(of(file.publicKey), undefined, "a file key publishes none");

  const published = agreementPublicKey(agent);
  await book.update(agent.publicKey, { agree: published });
  assert.deepEqual(of(agent.publicKey), published);
  assert.deepEqual(agreeKeys(file, await ContactBook.open(t.store))(agent.publicKey), published);
  await book.update(agent.publicKey, { agree: undefined });
  assert.equal(of(agent.publicKey), undefined);
  assert.equal("agree" in book.get(agent.publicKey)!, false);
  assert.equal(agreeKeys(file, await ContactBook.open(t.store))(agent.publicKey), undefined);

  // Seen from the agent's side: its own published key, for what it seals to itself.
  assert.deepEqual(agreeKeys(agent, book)(agent.publicKey), published);
});
