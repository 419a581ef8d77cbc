/** Files between two real nodes over real SSH (issue 15): send, verify, limits, faults. */
import assert from "node:assert/strict";
import { befriend, startTestNode, type TestNode } from "../testing/nodes.ts";
import { tempDir } from "../testing/temp.ts";
import { HAS_SSH_KEYGEN, sshKeygen } from "../testing/ssh_keygen.ts";
import type { NodeEvent } from "../node/api/mod.ts";
import { isRojError } from "../node/errors.ts";
import { entryToJson } from "../node/log/mod.ts";

type FileEvent = Extract<NodeEvent, { type: "file" }>;
const fileEvent = (op: FileEvent["op"], side: FileEvent["side"] = "receive") => (e: NodeEvent) =>
  e.type === "file" && e.op === op && e.side === side;

/** Bytes that differ everywhere (a counter through SHA-256 would be slower to make). */
function content(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed * 2654435761 >>> 0;
  for (let i = 0; i < size; i++) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    out[i] = x & 0xff;
  }
  return out;
}

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

Deno.test("a chunk that fails its hash is refused; the file fails with why, and a retry fetches it", async () => {
  await using dir = await tempDir();
  const { a, b } = await pair();
  try {
    const bytes = content(600_000, 4);
    await Deno.writeFile(`${dir.path}/f.bin`, bytes);
    // Corrupt the sender's copy of chunk 1 in its store before bob asks.
    const chunkFiles: string[] = [];
    const listAll = async () => {
      chunkFiles.length = 0;
      for await (const d of Deno.readDir(`${a.dir}/files/chunks`)) {
        for await (const c of Deno.readDir(`${a.dir}/files/chunks/${d.name}`)) {
          chunkFiles.push(`${a.dir}/files/chunks/${d.name}/${c.name}`);
        }
      }
    };
    await b.stop();
    const sent = await a.node.call("file.send", { chat: "bob", path: `${dir.path}/f.bin` });
    await listAll();
    let victim = "";
    for (const p of chunkFiles) if ((await Deno.stat(p)).size === 262144) victim = p;
    const good = await Deno.readFile(victim);
    const bad = good.slice();
    bad[100] = bad[100]! ^ 0xff;
    await Deno.writeFile(victim, bad);

    const b2 = await startTestNode("bob", { host: "127.0.0.3", dir: b.dir, quic: false });
    try {
      const failed = await b2.waitFor(fileEvent("failed"), 15_000) as FileEvent;
      assert.match(failed.reason!, /failed its check 3 times/);
      assert.equal(b2.events.filter(fileEvent("bad-chunk")).length, 3);
      const [f] = await b2.node.call("files", { chat: "alice" });
      assert.equal(f!.state, "failed");
      assert.ok(f!.done < f!.total);

      await Deno.writeFile(victim, good);
      const from = b2.events.length;
      const retried = await b2.node.call("file.retry", { chat: "alice", id: sent.id });
      assert.equal(retried.state, "fetching");
      const done = await b2.waitFor(fileEvent("complete"), 10_000, from) as FileEvent;
      assert.ok(done.fetched! <= 262144, "only the missing chunk was fetched again");
      await using out = await tempDir();
      const saved = await b2.node.call("file.save", { chat: "alice", id: sent.id, out: out.path });
      assert.deepEqual(await Deno.readFile(saved.path), bytes);
    } finally {
      await dispose(b2);
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
