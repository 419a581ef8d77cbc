/** A contact reads and appends to a chat with plain OpenSSH `sftp` against a real node. */
import assert from "node:assert/strict";
import { befriend, startTestNode } from "../testing/nodes.ts";
import { createEntry, entryToJson } from "../node/log/mod.ts";
import type { RojNode } from "../node/mod.ts";
import { sftpBatch } from "../testing/sftp_batch.ts";

const sftp = sftpBatch;

/** An export line for a new entry by `author` that extends its chain in `on`'s copy of the chat. */
async function nextLine(on: RojNode, chat: string, author: RojNode, body: string): Promise<string> {
  const heads = await on.log.heads(chat);
  const mine = [...heads.values()].find((h) => h.author.every((b, i) => b === author.publicKey[i]));
  const clock = Math.max(0, ...[...heads.values()].map((h) => h.lamport));
  const e = await createEntry(author.signer, {
    chat,
    author: author.publicKey,
    seq: (mine?.seq ?? 0) + 1,
    prev: mine?.hash ?? null,
    lamport: clock + 1,
    ts: Date.now(),
    type: "msg",
    body,
  });
  return JSON.stringify(entryToJson(e));
}

Deno.test("OpenSSH sftp: ls and get show the shared chat; put -a of a signed line stores it; bad appends are refused", async () => {
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  await using b = await startTestNode("bob", { host: "127.0.0.3" });
  await using c = await startTestNode("carol", { host: "127.0.0.4" });
  await befriend(a, b);
  await befriend(a, c);
  await a.node.call("send", { chat: "bob", text: "first" });
  await a.node.call("send", { chat: "carol", text: "for carol only" });
  const bobKey = `${b.dir}/id_ed25519`;
  const work = await Deno.makeTempDir();
  try {
    const ls = await sftp(bobKey, a.node, "ls /chats\nget /chats/bob.log bob.log\n", work);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /bob\.log/);
    assert.doesNotMatch(ls.stdout, /carol/);
    const got = await Deno.readTextFile(`${work}/bob.log`);
    const chat = a.node.chat("bob").id;
    const expected = (await a.node.log.read(chat)).map((e) => JSON.stringify(entryToJson(e)) + "\n")
      .join("");
    assert.equal(got, expected);

    // Append a line bob signed: get, add the line locally, put -a (resume) sends only the new bytes.
    const line = await nextLine(a.node, chat, b.node, "appended over sftp");
    await Deno.writeTextFile(`${work}/bob.log`, got + line + "\n");
    const put = await sftp(bobKey, a.node, "put -a bob.log /chats/bob.log\n", work);
    assert.equal(put.code, 0, put.stderr);
    assert.deepEqual((await a.node.call("read", { chat: "bob" })).map((m) => m.body), [
      "first",
      "appended over sftp",
    ]);

    // A line signed by someone else (carol) is refused and nothing is stored.
    const after = await Deno.readTextFile(`${work}/bob.log`);
    const forged = await nextLine(a.node, chat, c.node, "not bob");
    await Deno.writeTextFile(`${work}/bob.log`, after + forged + "\n");
    const bad = await sftp(bobKey, a.node, "put -a bob.log /chats/bob.log\n", work);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /not by you/);
    // Garbage, and a plain put that would rewrite history.
    await Deno.writeTextFile(`${work}/bob.log`, after + "{not json}\n");
    assert.notEqual((await sftp(bobKey, a.node, "put -a bob.log /chats/bob.log\n", work)).code, 0);
    assert.notEqual((await sftp(bobKey, a.node, "put bob.log /chats/bob.log\n", work)).code, 0);
    assert.notEqual((await sftp(bobKey, a.node, "get /chats/carol.log x\n", work)).code, 0);
    assert.equal((await a.node.call("read", { chat: "bob" })).length, 2);
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
