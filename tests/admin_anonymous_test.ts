/**
 * The admin names nothing to a visitor without a session (issue 17, item 10):
 * every kind of answer such a visitor can get, over real HTTP against a real
 * node (sign-in, static files and misses, not found under open paths, methods
 * no route takes, bad Host, bad Origin, oversize bodies, the API and the
 * event stream, broken paths), holds neither the node's name, fingerprint,
 * key, data folder nor SSH address. Signed in, a miss does name the node,
 * which shows the check would see it.
 */
import assert from "node:assert/strict";
import { startTestNode } from "../testing/nodes.ts";
import { rawHttp } from "../testing/raw_http.ts";
import { startAdmin } from "../routes/mod.ts";

/** A name no page has by chance. */
const NAME = "zephyrine";

Deno.test("admin: no answer to a visitor without a session names the node", async (t) => {
  await using a = await startTestNode(NAME, { host: "127.0.0.73" });
  const admin = await startAdmin({ api: a.node, host: "127.0.0.73", port: 0 });
  try {
    const host = new URL(admin.origin).host;
    const status = await a.node.call("status", {});
    const secrets = [
      NAME,
      status.fingerprint,
      status.fingerprint.slice("SHA256:".length),
      a.node.keyLine.split(" ")[1]!,
      status.dataDir,
      ...status.listen,
    ];
    const ask = (method: string, path: string, headers: string[] = [], body = "") =>
      rawHttp(admin.origin, [`${method} ${path} HTTP/1.1`, `Host: ${host}`, ...headers], body);
    const cases: Array<[what: string, answer: ReturnType<typeof ask>, expect: number]> = [
      ["a static file", ask("GET", "/static/style.css"), 200],
      ["the islands", ask("GET", "/static/islands.js"), 200],
      ["a static miss", ask("GET", "/static/nope.css"), 404],
      ["a miss under /static/", ask("GET", "/static/a/b"), 404],
      ["/static/ itself", ask("GET", "/static/"), 404],
      ["a broken escape under /static/", ask("GET", "/static/%E0%A4%A"), 404],
      ["HEAD of a static miss", ask("HEAD", "/static/a/b"), 404],
      [
        "a method no route takes",
        ask("PUT", "/static/style.css", [`Origin: ${admin.origin}`]),
        404,
      ],
      ["OPTIONS", ask("OPTIONS", "/static/a"), 404],
      ["the favicon", ask("GET", "/favicon.ico"), 301],
      ["a page", ask("GET", "/chats"), 401],
      ["a missing page", ask("GET", "/nope/at/all"), 401],
      ["a wrong token", ask("GET", "/?token=wrong-token-wrong-token"), 403],
      [
        "a wrong pasted token",
        ask("POST", "/login", [
          `Origin: ${admin.origin}`,
          "Content-Type: application/x-www-form-urlencoded",
        ], "token=nope"),
        403,
      ],
      [
        "an empty sign-in form",
        ask("POST", "/login", [
          `Origin: ${admin.origin}`,
          "Content-Type: application/x-www-form-urlencoded",
        ]),
        403,
      ],
      [
        "an oversize body",
        ask("POST", "/login", [`Origin: ${admin.origin}`], "x".repeat(300 * 1024)),
        413,
      ],
      ["the API", ask("POST", "/api/status", [`Origin: ${admin.origin}`], "{}"), 401],
      ["the event stream", ask("GET", "/api/events"), 401],
      [
        "a method the API does not take",
        ask("DELETE", "/api/status", [`Origin: ${admin.origin}`]),
        401,
      ],
      ["no Origin", ask("POST", "/login", [], "token=x"), 403],
      ["a foreign Origin", ask("POST", "/login", ["Origin: http://evil.example"], "token=x"), 403],
      [
        "a foreign Host",
        rawHttp(admin.origin, ["GET /static/a/b HTTP/1.1", "Host: evil.example"]),
        403,
      ],
      ["no Host", rawHttp(admin.origin, ["GET /static/a/b HTTP/1.1"]), 403],
    ];
    for (const [what, answer, expect] of cases) {
      await t.step(what, async () => {
        const res = await answer;
        assert.equal(res.status, expect, `${what}: ${res.head}\n${res.body.slice(0, 300)}`);
        const text = `${res.head}\r\n\r\n${res.body}`;
        for (const s of secrets) {
          assert.ok(!text.includes(s), `${what} names ${s}:\n${text.slice(0, 2000)}`);
        }
      });
    }

    await t.step("signed in, a miss names the node", async () => {
      const login = await fetch(admin.url, { redirect: "manual" });
      await login.body?.cancel();
      const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
      const res = await ask("GET", "/static/a/b", [`Cookie: ${cookie}`]);
      assert.equal(res.status, 404);
      assert.ok(res.body.includes(NAME) && res.body.includes(status.fingerprint), res.body);
    });
  } finally {
    await admin.close();
  }
});
