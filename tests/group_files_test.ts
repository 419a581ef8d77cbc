/**
 * Files in groups between real nodes over real SSH (issue 15, item 4): sealed
 * to the group's epoch, fetched from whichever member or anchor holds them.
 */
import assert from "node:assert/strict";
import { befriend, rawRojPipe, startTestNode, type TestNode } from "../testing/nodes.ts";
import { contains, content } from "../testing/bytes.ts";
import { foundGroup } from "../testing/groups.ts";
import { tempDir } from "../testing/temp.ts";
import { cliRun } from "../testing/cli_run.ts";
import { controlSocketPath, serveControl } from "../node/control/mod.ts";
import type { NodeEvent } from "../node/api/mod.ts";
import { type Entry, toHex } from "../node/log/mod.ts";
import { encodeB64, RpcSession } from "../node/protocol/mod.ts";
import { isRojError } from "../node/errors.ts";
import { ChunkStore } from "../node/files/mod.ts";
import { carriedKeys, epochId, isGroupOp, messageEpoch, openGroupKey } from "../node/groups/mod.ts";

type FileEvent = Extract<NodeEvent, { type: "file" }>;
const fileEvent = (op: FileEvent["op"], side: FileEvent["side"] = "receive") => (e: NodeEvent) =>
  e.type === "file" && e.op === op && e.side === side;

/** Every file under `dir`, recursively. */
async function allBytes(dir: string): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await allBytes(p));
    else if (e.isFile) out.push(await Deno.readFile(p));
  }
  return out;
}

const quiet = { quic: false } as const;

/** Where each node listened, to start it again there (its contacts dial what they know). */
const ports = new Map<string, number>();
async function start(name: string, host: string, o: Parameters<typeof startTestNode>[1] = {}) {
  const t = await startTestNode(name, { host, ...quiet, ...o });
  ports.set(t.dir, t.node.address!.port);
  return t;
}
const again = (t: TestNode) => ({ dir: t.dir, port: ports.get(t.dir)!, ...quiet });

/** Alice, bob and carol, each the others' contact, in alice's group "climbers"; its id. */
async function trio(a: TestNode, b: TestNode, c: TestNode): Promise<string> {
  await befriend(a, b);
  await befriend(a, c);
  await befriend(b, c);
  return await foundGroup(a, [b, c]);
}

async function saved(t: TestNode, id: string): Promise<Uint8Array> {
  await using out = await tempDir();
  const s = await t.node.call("file.save", { chat: "climbers", id, out: out.path });
  return await Deno.readFile(s.path);
}

Deno.test("group files: alice sends in a group of three; carol gets it from bob while alice is away; a removed member holds no key to a later one", async () => {
  await using dir = await tempDir();
  const a = await start("alice", "127.0.0.2");
  const b = await start("bob", "127.0.0.3");
  const c = await start("carol", "127.0.0.4");
  const more: TestNode[] = [];
  try {
    const groupId = await trio(a, b, c);
    await c.stop();
    const bytes = content(600_000, 3);
    await Deno.writeFile(`${dir.path}/route.pdf`, bytes);
    const sent = await a.node.call("file.send", {
      chat: "climbers",
      path: `${dir.path}/route.pdf`,
      caption: "the topo",
    });
    assert.equal(sent.size, bytes.length);
    assert.equal(sent.total, 3);
    const atBob = await b.waitFor(fileEvent("complete"), 20_000) as FileEvent;
    assert.equal(atBob.from, "alice");
    assert.deepEqual(await saved(b, sent.id), bytes);
    const said = (await b.node.call("read", { chat: "climbers" })).find((m) => m.type === "file");
    assert.equal(said?.body, "file: route.pdf (600 kB): the topo");
    await a.stop();

    // Alice is away: carol, back, takes the file from bob.
    const c2 = await startTestNode("carol", { host: "127.0.0.4", ...again(c) });
    more.push(c2);
    const atCarol = await c2.waitFor(fileEvent("complete"), 30_000) as FileEvent;
    assert.equal(atCarol.from, "bob");
    const [f] = await c2.node.call("files", { chat: "climbers" });
    assert.deepEqual(
      { name: f?.name, size: f?.size, from: f?.from, state: f?.state, caption: f?.caption },
      {
        name: "route.pdf",
        size: bytes.length,
        from: "alice",
        state: "complete",
        caption: "the topo",
      },
    );
    assert.deepEqual(await saved(c2, sent.id), bytes);
    // What the stores hold is sealed: no 64-byte run of the file in bob's chunks.
    const bobChunks = await allBytes(`${b.dir}/files/chunks`);
    assert.ok(bobChunks.length >= 3);
    assert.ok(!bobChunks.some((x) => contains(x, bytes.subarray(1000, 1064))));

    // Bob is removed; alice's next file is for alice and carol only.
    const a2 = await startTestNode("alice", { host: "127.0.0.2", ...again(a) });
    more.push(a2);
    await a2.node.call("group.remove", { group: "climbers", member: "bob" });
    const secret = content(100_000, 9);
    await Deno.writeFile(`${dir.path}/after.txt`, secret);
    const from = c2.events.length;
    const later = await a2.node.call("file.send", {
      chat: "climbers",
      path: `${dir.path}/after.txt`,
    });
    await c2.waitFor(fileEvent("complete"), 30_000, from);
    assert.deepEqual(await saved(c2, later.id), secret);
    const log = await c2.node.log.read(groupId);
    const entry = log.find((e) => toHex(e.hash).startsWith(later.id))!;
    const epoch = messageEpoch(entry.body)!;
    const carrier = log.find((e) => isGroupOp(e.type) && epochId(e) === epoch)!;
    const keys = carriedKeys(carrier)!;
    assert.ok(!keys.has(toHex(b.node.publicKey)), "the epoch is not sealed to bob");
    for (const sealed of keys.values()) {
      assert.equal(await openGroupKey(b.node.profile.keyPair, groupId, sealed), null);
    }
    // Nor does bob's node show or hold it.
    assert.ok(!(await b.node.call("files", { chat: "climbers" })).some((x) => x.id === later.id));
    // And no member serves him group chunks any more, not even of the file he had.
    await b.stop();
    const roots: string[] = [];
    for await (const l of Deno.readDir(`${b.dir}/files/lists`)) roots.push(l.name);
    assert.equal(roots.length, 1);
    const { client, pipe } = await rawRojPipe(b, a2);
    const rpc = new RpcSession(pipe, {
      hello: { features: ["sync1", "files1", "gfiles1"], name: "bob" },
    });
    try {
      await rpc.ready;
      await assert.rejects(
        () => rpc.request("files.list", { root: roots[0]!, from: 0, count: 1 }),
        (err) => isRojError(err, "not_found"),
      );
    } finally {
      rpc.close();
      client.close();
    }
  } finally {
    for (const n of [...more, a, b, c]) await n[Symbol.asyncDispose]();
  }
});

Deno.test("group files: with only the anchor online, carol gets the file from it, and the anchor holds no plaintext", async () => {
  await using dir = await tempDir();
  const hive = await startTestNode("hive", { host: "127.0.0.20", passive: true });
  const a = await start("alice", "127.0.0.21");
  const c = await start("carol", "127.0.0.22");
  const more: TestNode[] = [];
  try {
    await befriend(hive, a);
    await befriend(hive, c);
    await befriend(a, c);
    const groupId = await foundGroup(a, [c]);
    await c.stop();
    const bytes = content(700_000, 5);
    const name = "secret-crag-topo.jpg";
    await Deno.writeFile(`${dir.path}/${name}`, bytes);
    const sent = await a.node.call("file.send", { chat: "climbers", path: `${dir.path}/${name}` });
    const anchored = await a.waitFor(fileEvent("anchored", "send"), 30_000) as FileEvent;
    assert.equal(anchored.anchor, "hive");
    await a.node.mailboxIdle();
    await a.stop();

    const c2 = await startTestNode("carol", { host: "127.0.0.22", ...again(c) });
    more.push(c2);
    const done = await c2.waitFor(fileEvent("complete"), 30_000) as FileEvent;
    assert.equal(done.from, "hive");
    assert.deepEqual(await saved(c2, sent.id), bytes);

    // The anchor says what it holds: one file of 3 sealed chunks (16 bytes more each).
    const status = await hive.node.call("status", {});
    assert.deepEqual(status.groupFiles, { files: 1, bytes: bytes.length + 3 * 16 });
    const ctl = await serveControl(controlSocketPath(hive.dir), hive.node);
    try {
      const said = await cliRun(["status", "--data", hive.dir]);
      assert.match(said.stdout, /^group files held: +1, 700 kB$/m);
    } finally {
      await ctl.close();
    }
    // The anchor's folder (its store and its KV files): no run of the file, no name, no group.
    await hive.stop();
    const held = await allBytes(hive.dir);
    const enc = new TextEncoder();
    for (let at = 0; at + 64 <= bytes.length; at += 65_536) {
      assert.ok(!held.some((x) => contains(x, bytes.subarray(at, at + 64))), `plaintext at ${at}`);
    }
    for (const needle of [name, "climbers", groupId]) {
      assert.ok(!held.some((x) => contains(x, enc.encode(needle))), `the anchor holds ${needle}`);
    }
  } finally {
    for (const n of [...more, hive, a, c]) await n[Symbol.asyncDispose]();
  }
});

Deno.test("group files: a chunk failing its hash is refused, and fetched from another holder", async () => {
  await using dir = await tempDir();
  const a = await start("alice", "127.0.0.5");
  const b = await start("bob", "127.0.0.6");
  const c = await start("carol", "127.0.0.7");
  const more: TestNode[] = [];
  let close = () => {};
  try {
    const groupId = await trio(a, b, c);
    await c.stop();
    const bytes = content(700_000, 7);
    await Deno.writeFile(`${dir.path}/f.bin`, bytes);
    const sent = await a.node.call("file.send", { chat: "climbers", path: `${dir.path}/f.bin` });
    await b.waitFor(fileEvent("complete"), 20_000);
    const entries: Entry[] = await b.node.log.read(groupId);
    await a.stop();
    await b.stop();

    // Carol is back with only a bob who corrupts chunk 1 each time.
    const c2 = await startTestNode("carol", { host: "127.0.0.7", ...again(c) });
    more.push(c2);
    const store = await ChunkStore.open(b.dir);
    const { client, pipe } = await rawRojPipe(b, c2);
    const rpc = new RpcSession(pipe, {
      hello: { features: ["sync1", "files1", "gfiles1"], name: "bob" },
    });
    close = () => (rpc.close(), client.close());
    let bad = 0;
    rpc.handle("files.list", async (p) => {
      const list = (await store.list(p.root))!;
      return { hashes: encodeB64(list.subarray(p.from * 32, (p.from + p.count) * 32)) };
    });
    rpc.handle("files.get", async (p) => {
      const list = (await store.list(p.root))!;
      const good = await store.read(list.subarray(p.index * 32, p.index * 32 + 32));
      if (p.index !== 1) return { b: good };
      bad++;
      const b2 = good.slice();
      b2[7] = b2[7]! ^ 0xff;
      return { b: b2 };
    });
    await rpc.ready;
    await rpc.request("sync.push", {
      chat: groupId,
      entries: entries.map((e) => ({ s: encodeB64(e.signed), g: encodeB64(e.sig) })),
    });
    const refused = await c2.waitFor(fileEvent("bad-chunk"), 20_000).catch((e) => {
      console.log(c2.events.map((x) => JSON.stringify(x).slice(0, 200)).join("\n"));
      throw e;
    }) as FileEvent;
    assert.equal(refused.index, 1);
    await c2.waitFor(fileEvent("interrupted"), 20_000);
    assert.equal((await c2.node.call("files", { chat: "climbers" }))[0]?.done, 2);

    // Alice comes back: chunk 1 comes from her, checked, and the file completes intact.
    const a2 = await startTestNode("alice", { host: "127.0.0.5", ...again(a) });
    more.push(a2);
    const done = await c2.waitFor(fileEvent("complete"), 30_000).catch((e) => {
      console.log(c2.events.map((x) => JSON.stringify(x).slice(0, 300)).join("\n"));
      throw e;
    }) as FileEvent;
    assert.equal(done.from, "alice");
    assert.equal(bad, 3, "the bad holder was asked three times, then only after alice");
    assert.deepEqual(await saved(c2, sent.id), bytes);
  } finally {
    close();
    for (const n of [...more, a, b, c]) await n[Symbol.asyncDispose]();
  }
});

Deno.test("group files at an anchor: over the member's quota refused with why; taken once older files expired", async () => {
  await using dir = await tempDir();
  let clock = Date.now();
  const hive = await startTestNode("hive", {
    host: "127.0.0.23",
    passive: true,
    now: () => clock,
    anchorFiles: { perUploaderBytes: 1_000_000, ttlMs: 3_600_000 },
  });
  const a = await start("alice", "127.0.0.24");
  try {
    await befriend(hive, a);
    await foundGroup(a, []);
    await Deno.writeFile(`${dir.path}/one.bin`, content(700_000, 1));
    await Deno.writeFile(`${dir.path}/two.bin`, content(700_000, 2));
    const one = await a.node.call("file.send", { chat: "climbers", path: `${dir.path}/one.bin` });
    await a.waitFor((e) => e.type === "file" && e.op === "anchored" && e.id === one.id, 20_000);
    const two = await a.node.call("file.send", { chat: "climbers", path: `${dir.path}/two.bin` });
    const refused = await a.waitFor(
      (e) => e.type === "file" && e.op === "refused" && e.side === "send" && e.id === two.id,
      20_000,
    ) as FileEvent;
    assert.equal(refused.anchor, "hive");
    assert.match(refused.reason ?? "", /over the quota of 1000000 bytes per member/);

    // Two hours on, the first has expired at the anchor: offered again, the second is taken.
    clock += 2 * 3_600_000;
    const from = a.events.length;
    await a.node.call("file.retry", { chat: "climbers", id: two.id });
    await a.waitFor(
      (e) => e.type === "file" && e.op === "anchored" && e.id === two.id,
      20_000,
      from,
    );
    assert.deepEqual((await hive.node.call("status", {})).groupFiles, {
      files: 1,
      bytes: 700_048,
    });
    await hive.stop();
    let chunks = 0;
    for await (const d of Deno.readDir(`${hive.dir}/files/chunks`)) {
      for await (const _ of Deno.readDir(`${hive.dir}/files/chunks/${d.name}`)) chunks++;
    }
    assert.equal(chunks, 3, "only the second file's three sealed chunks are left");
  } finally {
    for (const n of [hive, a]) await n[Symbol.asyncDispose]();
  }
});
