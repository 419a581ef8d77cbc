/** Files between two real nodes over real SSH (issue 15): send, verify, limits, faults. */
import assert from "node:assert/strict";
import { befriend, rawRojPipe, startTestNode, type TestNode } from "../testing/nodes.ts";
import { tempDir } from "../testing/temp.ts";
import { content } from "../testing/bytes.ts";
import { HAS_SSH_KEYGEN, sshKeygen } from "../testing/ssh_keygen.ts";
import type { NodeEvent } from "../node/api/mod.ts";
import { isRojError, RojError } from "../node/errors.ts";
import { type Entry, entryToJson, toHex } from "../node/log/mod.ts";
import { encodeB64, RpcSession } from "../node/protocol/mod.ts";
import { ChunkStore } from "../node/files/mod.ts";

type FileEvent = Extract<NodeEvent, { type: "file" }>;
const fileEvent = (op: FileEvent["op"], side: FileEvent["side"] = "receive") => (e: NodeEvent) =>
  e.type === "file" && e.op === op && e.side === side;

async function pair(opts: { maxFileSize?: number; fileQuota?: number } = {}) {
  const a = await startTestNode("alice", { host: "127.0.0.2", quic: false });
  const b = await startTestNode("bob", { host: "127.0.0.3", quic: false, ...opts });
  await befriend(a, b);
  return { a, b };
}

async function dispose(...nodes: TestNode[]) {
  for (const n of nodes) await n[Symbol.asyncDispose]();
}

Deno.test("a file goes from alice to bob, every chunk verified, and saves byte for byte", async () => {
  await using dir = await tempDir();
  const { a, b } = await pair();
  try {
    const bytes = content(1024 * 1024 + 12345);
    const path = `${dir.path}/holiday photo.jpg`;
    await Deno.writeFile(path, bytes);
    const sent = await a.node.call("file.send", { chat: "bob", path, caption: "the view" });
    assert.equal(sent.name, "holiday photo.jpg");
    assert.equal(sent.type, "image/jpeg");
    assert.equal(sent.state, "complete");
    assert.equal(sent.total, 5);

    const done = await b.waitFor(fileEvent("complete")) as FileEvent;
    assert.equal(done.fetched, bytes.length, "each byte fetched once");
    await a.waitFor(fileEvent("complete", "send"));
    const [f] = await b.node.call("files", { chat: "alice" });
    assert.ok(f);
    assert.deepEqual(
      {
        name: f.name,
        size: f.size,
        state: f.state,
        from: f.from,
        caption: f.caption,
        done: f.done,
      },
      {
        name: "holiday photo.jpg",
        size: bytes.length,
        state: "complete",
        from: "alice",
        caption: "the view",
        done: 5,
      },
    );
    assert.equal(f.id, sent.id);
    // In the conversation, a file is a sentence, not its manifest.
    const said = (await b.node.call("read", { chat: "alice" })).find((m) => m.type === "file")!;
    assert.equal(said.body, "file: holiday photo.jpg (1.1 MB): the view");

    await using out = await tempDir();
    const saved = await b.node.call("file.save", { chat: "alice", id: f.id, out: out.path });
    assert.equal(saved.path, `${out.path}/holiday photo.jpg`);
    assert.deepEqual(await Deno.readFile(saved.path), bytes);
    // Saved again: never over the first.
    const again = await b.node.call("file.save", { chat: "alice", id: f.id, out: out.path });
    assert.equal(again.path, `${out.path}/holiday photo (1).jpg`);

    // The store: folders 0700, chunks 0600, outside the KV store.
    const store = `${b.dir}/files`;
    assert.equal((await Deno.stat(store)).mode! & 0o777, 0o700);
    let chunks = 0;
    for await (const d of Deno.readDir(`${store}/chunks`)) {
      assert.equal((await Deno.stat(`${store}/chunks/${d.name}`)).mode! & 0o777, 0o700);
      for await (const c of Deno.readDir(`${store}/chunks/${d.name}`)) {
        assert.equal((await Deno.stat(`${store}/chunks/${d.name}/${c.name}`)).mode! & 0o777, 0o600);
        chunks++;
      }
    }
    assert.equal(chunks, 5);

    // The file entry is signed like any: stock ssh-keygen verifies it.
    if (HAS_SSH_KEYGEN) {
      const entry = (await b.node.read("alice")).find((e) => e.type === "file")!;
      const json = entryToJson(entry);
      await Deno.writeTextFile(`${dir.path}/e.sig`, json.sig);
      await Deno.writeTextFile(`${dir.path}/allowed`, `alice ${a.node.keyLine}\n`);
      const r = await sshKeygen(
        [
          "-Y",
          "verify",
          "-f",
          `${dir.path}/allowed`,
          "-I",
          "alice",
          "-n",
          "roj-entry",
          "-s",
          `${dir.path}/e.sig`,
        ],
        entry.signed,
      );
      assert.equal(r.code, 0, r.stderr);
    }
  } finally {
    await dispose(a, b);
  }
});

Deno.test("names: path and control characters never reach the receiver's view or disk", async () => {
  await using dir = await tempDir();
  const { a, b } = await pair();
  try {
    const path = `${dir.path}/..\u001b[31mred\u0007\u202eexe.txt`;
    await Deno.writeFile(path, content(1000));
    const sent = await a.node.call("file.send", { chat: "bob", path });
    assert.equal(sent.name, "[31mredexe.txt");
    await b.waitFor(fileEvent("complete"));
    const [f] = await b.node.call("files", { chat: "alice" });
    assert.equal(f!.name, "[31mredexe.txt");
    await using out = await tempDir();
    const saved = await b.node.call("file.save", { chat: "alice", id: f!.id, out: out.path });
    assert.equal(saved.path, `${out.path}/[31mredexe.txt`);
  } finally {
    await dispose(a, b);
  }
});

Deno.test("over the size limit or the contact's quota: refused before any chunk, with the reason", async () => {
  await using dir = await tempDir();
  const { a, b } = await pair({ maxFileSize: 300_000, fileQuota: 500_000 });
  try {
    await Deno.writeFile(`${dir.path}/big.bin`, content(400_000));
    await a.node.call("file.send", { chat: "bob", path: `${dir.path}/big.bin` });
    const refused = await b.waitFor(fileEvent("refused")) as FileEvent;
    assert.match(refused.reason!, /over the limit of 300000 bytes/);
    const [f] = await b.node.call("files", { chat: "alice" });
    assert.equal(f!.state, "refused");
    assert.equal(f!.done, 0);
    await assert.rejects(
      () => b.node.call("file.save", { chat: "alice", id: f!.id, out: dir.path }),
      (e) => isRojError(e, "refused") && /not complete/.test(e.message),
    );
    // Two of 250 kB fit one 500 kB quota only once.
    await Deno.writeFile(`${dir.path}/one.bin`, content(250_000, 2));
    await Deno.writeFile(`${dir.path}/two.bin`, content(250_001, 3));
    await a.node.call("file.send", { chat: "bob", path: `${dir.path}/one.bin` });
    await b.waitFor(fileEvent("complete"));
    const from = b.events.length;
    await a.node.call("file.send", { chat: "bob", path: `${dir.path}/two.bin` });
    const over = await b.waitFor(fileEvent("refused"), 10_000, from) as FileEvent;
    assert.equal(over.name, "two.bin");
    assert.match(over.reason!, /quota/);
    // The sender's own limit says so before anything is sent.
    const small = await startTestNode("carol", { host: "127.0.0.4", maxFileSize: 10 });
    try {
      await befriend(small, b);
      await assert.rejects(
        () => small.node.call("file.send", { chat: "bob", path: `${dir.path}/one.bin` }),
        (e) => isRojError(e, "bad_input") && /over the limit/.test(e.message),
      );
    } finally {
      await dispose(small);
    }
  } finally {
    await dispose(a, b);
  }
});

/** Alice's own entries, read before her node stopped. */
const chains = new WeakMap<TestNode, Entry[]>();

/**
 * Alice's node stopped after writing a file entry, and a raw session to bob
 * under her key in its place that serves the chunks from her store, with
 * `tamper` choosing, per request, bytes to send instead or an error.
 */
async function hostileAlice(
  a: TestNode,
  b: TestNode,
  tamper: (index: number, n: number, bytes: Uint8Array) => Uint8Array | Error | null,
) {
  const chat = a.node.chat("bob").id;
  let entries = chains.get(a);
  if (!entries) {
    const mine = toHex(a.node.publicKey);
    chains.set(a, entries = (await a.node.log.read(chat)).filter((e) => toHex(e.author) === mine));
  }
  await a.stop();
  const store = await ChunkStore.open(a.dir);
  const { client, pipe } = await rawRojPipe(a, b);
  const rpc = new RpcSession(pipe, { hello: { features: ["sync1", "files1"], name: "alice" } });
  const asked = new Map<number, number>();
  rpc.handle("files.list", async (p) => {
    const list = (await store.list(p.root))!;
    return { hashes: encodeB64(list.subarray(p.from * 32, (p.from + p.count) * 32)) };
  });
  rpc.handle("files.get", async (p) => {
    const n = (asked.get(p.index) ?? 0) + 1;
    asked.set(p.index, n);
    const list = (await store.list(p.root))!;
    const bytes = await store.read(list.subarray(p.index * 32, p.index * 32 + 32));
    const t = tamper(p.index, n, bytes);
    if (t instanceof Error) throw t;
    return { b: t ?? bytes };
  });
  await rpc.ready;
  await rpc.request("sync.push", {
    chat,
    entries: entries.map((e) => ({ s: encodeB64(e.signed), g: encodeB64(e.sig) })),
  });
  return { asked, close: () => (rpc.close(), client.close()) };
}

Deno.test("a chunk that fails its hash is refused and fetched again; the file completes intact", async () => {
  await using dir = await tempDir();
  const { a, b } = await pair();
  try {
    const bytes = content(700_000, 4);
    await Deno.writeFile(`${dir.path}/f.bin`, bytes);
    await b.stop();
    const sent = await a.node.call("file.send", { chat: "bob", path: `${dir.path}/f.bin` });
    await using b2 = await startTestNode("bob", { host: "127.0.0.3", dir: b.dir, quic: false });
    const mallory = await hostileAlice(a, b2, (i, n, good) => {
      if (i !== 1 || n > 1) return null;
      const bad = good.slice();
      bad[100] = bad[100]! ^ 0xff;
      return bad;
    });
    try {
      const badChunk = await b2.waitFor(fileEvent("bad-chunk")) as FileEvent;
      assert.equal(badChunk.index, 1);
      const done = await b2.waitFor(fileEvent("complete")) as FileEvent;
      assert.equal(mallory.asked.get(1), 2, "chunk 1 asked for again");
      assert.equal(
        done.fetched,
        bytes.length + 262144,
        "the bad copy was fetched, then a good one",
      );
      await using out = await tempDir();
      const saved = await b2.node.call("file.save", { chat: "alice", id: sent.id, out: out.path });
      assert.deepEqual(await Deno.readFile(saved.path), bytes);
    } finally {
      mallory.close();
    }
  } finally {
    await dispose(a, b);
  }
});

Deno.test("a chunk that keeps failing, or never comes: shown incomplete with why; a retry fetches only the rest", async () => {
  await using dir = await tempDir();
  const { a, b } = await pair();
  try {
    const bytes = content(1_100_000, 6);
    await Deno.writeFile(`${dir.path}/f.bin`, bytes);
    await b.stop();
    const sent = await a.node.call("file.send", { chat: "bob", path: `${dir.path}/f.bin` });
    await using b2 = await startTestNode("bob", { host: "127.0.0.3", dir: b.dir, quic: false });
    let withhold = true;
    const mallory = await hostileAlice(a, b2, (i, _n, good) => {
      if (!withhold) return null;
      if (i === 1) return good.subarray(0, 1000); // the wrong length, every time
      return null;
    });
    try {
      const failed = await b2.waitFor(fileEvent("failed")) as FileEvent;
      assert.match(failed.reason!, /chunk 1 failed its check 3 times/);
      const [f] = await b2.node.call("files", { chat: "alice" });
      assert.equal(f!.state, "failed");
      assert.equal(f!.total, 5);
      assert.ok(f!.done >= 1 && f!.done < 5, `done ${f!.done}`);
      await assert.rejects(
        () => b2.node.call("file.save", { chat: "alice", id: sent.id, out: dir.path }),
        (e) => isRojError(e, "refused") && /not complete/.test(e.message),
      );

      // Chunks that never come (the holder says it has none): interrupted, kept as fetching.
      const from = b2.events.length;
      withhold = false;
      const notHeld = new RojError("not_found", "chunk not held");
      let gone = true;
      const mallory2Tamper = (i: number) => (gone && i === 1 ? notHeld : null);
      mallory.close();
      const m2 = await hostileAlice(a, b2, mallory2Tamper);
      try {
        await b2.node.call("file.retry", { chat: "alice", id: sent.id });
        const cut = await b2.waitFor(fileEvent("interrupted"), 10_000, from) as FileEvent;
        assert.match(cut.reason!, /chunk not held/);
        const [g] = await b2.node.call("files", { chat: "alice" });
        assert.equal(g!.state, "fetching");
        const had = g!.done;
        gone = false;
        const from2 = b2.events.length;
        await b2.node.call("file.retry", { chat: "alice", id: sent.id });
        const done = await b2.waitFor(fileEvent("complete"), 10_000, from2) as FileEvent;
        assert.ok(done.fetched! > 0 && done.fetched! <= (5 - had) * 262144, "only the rest");
        await using out = await tempDir();
        const saved = await b2.node.call("file.save", {
          chat: "alice",
          id: sent.id,
          out: out.path,
        });
        assert.deepEqual(await Deno.readFile(saved.path), bytes);
      } finally {
        m2.close();
      }
    } finally {
      mallory.close();
    }
  } finally {
    await dispose(a, b);
  }
});

Deno.test("the sender goes away mid-transfer: shown incomplete, and resumed from the verified chunks", async () => {
  await using dir = await tempDir();
  const { a, b } = await pair();
  try {
    const bytes = content(24 * 1024 * 1024, 5);
    await Deno.writeFile(`${dir.path}/big.bin`, bytes);
    const sent = await a.node.call("file.send", { chat: "bob", path: `${dir.path}/big.bin` });
    await b.waitFor((e) => fileEvent("progress")(e) && (e as FileEvent).done >= 4, 20_000);
    const port = a.node.address!.port;
    await a.node.close();
    const cut = await b.waitFor(fileEvent("interrupted"), 10_000) as FileEvent;
    assert.ok(cut.done < cut.total, "incomplete when the sender left");
    const [f] = await b.node.call("files", { chat: "alice" });
    assert.equal(f!.state, "fetching");
    assert.match(f!.reason!, /resumes when alice is back/);
    const had = f!.done;
    assert.ok(had >= 4);

    const from = b.events.length;
    const a2 = await startTestNode("alice", { host: "127.0.0.2", dir: a.dir, quic: false, port });
    try {
      const done = await b.waitFor(fileEvent("complete"), 30_000, from) as FileEvent;
      assert.ok(
        done.fetched! <= bytes.length - had * 262144,
        `fetched ${done.fetched} after holding ${had} chunks`,
      );
      await using out = await tempDir();
      const saved = await b.node.call("file.save", { chat: "alice", id: sent.id, out: out.path });
      assert.deepEqual(await Deno.readFile(saved.path), bytes);
    } finally {
      await dispose(a2);
    }
  } finally {
    await dispose(a, b);
  }
});

Deno.test("a file entry whose record a crash lost is found at the next session and fetched", async () => {
  await using dir = await tempDir();
  const { a, b } = await pair();
  try {
    const bytes = content(300_000, 7);
    await Deno.writeFile(`${dir.path}/f.bin`, bytes);
    const sent = await a.node.call("file.send", { chat: "bob", path: `${dir.path}/f.bin` });
    await b.waitFor(fileEvent("complete"));
    await b.stop();
    // As if bob's node died between storing the entry and recording the file.
    const kv = await Deno.openKv(`${b.dir}/roj.kv`);
    for (const prefix of [["file"], ["file-root"], ["file-scan"]]) {
      for await (const e of kv.list({ prefix })) await kv.delete(e.key);
    }
    kv.close();
    await Deno.remove(`${b.dir}/files`, { recursive: true });
    await using b2 = await startTestNode("bob", { host: "127.0.0.3", dir: b.dir, quic: false });
    const done = await b2.waitFor(fileEvent("complete"), 15_000) as FileEvent;
    assert.equal(done.id, sent.id);
    assert.equal(done.fetched, bytes.length);
    const [f] = await b2.node.call("files", { chat: "alice" });
    assert.equal(f!.state, "complete");
  } finally {
    await dispose(a, b);
  }
});

Deno.test("cancel: the receiver stops a fetch and takes it up again; the sender withdraws a file and offers it again", async () => {
  await using dir = await tempDir();
  const { a, b } = await pair();
  try {
    const bytes = content(24 * 1024 * 1024, 8);
    await Deno.writeFile(`${dir.path}/big.bin`, bytes);
    const sent = await a.node.call("file.send", { chat: "bob", path: `${dir.path}/big.bin` });
    await b.waitFor((e) => fileEvent("progress")(e) && (e as FileEvent).done >= 4, 20_000);
    const cancelled = await b.node.call("file.cancel", { chat: "alice", id: sent.id });
    assert.equal(cancelled.state, "failed");
    assert.equal(cancelled.reason, "cancelled here");
    await b.waitFor(fileEvent("failed"));
    await assert.rejects(
      () => b.node.call("file.save", { chat: "alice", id: sent.id, out: dir.path }),
      (e) => isRojError(e, "refused"),
    );
    const from = b.events.length;
    await b.node.call("file.retry", { chat: "alice", id: sent.id });
    const done = await b.waitFor(fileEvent("complete"), 30_000, from) as FileEvent;
    assert.ok(done.fetched! < bytes.length, "resumed, not started over");

    // The sender withdraws a file bob has not fetched yet: bob cannot get it until it is offered again.
    await b.stop();
    await Deno.writeFile(`${dir.path}/second.bin`, content(600_000, 9));
    const second = await a.node.call("file.send", { chat: "bob", path: `${dir.path}/second.bin` });
    const withdrawn = await a.node.call("file.cancel", { chat: "bob", id: second.id });
    assert.equal(withdrawn.reason, "cancelled: no longer sent");
    await using b2 = await startTestNode("bob", { host: "127.0.0.3", dir: b.dir, quic: false });
    const cut = await b2.waitFor(fileEvent("interrupted"), 15_000) as FileEvent;
    assert.match(cut.reason!, /the sender cancelled it/);
    await a.node.call("file.retry", { chat: "bob", id: second.id });
    const from2 = b2.events.length;
    await b2.node.call("file.retry", { chat: "alice", id: second.id });
    await b2.waitFor(fileEvent("complete"), 15_000, from2);
    await assert.rejects(
      () => b2.node.call("file.cancel", { chat: "alice", id: second.id }),
      (e) => isRojError(e, "refused") && /nothing to cancel/.test(e.message),
    );
  } finally {
    await dispose(a, b);
  }
});
