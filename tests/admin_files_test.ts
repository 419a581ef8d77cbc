/** A chat's files in the web admin over plain HTTP: the list, and downloads streamed as attachments. */
import assert from "node:assert/strict";
import { befriend, startTestNode } from "../testing/nodes.ts";
import { tempDir } from "../testing/temp.ts";
import { startAdmin } from "../routes/mod.ts";

Deno.test("admin: a chat's files listed, a complete one downloads byte for byte as an attachment", async () => {
  await using dir = await tempDir();
  await using a = await startTestNode("alice", { host: "127.0.0.2", quic: false });
  await using b = await startTestNode("bob", {
    host: "127.0.0.3",
    quic: false,
    maxFileSize: 800_000,
  });
  await befriend(a, b);
  const bytes = new Uint8Array(700_000);
  for (let i = 0; i < bytes.length; i += 65536) {
    crypto.getRandomValues(bytes.subarray(i, i + 65536));
  }
  await Deno.writeFile(`${dir.path}/<b>ünï"code<i>.html`, bytes);
  await Deno.writeFile(`${dir.path}/big.bin`, new Uint8Array(900_000));
  const sent = await a.node.call("file.send", {
    chat: "bob",
    path: `${dir.path}/<b>ünï"code<i>.html`,
  });
  await b.waitFor((e) => e.type === "file" && e.op === "complete" && e.side === "receive");
  const big = await a.node.call("file.send", { chat: "bob", path: `${dir.path}/big.bin` });
  await b.waitFor((e) => e.type === "file" && e.op === "refused");

  // An image: the sender makes a thumbnail, carried in the entry.
  const specifier = "jimp";
  // deno-lint-ignore no-explicit-any
  const { Jimp } = await import(specifier) as any;
  const png = new Uint8Array(
    await new Jimp({ width: 640, height: 480, color: 0x228833ff }).getBuffer("image/png"),
  );
  await Deno.writeFile(`${dir.path}/green.png`, png);
  const from = b.events.length;
  const image = await a.node.call("file.send", { chat: "bob", path: `${dir.path}/green.png` });
  assert.equal(image.thumb, true);
  await b.waitFor(
    (e) => e.type === "file" && e.op === "complete" && e.id === image.id,
    10_000,
    from,
  );

  const admin = await startAdmin({ api: b.node, host: "127.0.0.3", port: 0 });
  try {
    const login = await fetch(admin.url, { redirect: "manual" });
    await login.body?.cancel();
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]!;
    const get = (path: string, withCookie = true) =>
      fetch(admin.origin + path, { headers: withCookie ? { cookie } : {}, redirect: "manual" });

    const page = await get("/chats/alice/files");
    assert.equal(page.status, 200);
    const text = await page.text();
    assert.ok(text.includes(`href="/chats/alice/files/${sent.id}"`), "a link to the complete file");
    assert.ok(!text.includes("<b>ünï"), "the peer's name is escaped, not markup");
    assert.match(text, /refused: .*over the limit/);
    assert.ok(
      !text.includes(`href="/chats/alice/files/${big.id}"`),
      "no link to an incomplete file",
    );

    const dl = await get(`/chats/alice/files/${sent.id}`);
    assert.equal(dl.status, 200);
    assert.equal(dl.headers.get("content-type"), "application/octet-stream");
    assert.equal(dl.headers.get("x-content-type-options"), "nosniff");
    assert.equal(dl.headers.get("content-length"), String(bytes.length));
    assert.equal(
      dl.headers.get("content-disposition"),
      `attachment; filename="<b>_n__code<i>.html"; filename*=UTF-8''%3Cb%3E%C3%BCn%C3%AF%22code%3Ci%3E.html`,
    );
    assert.deepEqual(new Uint8Array(await dl.arrayBuffer()), bytes);

    // Without script, a link to the full-size image; the island shows the thumbnail from a blob:.
    assert.ok(text.includes(`href="/chats/alice/files/${image.id}/view"`), "the image linked");
    assert.ok(!text.includes(`src="/chats/alice/files/${image.id}/thumb"`), "no same-origin img");
    const thumb = await get(`/chats/alice/files/${image.id}/thumb`);
    assert.equal(thumb.headers.get("content-type"), "image/jpeg");
    assert.match(thumb.headers.get("content-security-policy")!, /default-src 'none'/);
    const t = new Uint8Array(await thumb.arrayBuffer());
    assert.deepEqual([...t.subarray(0, 3)], [0xff, 0xd8, 0xff]);
    const view = await get(`/chats/alice/files/${image.id}/view`);
    assert.equal(view.headers.get("content-type"), "image/png", "by its bytes");
    assert.deepEqual(new Uint8Array(await view.arrayBuffer()), png);
    const notImage = await get(`/chats/alice/files/${sent.id}/view`);
    assert.equal(notImage.status, 415, "an .html file is never shown inline");
    await notImage.body?.cancel();
    const noThumb = await get(`/chats/alice/files/${sent.id}/thumb`);
    assert.equal(noThumb.status, 404);
    await noThumb.body?.cancel();

    const refused = await get(`/chats/alice/files/${big.id}`);
    assert.ok(refused.status >= 400, String(refused.status));
    await refused.body?.cancel();
    const missing = await get("/chats/alice/files/ffffffffffff");
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    // Methods that take a path on this machine are the CLI's, never the admin's.
    for (const method of ["file.send", "file.save"]) {
      const r = await fetch(`${admin.origin}/api/${method}`, {
        method: "POST",
        headers: { cookie, origin: admin.origin, "content-type": "application/json" },
        body: JSON.stringify({ chat: "alice", path: "/etc/passwd", id: sent.id, out: "/tmp" }),
      });
      assert.equal(r.status, 403, method);
      assert.equal((await r.json()).error.code, "refused");
    }
    const anonymous = await get(`/chats/alice/files/${sent.id}`, false);
    const body = await anonymous.text();
    assert.notEqual(anonymous.headers.get("content-type"), "application/octet-stream");
    assert.match(body, /Paste your token/, "no file without the session");
  } finally {
    await admin.close();
  }
});
