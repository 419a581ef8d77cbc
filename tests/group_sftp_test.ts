/** Group members read and append to their groups with plain OpenSSH `sftp` against a real node. */
import assert from "node:assert/strict";
import { sftp } from "../testing/sftp.ts";
import { befriend, startTestNode, until } from "../testing/nodes.ts";
import { createEntry, type Entry, entryToJson, toHex } from "../node/log/mod.ts";
import { encryptGroupMessage, writeEpoch } from "../node/groups/mod.ts";
import type { RojNode } from "../node/mod.ts";

/** An export line by `author` extending its chain in `on`'s copy of the group, with `body`. */
async function lineBy(
  on: RojNode,
  chat: string,
  author: RojNode,
  type: string,
  body: string,
): Promise<string> {
  const heads = await on.log.heads(chat);
  const mine = heads.get(toHex(author.publicKey));
  const clock = Math.max(0, ...[...heads.values()].map((h) => h.lamport));
  const e: Entry = await createEntry(author.signer, {
    chat,
    author: author.publicKey,
    seq: (mine?.seq ?? 0) + 1,
    prev: mine?.hash ?? null,
    lamport: clock + 1,
    ts: Date.now(),
    type,
    body,
  });
  return JSON.stringify(entryToJson(e));
}

/** A message body as `author` would encrypt it to the group's current key. */
async function sealedText(author: RojNode, chat: string, text: string): Promise<string> {
  const g = author.groups.get(chat)!;
  const epoch = writeEpoch(g.membership, toHex(author.publicKey))!;
  const key = (await author.groups.epochKey(chat, epoch.id))!;
  return encryptGroupMessage(key, chat, author.publicKey, epoch.id, text);
}

Deno.test("OpenSSH sftp: a member reads its group decrypted and appends messages it signed; bad lines store nothing", async () => {
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  await using b = await startTestNode("bob", { host: "127.0.0.3" });
  await using c = await startTestNode("carol", { host: "127.0.0.4" });
  await befriend(a, b);
  await befriend(a, c);
  const { id } = await a.node.call("group.create", { name: "climbers" });
  await a.node.call("send", { chat: "climbers", text: "before bob joined" });
  await a.node.call("group.add", { group: "climbers", members: ["bob"] });
  await a.node.call("send", { chat: "climbers", text: "welcome bob" });
  await until(
    async () => (await b.node.call("chats", {})).some((x) => x.name === "climbers"),
    10_000,
    "bob joins",
  );
  const work = await Deno.makeTempDir();
  const bobKey = `${b.dir}/id_ed25519`;
  const carolKey = `${c.dir}/id_ed25519`;
  const count = async () => (await a.node.log.read(id)).length;
  try {
    const got = await sftp(bobKey, a.node, "ls /chats\nget /chats/climbers.log g.log\n", work);
    assert.equal(got.code, 0, got.stderr);
    assert.match(got.stdout, /climbers\.log/);
    const text = await Deno.readTextFile(`${work}/g.log`);
    const lines = text.trimEnd().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines.length, await count());
    // Signed as stored; decrypted only where the key was sealed to bob.
    assert.ok(lines.every((l) => l.chat === id && typeof l.signed === "string" && l.sig));
    const msgs = lines.filter((l) => l.type === "msg");
    assert.deepEqual(msgs.map((l) => l.text), [undefined, "welcome bob"]);
    assert.ok(!text.includes("before bob joined"));
    assert.ok(lines.some((l) => l.type === "group.add" && l.text === "alice added bob"));

    // Carol, a contact but no member, sees no group file.
    const carol = await sftp(carolKey, a.node, "ls /chats\n", work);
    assert.doesNotMatch(carol.stdout, /climbers/);
    assert.notEqual((await sftp(carolKey, a.node, "get /chats/climbers.log x\n", work)).code, 0);

    // A message bob signed and encrypted: put -a stores it, and alice reads it.
    const good = await lineBy(a.node, id, b.node, "msg", await sealedText(b.node, id, "via sftp"));
    await Deno.writeTextFile(`${work}/g.log`, text + good + "\n");
    const put = await sftp(bobKey, a.node, "put -a g.log /chats/climbers.log\n", work);
    assert.equal(put.code, 0, put.stderr);
    const read = await a.node.call("read", { chat: "climbers" });
    assert.equal(read.at(-1)!.body, "via sftp");
    assert.equal(read.at(-1)!.author, "bob");
    // The file now shows bob's line with its text: fetch it again before appending more.
    assert.equal((await sftp(bobKey, a.node, "get /chats/climbers.log g.log\n", work)).code, 0);
    const base = await Deno.readTextFile(`${work}/g.log`);
    assert.ok(base.includes('"text":"via sftp"'));
    const before = await count();

    const refused = async (line: string, reason: RegExp) => {
      await Deno.writeTextFile(`${work}/g.log`, base + line + "\n");
      const r = await sftp(bobKey, a.node, "put -a g.log /chats/climbers.log\n", work);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, reason);
      assert.equal(await count(), before);
    };
    // Forged: signed by carol, who is no member, under bob's session.
    await refused(
      await lineBy(a.node, id, c.node, "msg", await sealedText(b.node, id, "x")),
      /not by you/,
    );
    // Undecryptable: the right epoch, the wrong key.
    const wrongKey = encryptGroupMessage(
      new Uint8Array(32).fill(7),
      id,
      b.node.publicKey,
      writeEpoch(a.node.groups.get(id)!.membership, toHex(b.node.publicKey))!.id,
      "garbled",
    );
    await refused(await lineBy(a.node, id, b.node, "msg", wrongKey), /does not decrypt/);
    // Not a message, and not a message of this group's shape.
    await refused(await lineBy(a.node, id, b.node, "group.leave", "{}"), /only messages/);
    await refused(await lineBy(a.node, id, b.node, "msg", "plain text"), /not an encrypted group/);
    // One bad line among good ones stores none of them.
    const second = await lineBy(a.node, id, b.node, "msg", await sealedText(b.node, id, "ok 1"));
    await Deno.writeTextFile(`${work}/g.log`, base + second + "\n{broken\n");
    assert.notEqual(
      (await sftp(bobKey, a.node, "put -a g.log /chats/climbers.log\n", work)).code,
      0,
    );
    assert.equal(await count(), before);

    // A reaction bob signed and encrypted like a message: taken, and folded onto its target.
    const welcome = (await a.node.call("read", { chat: "climbers" }))
      .find((m) => m.body === "welcome bob")!;
    const react = JSON.stringify({ to: welcome.hash, emoji: "👍" });
    const reaction = await lineBy(a.node, id, b.node, "react", await sealedText(b.node, id, react));
    await Deno.writeTextFile(`${work}/g.log`, base + reaction + "\n");
    const took = await sftp(bobKey, a.node, "put -a g.log /chats/climbers.log\n", work);
    assert.equal(took.code, 0, took.stderr);
    const after = (await a.node.call("read", { chat: "climbers" }))
      .find((m) => m.hash === welcome.hash)!;
    assert.deepEqual(after.reactions, [{ emoji: "👍", authors: ["bob"], mine: false }]);
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
