/** A group's files in the web admin over plain HTTP: the link from the group, the list, a download in plain. */
import assert from "node:assert/strict";
import { befriend, startTestNode } from "../testing/nodes.ts";
import { foundGroup } from "../testing/groups.ts";
import { tempDir } from "../testing/temp.ts";
import { startAdmin } from "../routes/mod.ts";
import { encodeB64 } from "../node/protocol/mod.ts";

Deno.test("admin: a group's page links its files; a file sent in the group lists and downloads in plain", async () => {
  await using dir = await tempDir();
  await using a = await startTestNode("alice", { host: "127.0.0.2", quic: false });
  await using b = await startTestNode("bob", { host: "127.0.0.3", quic: false });
  await befriend(a, b);
  await foundGroup(a, [b]);
  const bytes = new Uint8Array(300_000);
  crypto.getRandomValues(bytes.subarray(0, 65536));
  await Deno.writeFile(`${dir.path}/topo.pdf`, bytes);
  const sent = await a.node.call("file.send", { chat: "climbers", path: `${dir.path}/topo.pdf` });
  await b.waitFor((e) => e.type === "file" && e.op === "complete" && e.side === "receive");

  // The admin's upload goes into the group too (sealed like any group file).
  const up = await b.node.call("file.upload", {
    chat: "climbers",
    name: "reply.txt",
    offset: 0,
    b: encodeB64(new TextEncoder().encode("see you at 6")),
    last: true,
  });
  assert.equal(up.file?.name, "reply.txt");
  await a.waitFor((e) => e.type === "file" && e.op === "complete" && e.name === "reply.txt");

  const admin = await startAdmin({ api: b.node, host: "127.0.0.3", port: 0 });
  try {
    const login = await fetch(admin.url, { redirect: "manual" });
    await login.body?.cancel();
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!;
    const get = (path: string) => fetch(admin.origin + path, { headers: { cookie } });

    const chat = await (await get("/chats/climbers")).text();
    assert.ok(chat.includes(`href="/chats/climbers/files"`), "the group links its files");
    assert.ok(chat.includes("file: topo.pdf (300 kB)"), "the entry reads as a sentence");
    const page = await (await get("/chats/climbers/files")).text();
    assert.ok(page.includes("<h1>Files in climbers</h1>"));
    assert.ok(page.includes(`href="/chats/climbers/files/${sent.id}"`));
    assert.ok(page.includes("reply.txt"));
    const dl = await get(`/chats/climbers/files/${sent.id}`);
    assert.equal(dl.status, 200);
    assert.equal(dl.headers.get("content-type"), "application/octet-stream");
    assert.deepEqual(new Uint8Array(await dl.arrayBuffer()), bytes);
  } finally {
    await admin.close();
  }
});
