/**
 * Replies, edits, deletions for everyone and reactions (issue 18, item 2)
 * from the CLI, between two real nodes: each is a signed entry the other
 * node folds onto its target live; only the author may edit or delete, both
 * when asked here and when a contact's node sends one anyway; the sftp
 * export shows them as their own line types and real `ssh-keygen -Y verify`
 * checks every line; in a group they are encrypted like messages.
 */
import assert from "node:assert/strict";
import { base64 } from "@scure/base";
import { befriend, startTestNode, type TestNode } from "../testing/nodes.ts";
import { cliRun } from "../testing/cli_run.ts";
import { sftp } from "../testing/sftp.ts";
import { sshKeygen } from "../testing/ssh_keygen.ts";
import { controlSocketPath, serveControl } from "../node/control/mod.ts";
import type { MessageView, NodeEvent } from "../node/api/mod.ts";
import { encodeRefBody } from "../node/messages/mod.ts";
import { type RojNode } from "../node/mod.ts";

/** The next "message" event on `n` about the message `hash` that passes `check`. */
function nextView(
  n: TestNode,
  hash: string,
  check: (m: MessageView) => boolean,
): Promise<MessageView> {
  return n.waitFor(
    (e: NodeEvent) => e.type === "message" && e.message.hash === hash && check(e.message),
  ).then((e) => (e as Extract<NodeEvent, { type: "message" }>).message);
}

async function readJson(dir: string, chat: string): Promise<MessageView[]> {
  const r = await cliRun(["read", chat, "--json", "--data", dir]);
  assert.equal(r.code, 0, r.stderr);
  const parsed = r.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
  return parsed.length === 1 && Array.isArray(parsed[0]) ? parsed[0] : parsed.flat();
}

async function sftpGet(key: string, node: RojNode, path: string, cwd: string): Promise<string> {
  const r = await sftp(key, node, `get ${path} out.log\n`, cwd);
  assert.equal(r.code, 0, r.stderr);
  return await Deno.readTextFile(`${cwd}/out.log`);
}

Deno.test("CLI: reply, edit, react, delete for everyone, seen live by the other node; only the author edits or deletes", async () => {
  await using alice = await startTestNode("alice", { host: "127.0.0.2" });
  await using bob = await startTestNode("bob", { host: "127.0.0.3" });
  const aliceCtl = await serveControl(controlSocketPath(alice.dir), alice.node);
  const bobCtl = await serveControl(controlSocketPath(bob.dir), bob.node);
  const work = await Deno.makeTempDir();
  try {
    await befriend(alice, bob);
    const A = ["--data", alice.dir];
    const B = ["--data", bob.dir];

    const sent = JSON.parse((await cliRun(["send", "bob", "helo", "--json", ...A])).stdout);
    const hash: string = sent.hash;
    assert.equal(sent.id, hash.slice(0, 12));
    await nextView(bob, hash, (m) => m.body === "helo");
    // `roj read` shows the short id, in the time column.
    const line = (await cliRun(["read", "bob", ...A])).stdout;
    assert.match(line, new RegExp(`^\\S+ \\S+ ${hash.slice(0, 8)}  alice `));

    // An edit: the newest text, marked edited, the history kept.
    let from = bob.events.length;
    const edited = await cliRun(["edit", "bob", hash.slice(0, 8), "hello", ...A]);
    assert.equal(edited.code, 0, edited.stderr);
    const seen = await bob.waitFor(
      (e) => e.type === "message" && e.message.hash === hash && e.message.edited === true,
      10_000,
      from,
    );
    assert.equal((seen as { message: MessageView }).message.body, "hello");
    const [onBob] = await readJson(bob.dir, "alice");
    assert.equal(onBob!.body, "hello");
    assert.equal(onBob!.edited, true);
    assert.deepEqual(onBob!.history!.map((v) => v.body), ["helo"]);
    assert.match((await cliRun(["read", "alice", ...B])).stdout, /hello \(edited\)/);

    // A reply names its target; the other side sees the quoted text.
    from = alice.events.length;
    const reply = await cliRun(["send", "alice", "--reply", hash.slice(0, 6), "hi back", ...B]);
    assert.equal(reply.code, 0, reply.stderr);
    const got = await alice.waitFor(
      (e) => e.type === "message" && e.message.body === "hi back",
      10_000,
      from,
    );
    const replyView = (got as { message: MessageView }).message;
    assert.deepEqual(replyView.replyTo, { id: sent.id, author: "alice", body: "hello" });

    // Reactions: one per person, replaced, then taken back; none counts as unread.
    await alice.node.call("read", { chat: "bob" });
    from = alice.events.length;
    assert.equal((await cliRun(["react", "alice", sent.id, "👍", ...B])).code, 0);
    await nextView(alice, hash, (m) => m.reactions?.[0]?.emoji === "👍");
    assert.equal((await cliRun(["react", "alice", sent.id, "🎉", ...B])).code, 0);
    const replaced = await nextView(alice, hash, (m) => m.reactions?.[0]?.emoji === "🎉");
    assert.deepEqual(replaced.reactions, [{ emoji: "🎉", authors: ["bob"], mine: false }]);
    const unread = (await alice.node.call("chats", {})).find((c) => c.name === "bob")!.unread;
    assert.equal(unread, 0, "reactions are no messages to read");
    assert.equal((await cliRun(["react", "alice", sent.id, "--remove", ...B])).code, 0);
    await nextView(alice, hash, (m) => m.reactions === undefined);
    // `--last 1` is the newest message, though the newest entries are reactions.
    const newest = await alice.node.call("read", { chat: "bob", last: 1 });
    assert.deepEqual(newest.map((m) => m.body), ["hi back"]);
    const notEmoji = await cliRun(["react", "alice", sent.id, "ok", ...B]);
    assert.equal(notEmoji.code, 2, notEmoji.stderr);

    // Only the author may edit or delete: refused here, with the reason.
    for (const args of [["edit", "alice", sent.id, "mine now"], ["delete", "alice", sent.id]]) {
      const r = await cliRun([...args, ...B]);
      assert.equal(r.code, 5, JSON.stringify(r));
      assert.match(r.stderr, /only its author may (edit|delete) a message; alice wrote it/);
    }
    const unknown = await cliRun(["edit", "bob", "ffffffff", "x", ...A]);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /no message ffffffff/);

    // A contact's node that signs an edit of alice's message anyway: stored, never applied.
    const chat = bob.node.chat("alice").id;
    await bob.node.log.append(
      chat,
      bob.node.signer,
      "edit",
      encodeRefBody({ type: "edit", to: hash, text: "forged by bob" }),
    );
    from = alice.events.length;
    await cliRun(["send", "alice", "after the forgery", ...B]);
    await alice.waitFor(
      (e) => e.type === "message" && e.message.body === "after the forgery",
      10_000,
      from,
    );
    const mine = (await readJson(alice.dir, "bob")).find((m) => m.hash === hash)!;
    assert.equal(mine.body, "hello");
    assert.deepEqual(mine.history!.map((v) => v.body), ["helo"]);
    const raw = await alice.node.log.read(alice.node.chat("bob").id);
    assert.ok(raw.some((e) => e.type === "edit" && e.body.includes("forged by bob")), "kept");

    // Delete for everyone: bob's node hides the body; nothing more is taken.
    from = bob.events.length;
    const del = await cliRun(["delete", "bob", sent.id, ...A]);
    assert.equal(del.code, 0, del.stderr);
    assert.match(del.stdout, /copies made before may remain/);
    const gone = await bob.waitFor(
      (e) => e.type === "message" && e.message.hash === hash && e.message.deleted === true,
      10_000,
      from,
    );
    assert.equal((gone as { message: MessageView }).message.body, "");
    const onBobNow = (await readJson(bob.dir, "alice")).find((m) => m.hash === hash)!;
    assert.deepEqual([onBobNow.body, onBobNow.history, onBobNow.deleted], ["", undefined, true]);
    assert.match((await cliRun(["read", "alice", ...B])).stdout, /\(deleted for everyone\)/);
    const late = await cliRun(["edit", "bob", sent.id, "back?", ...A]);
    assert.equal(late.code, 5);
    assert.match(late.stderr, /was deleted/);

    // The sftp export: each is its own line type, and ssh-keygen verifies every line.
    const exported = await sftpGet(`${alice.dir}/id_ed25519`, bob.node, "/chats/alice.log", work);
    const lines = exported.trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(
      [...new Set(lines.map((l) => l.type))].sort(),
      ["edit", "msg", "react", "reply", "retract"],
    );
    await verifyAll(lines, { alice: alice.dir, bob: bob.dir }, work);
  } finally {
    await aliceCtl.close();
    await bobCtl.close();
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
});

Deno.test("group: edits, reactions and deletions are encrypted like messages and fold on every member", async () => {
  await using alice = await startTestNode("alice", { host: "127.0.0.2" });
  await using bob = await startTestNode("bob", { host: "127.0.0.3" });
  await befriend(alice, bob);
  await alice.node.call("group.create", { name: "climbers" });
  await alice.node.call("group.add", { group: "climbers", members: ["bob"] });
  await bob.waitFor((e) => e.type === "group" && e.op === "joined");
  const sent = await alice.node.call("send", { chat: "climbers", text: "rope at 9" });
  await nextView(bob, sent.hash, (m) => m.body === "rope at 9");

  const edited = await alice.node.call("edit", {
    chat: "climbers",
    id: sent.id,
    text: "rope at 10",
  });
  assert.equal(edited.edited, true);
  await nextView(bob, sent.hash, (m) => m.body === "rope at 10" && m.edited === true);
  await bob.node.call("react", { chat: "climbers", id: sent.id, emoji: "👍" });
  await nextView(alice, sent.hash, (m) => m.reactions?.[0]?.authors[0] === "bob");
  await assert.rejects(
    bob.node.call("delete", { chat: "climbers", id: sent.id }),
    /only its author may delete/,
  );
  // The log holds ciphertext only: neither the text nor the target's hash is in a body.
  const raw = await alice.node.log.read(alice.node.chat("climbers").id);
  const annotations = raw.filter((e) => e.type === "edit" || e.type === "react");
  assert.equal(annotations.length, 2);
  for (const e of annotations) {
    assert.ok(!e.body.includes("rope") && !e.body.includes(sent.hash), e.body);
    assert.ok("c" in JSON.parse(e.body), "encrypted like a group message");
  }
  await alice.node.call("delete", { chat: "climbers", id: sent.id });
  const gone = await nextView(bob, sent.hash, (m) => m.deleted === true);
  assert.equal(gone.body, "");
  assert.equal(gone.reactions, undefined);

  // Over sftp, bob's export of the group: each its own line type, `text` decrypted for him,
  // and every line verifies with ssh-keygen.
  const work = await Deno.makeTempDir();
  try {
    const exported = await sftpGet(
      `${bob.dir}/id_ed25519`,
      alice.node,
      "/chats/climbers.log",
      work,
    );
    const lines = exported.trim().split("\n").map((l) => JSON.parse(l));
    const byType = new Map(lines.map((l) => [l.type, l]));
    for (const t of ["msg", "edit", "react", "retract"]) assert.ok(byType.has(t), t);
    assert.deepEqual(JSON.parse(byType.get("edit").text), { to: sent.hash, text: "rope at 10" });
    assert.deepEqual(JSON.parse(byType.get("react").text), { to: sent.hash, emoji: "👍" });
    await verifyAll(lines, { alice: alice.dir, bob: bob.dir }, work);
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
});

/** Checks every export line's signature with the real `ssh-keygen -Y verify`. */
async function verifyAll(
  lines: { type: string; author: string; signed: string; sig: string }[],
  dirs: Record<string, string>,
  work: string,
): Promise<void> {
  const allowed = `${work}/allowed`;
  const keys = new Map<string, string>();
  let text = "";
  for (const [name, dir] of Object.entries(dirs)) {
    const line = (await Deno.readTextFile(`${dir}/id_ed25519.pub`)).trim();
    keys.set(line.split(" ")[1]!, name);
    text += `${name} ${line}\n`;
  }
  await Deno.writeTextFile(allowed, text);
  for (const l of lines) {
    await Deno.writeTextFile(`${work}/e.sig`, l.sig);
    const who = keys.get(l.author.split(" ")[1]!)!;
    const ok = await sshKeygen(
      ["-Y", "verify", "-f", allowed, "-I", who, "-n", "roj-entry", "-s", `${work}/e.sig`],
      base64.decode(l.signed),
    );
    assert.equal(ok.code, 0, `${l.type}: ${ok.stderr}${ok.stdout}`);
  }
}
