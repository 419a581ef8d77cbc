import assert from "node:assert/strict";
import { queryTerms, type SearchDoc, searchDoc, SearchIndex, snippet } from "./mod.ts";
import { startTestNode } from "../../testing/nodes.ts";

const doc = (id: string, chat: string, text: string, ts = 1): SearchDoc => ({
  id,
  chat,
  author: "bob",
  authorFingerprint: "SHA256:x",
  mine: false,
  seq: 1,
  lamport: ts,
  ts,
  text,
});

Deno.test("the query finds every word, the last as a prefix, in any chat or one", () => {
  const index = new SearchIndex();
  index.add(doc("a", "c1", "bring the climbing rope tomorrow", 1));
  index.add(doc("b", "c2", "Rope? I have two ropes.", 2));
  index.add(doc("c", "c2", "no match here", 3));
  assert.deepEqual(index.search({ text: "rope" }).hits.map((h) => h.doc.id).sort(), ["a", "b"]);
  assert.deepEqual(index.search({ text: "climbing rop" }).hits.map((h) => h.doc.id), ["a"]);
  assert.deepEqual(index.search({ text: "rope", chat: "c2" }).hits.map((h) => h.doc.id), ["b"]);
  assert.equal(index.search({ text: "rope absent" }).total, 0);
  assert.equal(index.search({ text: "  ?! " }).total, 0);
  // Stop words are not indexed: "the" alone finds nothing, and beside a word it is left out.
  assert.deepEqual(index.search({ text: "the" }), { hits: [], total: 0, ignored: ["the"] });
  assert.deepEqual(index.search({ text: "the rope" }).hits.map((h) => h.doc.id).sort(), ["a", "b"]);
  assert.equal(index.search({ text: "rope", limit: 1 }).hits.length, 1);
  assert.equal(index.search({ text: "rope", limit: 1 }).total, 2);
});

Deno.test("equal scores rank newest first; a second add of an id is ignored", () => {
  const index = new SearchIndex();
  index.add(doc("old", "c", "rope", 1));
  index.add(doc("new", "c", "rope", 5));
  index.add(doc("new", "c", "something else", 9));
  assert.equal(index.size, 2);
  assert.deepEqual(index.search({ text: "rope" }).hits.map((h) => h.doc.id), ["new", "old"]);
});

Deno.test("the index is bounded: past its cap the earliest indexed go", () => {
  const index = new SearchIndex(3);
  for (let i = 0; i < 5; i++) index.add(doc(`m${i}`, "c", `word${i} common`, i));
  assert.equal(index.size, 3);
  assert.deepEqual(
    index.search({ text: "common" }).hits.map((h) => h.doc.id).sort(),
    ["m2", "m3", "m4"],
  );
  index.removeChat("c");
  assert.equal(index.size, 0);
  assert.equal(index.chars, 0);
  // And by characters in all: a long message pushes out the earliest.
  const byChars = new SearchIndex(100, 40);
  byChars.add(doc("x", "c", "0123456789 common", 1));
  byChars.add(doc("y", "c", "0123456789 common", 2));
  byChars.add(doc("z", "c", "0123456789 common", 3));
  assert.deepEqual(byChars.search({ text: "common" }).hits.map((h) => h.doc.id).sort(), ["y", "z"]);
  assert.equal(byChars.chars, 34);
  assert.equal(new SearchIndex().search({ text: "x" }).total, 0);
  assert.equal(index.search({ text: "common" }).total, 0);
});

Deno.test("a snippet shows the context around the first match, matched words marked", () => {
  assert.deepEqual(snippet("Bring the rope, please", ["rope"]), [
    { text: "Bring the ", hit: false },
    { text: "rope", hit: true },
    { text: ", please", hit: false },
  ]);
  const long = `${"a ".repeat(200)}the ropes are here ${"b ".repeat(200)}`;
  const parts = snippet(long, ["rope"], 60);
  const text = parts.map((p) => p.text).join("");
  assert.ok(text.startsWith("…") && text.endsWith("…"), text);
  assert.ok(text.length <= 64, text);
  assert.deepEqual(parts.filter((p) => p.hit).map((p) => p.text), ["ropes"]);
  assert.deepEqual(queryTerms("The rope, knots!"), { terms: ["rope", "knots"], ignored: ["the"] });
});

Deno.test("the index survives a restart: rebuilt from the log, it finds what it found before", async () => {
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  await a.waitFor((e) => e.type === "search-index");
  await a.node.call("note", { text: "the red rope is in the van" });
  await a.node.call("note", { text: "nothing to see" });
  // A group's messages are encrypted in the log: the rebuild finds them by their decrypted text.
  await a.node.call("group.create", { name: "climbers" });
  await a.node.call("send", { chat: "climbers", text: "rope for the group" });
  const before = await a.node.call("search", { query: "rope" });
  assert.deepEqual(before.hits.map((h) => h.chat).sort(), ["climbers", "notes"]);
  await a.stop();

  await using again = await startTestNode("alice", { host: "127.0.0.2", dir: a.dir });
  const ready = await again.waitFor((e) => e.type === "search-index");
  assert.ok(ready.type === "search-index" && ready.indexed === 3, JSON.stringify(ready));
  const after = await again.node.call("search", { query: "rope" });
  assert.equal(after.ready, true);
  assert.deepEqual(after.hits.map((h) => h.hash), before.hits.map((h) => h.hash));
  for (const h of after.hits) {
    assert.deepEqual(h.snippet.filter((p) => p.hit), [{ text: "rope", hit: true }]);
  }
});

Deno.test("only readable text messages become documents", () => {
  const m = {
    chat: "climbers",
    seq: 3,
    author: "bob",
    authorFingerprint: "SHA256:x",
    mine: false,
    ts: 5,
    lamport: 7,
    type: "msg",
    body: "the rope",
    state: "received",
    hash: "ab".repeat(32),
    id: "ab".repeat(6),
  } as const;
  assert.deepEqual(searchDoc("g1", m), {
    id: m.hash,
    chat: "g1",
    author: "bob",
    authorFingerprint: "SHA256:x",
    mine: false,
    seq: 3,
    lamport: 7,
    ts: 5,
    text: "the rope",
  });
  assert.equal(searchDoc("g1", { ...m, body: "(cannot decrypt)" }), null);
  assert.equal(searchDoc("g1", { ...m, type: "group.add", body: "alice added bob" }), null);
});
