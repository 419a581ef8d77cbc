/**
 * The admin over plain HTTP against a real node: the token and cookie, the
 * Host and Origin checks, body limits, the JSON API, form errors, SSE, and
 * a clean close with a stream still open.
 */
import assert from "node:assert/strict";
import { startTestNode } from "../testing/nodes.ts";
import { isRojError } from "../node/errors.ts";
import { type AdminServer, startAdmin } from "../routes/mod.ts";

/** One HTTP/1.1 request with exactly these headers (fetch would set Host itself). */
async function raw(
  origin: string,
  head: string[],
  body = "",
): Promise<{ status: number; head: string; body: string }> {
  const u = new URL(origin);
  const conn = await Deno.connect({ hostname: u.hostname, port: Number(u.port) });
  const bytes = new TextEncoder().encode(body);
  const text = [...head, `Content-Length: ${bytes.length}`, "Connection: close", "", ""].join(
    "\r\n",
  );
  await conn.write(new TextEncoder().encode(text));
  if (bytes.length) await conn.write(bytes);
  let out = "";
  const buf = new Uint8Array(64 * 1024);
  const dec = new TextDecoder();
  for (;;) {
    const n = await conn.read(buf).catch(() => null);
    if (n === null) break;
    out += dec.decode(buf.subarray(0, n), { stream: true });
  }
  conn.close();
  const [h = "", ...rest] = out.split("\r\n\r\n");
  return { status: Number(/^HTTP\/1\.1 (\d+)/.exec(h)?.[1]), head: h, body: rest.join("\r\n\r\n") };
}

async function signIn(admin: AdminServer): Promise<string> {
  const res = await fetch(admin.url, { redirect: "manual" });
  await res.body?.cancel();
  assert.equal(res.status, 303);
  assert.equal(res.headers.get("location"), "/");
  const set = res.headers.get("set-cookie") ?? "";
  assert.match(set, /HttpOnly/);
  assert.match(set, /SameSite=Strict/);
  return set.split(";")[0]!;
}

function post(admin: AdminServer, path: string, init: {
  cookie?: string;
  origin?: string | null;
  type?: string;
  body: string;
}) {
  const headers: Record<string, string> = { "content-type": init.type ?? "application/json" };
  if (init.cookie) headers.cookie = init.cookie;
  if (init.origin !== null) headers.origin = init.origin ?? admin.origin;
  return fetch(admin.origin + path, {
    method: "POST",
    headers,
    body: init.body,
    redirect: "manual",
  });
}

Deno.test("admin: token, cookie, Host, Origin, limits, API, forms, SSE", async (t) => {
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  const admin = await startAdmin({ api: a.node, host: "127.0.0.2", port: 0 });
  try {
    assert.match(admin.url, /^http:\/\/127\.0\.0\.2:\d+\/\?token=[A-Za-z0-9_-]{43}$/);

    await t.step("without the token only the paste-your-token page", async () => {
      for (const path of ["/", "/chats", "/contacts", "/hive", "/identity", "/identity/key.pub"]) {
        const res = await fetch(admin.origin + path, { redirect: "manual" });
        const body = await res.text();
        assert.equal(res.status, 401, path);
        assert.match(body, /Paste your token/);
        assert.doesNotMatch(body, /ssh-ed25519|SHA256:/, "nothing about the node");
      }
      const api = await post(admin, "/api/status", { body: "{}" });
      assert.equal(api.status, 401);
      assert.equal((await api.json()).error.code, "refused");
      const events = await fetch(`${admin.origin}/api/events`);
      assert.equal(events.status, 401);
      await events.body?.cancel();
      const wrong = await fetch(`${admin.origin}/?token=${"x".repeat(43)}`, { redirect: "manual" });
      assert.equal(wrong.status, 403);
      assert.match(await wrong.text(), /not right/);
      assert.equal(wrong.headers.get("set-cookie"), null);
      // The stylesheet is public (the token page uses it); the bundle too (no secrets in it).
      const css = await fetch(`${admin.origin}/static/style.css`);
      assert.equal(css.status, 200);
      await css.body?.cancel();
    });

    const cookie = await signIn(admin);

    await t.step("pasting the token (or the whole URL) on the page signs in", async () => {
      const form = (token: string) =>
        post(admin, "/login", {
          type: "application/x-www-form-urlencoded",
          body: new URLSearchParams({ token }).toString(),
        });
      const ok = await form(admin.url);
      await ok.body?.cancel();
      assert.equal(ok.status, 303);
      assert.match(ok.headers.get("set-cookie") ?? "", /HttpOnly; SameSite=Strict/);
      const bad = await form("nope");
      assert.equal(bad.status, 403);
      assert.match(await bad.text(), /not right/);
    });

    await t.step("pages carry a strict CSP and no inline script", async () => {
      for (const path of ["/chats", "/chats/notes", "/contacts", "/hive", "/identity"]) {
        const res = await fetch(admin.origin + path, { headers: { cookie } });
        const body = await res.text();
        assert.equal(res.status, 200, path);
        const csp = res.headers.get("content-security-policy") ?? "";
        assert.match(csp, /default-src 'none'/);
        assert.match(csp, /script-src 'self'(;|$)/);
        assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
        assert.equal(res.headers.get("x-frame-options"), "DENY");
        assert.equal(res.headers.get("x-content-type-options"), "nosniff");
        assert.doesNotMatch(body, /<script(?![^>]*\bsrc=)[^>]*>/, `${path}: inline script`);
        assert.doesNotMatch(body, /\son[a-z]+=/i, `${path}: inline handler`);
        assert.doesNotMatch(body, /\sstyle=/i, `${path}: inline style`);
        assert.doesNotMatch(body, /https?:\/\/(?!www\.w3\.org)/, `${path}: no outside URL`);
      }
    });

    const { port } = new URL(admin.origin);
    await t.step("a foreign Host header is refused, even signed in (DNS rebinding)", async () => {
      for (const host of [`evil.example:${port}`, `127.0.0.2.nip.io:${port}`, "127.0.0.2"]) {
        const res = await raw(admin.origin, [
          "GET /chats HTTP/1.1",
          `Host: ${host}`,
          `Cookie: ${cookie}`,
        ]);
        assert.equal(res.status, 403, host);
        assert.match(res.body, /Host/);
      }
      const ok = await raw(admin.origin, [
        "GET /chats HTTP/1.1",
        `Host: 127.0.0.2:${port}`,
        `Cookie: ${cookie}`,
      ]);
      assert.equal(ok.status, 200);
      const local = await raw(admin.origin, [
        "GET /chats HTTP/1.1",
        `Host: localhost:${port}`,
        `Cookie: ${cookie}`,
      ]);
      assert.equal(local.status, 200);
      const api = await raw(admin.origin, [
        "POST /api/status HTTP/1.1",
        `Host: evil.example:${port}`,
        `Cookie: ${cookie}`,
        `Origin: http://evil.example:${port}`,
        "Content-Type: application/json",
      ], "{}");
      assert.equal(api.status, 403);
    });

    await t.step("state-changing requests need this admin as their Origin", async () => {
      const send = (origin: string | null, type?: string) =>
        post(admin, "/api/note", {
          cookie,
          origin,
          ...(type ? { type } : {}),
          body: JSON.stringify({ text: "csrf?" }),
        });
      for (
        const origin of ["http://evil.example", "null", `http://localhost:${Number(port) + 1}`]
      ) {
        const res = await send(origin);
        assert.equal(res.status, 403, origin);
        assert.match((await res.json()).error.message, /another site/);
      }
      const none = await send(null);
      assert.equal(none.status, 403);
      await none.body?.cancel();
      // A cross-site form can only send "simple" content types; the API takes JSON only.
      const plain = await send(admin.origin, "text/plain");
      assert.equal(plain.status, 415);
      await plain.body?.cancel();
      const form = await post(admin, "/contacts/block", {
        cookie,
        origin: "http://evil.example",
        type: "application/x-www-form-urlencoded",
        body: "name=bob",
      });
      assert.equal(form.status, 403);
      await form.body?.cancel();
      assert.deepEqual(await a.node.call("read", { chat: "notes" }), [], "nothing was stored");
      const ok = await send(admin.origin);
      assert.equal(ok.status, 200);
      assert.equal((await ok.json()).body, "csrf?");
    });

    await t.step("the JSON API: results, schema errors, unknown methods, Bearer", async () => {
      const status = await post(admin, "/api/status", { cookie, body: "" });
      assert.equal(status.status, 200);
      assert.equal((await status.json()).fingerprint, a.node.fingerprint);
      const bad = await post(admin, "/api/send", { cookie, body: JSON.stringify({ chat: "" }) });
      assert.equal(bad.status, 400);
      const err = (await bad.json()).error;
      assert.equal(err.code, "bad_input");
      assert.match(err.message, /^send: /);
      const extra = await post(admin, "/api/status", { cookie, body: '{"x":1}' });
      assert.equal(extra.status, 400);
      await extra.body?.cancel();
      const unknown = await post(admin, "/api/format_disk", { cookie, body: "{}" });
      assert.equal(unknown.status, 400);
      assert.match((await unknown.json()).error.message, /unknown method/);
      const notJson = await post(admin, "/api/status", { cookie, body: "{" });
      assert.equal(notJson.status, 400);
      await notJson.body?.cancel();
      const missing = await post(admin, "/api/read", { cookie, body: '{"chat":"nobody"}' });
      assert.equal(missing.status, 404);
      assert.equal((await missing.json()).error.code, "not_found");
      const follow = await post(admin, "/api/follow", { cookie, body: "{}" });
      assert.equal(follow.status, 400);
      await follow.body?.cancel();
      // Scripts may use the token itself, with no cookie and no Origin.
      const bearer = await fetch(`${admin.origin}/api/chats`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${new URL(admin.url).searchParams.get("token")}`,
          "content-type": "application/json",
        },
        body: "{}",
      });
      assert.equal(bearer.status, 200);
      assert.ok(Array.isArray(await bearer.json()));
    });

    await t.step("request bodies are size-limited", async () => {
      const big = JSON.stringify({ text: "x".repeat(300 * 1024) });
      const res = await post(admin, "/api/note", { cookie, body: big });
      assert.equal(res.status, 413);
      await res.body?.cancel();
      const long = await post(admin, "/api/note", {
        cookie,
        body: JSON.stringify({ text: "x".repeat(16_001) }),
      });
      assert.equal(long.status, 400);
      await long.body?.cancel();
    });

    await t.step("forms are schema-checked, with the reason on the page", async () => {
      const form = (path: string, fields: Record<string, string>) =>
        post(admin, path, {
          cookie,
          type: "application/x-www-form-urlencoded",
          body: new URLSearchParams(fields).toString(),
        });
      const cases: [string, Record<string, string>, RegExp][] = [
        ["/contacts/rename", { name: "bob", to: "   " }, /Type the new name\./],
        ["/contacts/rename", { name: "bob", to: "x".repeat(41) }, /at most 40 characters/],
        ["/contacts/rename", { name: "bob" }, /The new name is missing/],
        [
          "/contacts/rename",
          { name: "bob", to: "b", admin: "1" },
          /Unexpected field &quot;admin&quot;/,
        ],
        ["/contacts/rename", { name: "bob", to: "Bobby" }, /no contact called &quot;bob&quot;/],
        ["/contacts/invite", { expiresIn: "5", uses: "1" }, /how long the invite stays valid/],
        ["/contacts/invite", { expiresIn: "3600", uses: "1000" }, /from 1 to 100/],
        ["/contacts/preview", { invite: "" }, /Paste an invite first/],
        ["/contacts/preview", { invite: "hello" }, /not a Roj invite/],
        ["/contacts/preview", { invite: "roj1:AAAA" }, /damaged or incomplete/],
        ["/chats/notes/send", { text: "  " }, /Type a message first/],
      ];
      for (const [path, fields, reason] of cases) {
        const res = await form(path, fields);
        const body = await res.text();
        assert.ok(res.status >= 400 && res.status < 500, `${path} ${res.status}`);
        assert.match(body, reason, `${path} ${JSON.stringify(fields)}`);
        assert.match(body, /class="error" role="alert"/);
      }
      const ok = await form("/chats/notes/send", { text: "from a form <script>" });
      assert.equal(ok.status, 303);
      const page = await (await fetch(`${admin.origin}/chats/notes`, { headers: { cookie } }))
        .text();
      assert.match(page, /from a form &lt;script>/, "escaped");
      const invite = await form("/contacts/invite", { expiresIn: "3600", uses: "2" });
      const html = await invite.text();
      assert.equal(invite.status, 200);
      assert.match(html, /roj1:[A-Za-z0-9_-]+/);
      assert.match(html, /<svg[^>]*role="img"[^>]*aria-label="The invite as a QR code"/);
    });

    await t.step("identity: the public key as a .pub download", async () => {
      const res = await fetch(`${admin.origin}/identity/key.pub`, { headers: { cookie } });
      assert.equal(res.headers.get("content-disposition"), 'attachment; filename="alice.pub"');
      assert.equal(await res.text(), `${a.node.keyLine}\n`);
    });

    await t.step("SSE: events arrive; closing the admin ends open streams", async () => {
      const res = await fetch(`${admin.origin}/api/events`, { headers: { cookie } });
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let seen = "";
      await a.node.call("note", { text: "over sse" });
      while (!seen.includes("over sse")) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += value;
      }
      assert.match(seen, /data: \{"type":"message".*"body":"over sse"/);
      const bad = await fetch(`${admin.origin}/api/events?chat=${"x".repeat(80)}`, {
        headers: { cookie },
      });
      assert.equal(bad.status, 400);
      await bad.body?.cancel();
      const started = Date.now();
      await admin.close();
      assert.ok(Date.now() - started < 2000, "close does not wait for the stream");
      for (;;) {
        const { done } = await reader.read();
        if (done) break;
      }
    });
  } finally {
    await admin.close();
  }
});

Deno.test("admin: refuses a non-loopback address unless allowed; a taken port is named", async () => {
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  await assert.rejects(
    () => startAdmin({ api: a.node, host: "0.0.0.0", port: 0 }),
    (e) => isRojError(e, "refused") && /--web-allow-remote/.test(e.message),
  );
  const lines: string[] = [];
  const open = await startAdmin({
    api: a.node,
    host: "0.0.0.0",
    port: 0,
    allowRemote: true,
    log: (l) => lines.push(l),
  });
  try {
    assert.match(lines.join("\n"), /warning: .*plain HTTP/);
    assert.match(open.url, /^http:\/\/127\.0\.0\.1:\d+\//);
    const port = Number(new URL(open.origin).port);
    // Any IP address of this machine works as Host; a DNS name does not.
    const ok = await raw(open.origin, ["GET /static/style.css HTTP/1.1", `Host: 10.1.2.3:${port}`]);
    assert.equal(ok.status, 200);
    const name = await raw(open.origin, [
      "GET /static/style.css HTTP/1.1",
      `Host: evil.example:${port}`,
    ]);
    assert.equal(name.status, 403);
    await assert.rejects(
      () => startAdmin({ api: a.node, host: "127.0.0.1", port }),
      (e) => isRojError(e, "exists") && /--no-web/.test(e.message),
    );
  } finally {
    await open.close();
  }
});
