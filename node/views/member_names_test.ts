import assert from "node:assert/strict";
import { generateKeyPair } from "../identity/mod.ts";
import { fingerprint } from "../identity/mod.ts";
import { toHex } from "../log/mod.ts";
import type { Group } from "../groups/mod.ts";
import { memberNamer } from "./views.ts";

Deno.test("memberNamer: contact name, then their own name unless it passes for someone else", async () => {
  const [me, bob, carol, mallory, quiet] = await Promise.all(
    ["me", "bob", "carol", "mallory", "quiet"].map((n) => generateKeyPair(n)),
  );
  const h = (k: { publicKey: Uint8Array }) => toHex(k.publicKey);
  const everyone = [me!, bob!, carol!, mallory!, quiet!];
  const g = {
    id: "g-test",
    name: "friends",
    membership: {
      ever: new Map(everyone.map((k) => [h(k), k.publicKey])),
      names: new Map([[h(carol!), "Caz"], [h(mallory!), "mal"]]),
      selfNames: new Map([[h(bob!), "Robert"], [h(carol!), "carol"], [h(mallory!), "Bob"]]),
    },
  } as unknown as Group;
  const contacts = new Map([[h(bob!), "bob"]]);
  const name = memberNamer(
    g,
    me!.publicKey,
    "me",
    (k) => contacts.get(toHex(k)),
    (n) => [...contacts.values()].some((c) => c.toLowerCase() === n.toLowerCase()),
  );
  assert.equal(name(h(me!)), "me");
  assert.equal(name(h(bob!)), "bob", "a contact's name here wins");
  assert.equal(name(h(carol!)), "carol", "not a contact: the name she gave herself");
  assert.equal(name(h(mallory!)), "mal", "a self-given name a contact has is not taken");
  assert.equal(name(h(quiet!)), fingerprint(quiet!.publicKey), "no name at all: the fingerprint");
});
