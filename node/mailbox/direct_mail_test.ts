import assert from "node:assert/strict";
import { tempStore } from "../../testing/temp.ts";
import { createSigner, generateKeyPair, type KeyPair } from "../identity/mod.ts";
import { ChatLog, directChatId, type Entry } from "../log/mod.ts";
import { RpcSession } from "../protocol/mod.ts";
import { memoryPipePair } from "../transport/mod.ts";
import { AnchorMailbox } from "./anchor_mailbox.ts";
import { DirectMail, type DirectMailHost, type DirectMailNote } from "./direct_mail.ts";
import { MailboxStore } from "./mailbox_store.ts";

/**
 * A member's session with an anchor serving `mailbox`, which holds a record
 * of everyone; `calls` counts the requests the anchor served, by method.
 */
function session(
  mailbox: AnchorMailbox,
  member: Uint8Array,
  calls: Record<string, number> = {},
): RpcSession {
  const [pm, pa] = memoryPipePair();
  const anchor = new RpcSession(pa, { hello: { features: ["sync1"], name: "hive" } });
  const counted = new Proxy(anchor, {
    get(target, prop) {
      if (prop === "handle" || prop === "handleBulk") {
        return (m: string, fn: (p: unknown) => Promise<unknown>) =>
          // deno-lint-ignore no-explicit-any
          (target[prop] as any).call(target, m, (p: unknown) => {
            calls[m] = (calls[m] ?? 0) + 1;
            return fn(p);
          });
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  mailbox.serve(counted, member);
  anchor.handle(
    "addr.get",
    ({ tags }) => Promise.resolve({ items: tags.map((t) => ({ t, b: t })) }),
  );
  return new RpcSession(pm, { hello: { features: ["sync1"], name: "me" } });
}

function host(
  keyPair: KeyPair,
  log: ChatLog,
  kv: Deno.Kv,
  contacts: Uint8Array[],
  out: { said: string[]; notes: DirectMailNote[]; stored: Entry[] },
): DirectMailHost {
  return {
    log,
    kv,
    keyPair,
    contacts: () => contacts,
    online: () => false,
    delivered: () => Promise.resolve(0),
    anchored: () => Promise.resolve(),
    receipt: () => Promise.resolve(),
    recordTag: () => "A".repeat(22) + "==",
    stored: (_chat, _peer, entries) => (out.stored.push(...entries), Promise.resolve()),
    say: (line) => out.said.push(line),
    note: (n) => out.notes.push(n),
  };
}

Deno.test("direct mail: a member with many contacts visits an anchor without being told busy; the recipient gets all, in order", async () => {
  await using anchorStore = await tempStore();
  await using aliceStore = await tempStore();
  await using bobStore = await tempStore();
  const mailbox = new AnchorMailbox(await MailboxStore.open(anchorStore.store), {
    log: () => {},
    name: () => "x",
  });
  const alice = await generateKeyPair("alice");
  const bob = await generateKeyPair("bob");
  // A hundred contacts, each with a message waiting: 200 jobs, each with requests, on one session.
  const others = await Promise.all(Array.from({ length: 99 }, (_, i) => generateKeyPair(`c${i}`)));
  const contacts = [bob.publicKey, ...others.map((k) => k.publicKey)];
  const log = new ChatLog(aliceStore.store);
  const signer = await createSigner(alice);
  for (const c of contacts) await log.append(directChatId(alice.publicKey, c), signer, "msg", "hi");
  for (const text of ["two", "three"]) {
    await log.append(directChatId(alice.publicKey, bob.publicKey), signer, "msg", text);
  }
  const a = { said: [] as string[], notes: [] as DirectMailNote[], stored: [] as Entry[] };
  const sender = new DirectMail(host(alice, log, aliceStore.store.kv, contacts, a));
  const s1 = session(mailbox, alice.publicKey);
  await s1.ready;
  sender.attach(new Uint8Array(32).fill(9), s1, "hive", "anchor");
  await sender.idle();
  assert.deepEqual(a.said, []);
  const deposited = a.notes.filter((n) => n.op === "deposited");
  assert.equal(deposited.length, 100);
  assert.equal(mailbox.store.usage.boxes, 102);

  // Bob, with alice and the others as contacts, fetches hers and merges them through his log:
  // one peek finds that only her tags hold anything, so only those are fetched.
  const b = { said: [] as string[], notes: [] as DirectMailNote[], stored: [] as Entry[] };
  const bobLog = new ChatLog(bobStore.store);
  const bobContacts = [alice.publicKey, ...others.map((k) => k.publicKey)];
  const receiver = new DirectMail(host(bob, bobLog, bobStore.store.kv, bobContacts, b));
  const calls: Record<string, number> = {};
  const s2 = session(mailbox, bob.publicKey, calls);
  await s2.ready;
  receiver.attach(new Uint8Array(32).fill(9), s2, "hive", "anchor");
  await receiver.idle();
  assert.deepEqual(b.said, []);
  assert.equal(calls["mbox.peek"], 2, "100 contacts' tags of 7 weeks, 512 per peek");
  assert.ok(calls["mbox.get"]! <= 8, `${calls["mbox.get"]} fetches`);
  const chat = directChatId(alice.publicKey, bob.publicKey);
  assert.deepEqual((await bobLog.read(chat)).map((e) => e.body), ["hi", "two", "three"]);
  assert.deepEqual(b.notes, [{
    op: "taken",
    by: "anchor",
    anchor: "hive",
    peer: alice.publicKey,
    fetched: 3,
    stored: 3,
  }]);
  s1.close();
  s2.close();
  mailbox.close();
});
