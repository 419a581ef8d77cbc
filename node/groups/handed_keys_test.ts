import assert from "node:assert/strict";
import { createSigner, generateKeyPair } from "../identity/mod.ts";
import { ChatLog, toHex } from "../log/mod.ts";
import { tempStore } from "../../testing/temp.ts";
import { GroupBook } from "./group_book.ts";
import { HandedKeys } from "./handed_keys.ts";
import { RojError } from "../errors.ts";

Deno.test("a device's group book: the person is the member, the keys are the ones handed over", async () => {
  await using laptopKv = await tempStore();
  await using phoneKv = await tempStore();
  const alice = await generateKeyPair("alice");
  const phoneKey = await generateKeyPair("phone");
  const laptopLog = new ChatLog(laptopKv.store);
  const laptop = await GroupBook.open(laptopKv.store, laptopLog, alice);
  const g = await laptop.create(await createSigner(alice), "friends", []);
  await laptop.send(await createSigner(alice), g.id, "from the laptop");

  const phoneLog = new ChatLog(phoneKv.store);
  const handed = await HandedKeys.open(phoneKv.store);
  const phone = await GroupBook.open(phoneKv.store, phoneLog, phoneKey, undefined, {
    person: alice.publicKey,
    handed,
  });
  assert.ok(phone.onDevice && !laptop.onDevice);
  const raws = (await laptopLog.read(g.id)).map((e) => ({ signed: e.signed, sig: e.sig }));
  await phoneLog.merge(g.id, raws);
  await phone.register(g.id, "friends", []);
  assert.ok(phone.isMember(g.id, alice.publicKey), "the person is the member on the device");
  const phoneSigner = await createSigner(phoneKey);
  // No key yet: it waits (a rekey signed by the device would not count), and changes are refused.
  await assert.rejects(() => phone.send(phoneSigner, g.id, "too early"), RojError);
  await assert.rejects(() => phone.rekey(phoneSigner, g.id), /holds your key/);
  await assert.rejects(() => phone.create(phoneSigner, "mine", []), /holds your key/);

  const keys = await laptop.openedKeys(g.id, 64);
  assert.equal(keys.length, 1);
  assert.deepEqual(await phone.takeKeys(g.id, keys), [keys[0]!.epoch]);
  assert.deepEqual(await phone.takeKeys(g.id, keys), [], "no news the second time");
  const read = async (book: GroupBook, log: ChatLog) =>
    (await book.lines(g.id, await log.read(g.id), (h) => h.slice(0, 8))).map((l) => l.text);
  assert.ok((await read(phone, phoneLog)).includes("from the laptop"));
  const [posted] = await phone.send(phoneSigner, g.id, "from the phone");
  assert.equal(toHex(posted!.author), toHex(phoneKey.publicKey), "the device signs");

  // At a member, the device's message counts only as a device of a member's.
  await laptopLog.merge(g.id, [{ signed: posted!.signed, sig: posted!.sig }]);
  assert.ok((await read(laptop, laptopLog)).includes("(written by someone not in the group)"));
  laptop.speaksFor = (person, key) =>
    toHex(person) === toHex(alice.publicKey) && toHex(key) === toHex(phoneKey.publicKey);
  assert.ok((await read(laptop, laptopLog)).includes("from the phone"));

  // The handed keys outlast a restart.
  const again = await HandedKeys.open(phoneKv.store);
  assert.deepEqual(again.get(g.id, keys[0]!.epoch), keys[0]!.key);
});
