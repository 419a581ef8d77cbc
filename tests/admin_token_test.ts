/**
 * Signing in to the admin survives a restart: the token is kept in the data
 * folder (0600) and the cookie is derived from it, so after `roj run` starts
 * again the same cookie and the same URL still sign in. `roj admin` prints the
 * URL of the running node; `roj admin --rotate` makes a new token at once,
 * and the old cookie and URL are refused. Real `roj run` processes, real HTTP.
 */
import assert from "node:assert/strict";
import { cliRun, freePort } from "../testing/cli_run.ts";
import { until } from "../testing/nodes.ts";
import { type NodeProcess, spawnNode } from "../testing/processes.ts";
import { tempDir } from "../testing/temp.ts";
import { adminTokenPath, loadAdminToken, readAdminOrigin } from "../routes/mod.ts";

const HOST = "127.0.0.8";

/** `roj run` with the admin on `web`, once it serves it (its admin-origin file names it). */
async function runWithAdmin(dir: string, web: string): Promise<NodeProcess> {
  const p = await spawnNode(dir, `${HOST}:${freePort(HOST)}`, "dana", { args: ["--web", web] });
  await until(async () => (await readAdminOrigin(dir)) === `http://${web}`, 10_000, "admin");
  return p;
}

async function adminUrl(dir: string, ...more: string[]): Promise<string> {
  const r = await cliRun(["admin", "--data", dir, "--json", ...more]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  return JSON.parse(r.stdout).url;
}

/** Opens the sign-in URL: the cookie it sets, or null when refused. */
async function signIn(url: string): Promise<string | null> {
  const res = await fetch(url, { redirect: "manual" });
  await res.body?.cancel();
  if (res.status !== 303) return null;
  return (res.headers.get("set-cookie") ?? "").split(";")[0]!;
}

/** The status of a page asked for with `cookie`. */
async function pageStatus(origin: string, cookie: string): Promise<number> {
  const res = await fetch(`${origin}/contacts`, { headers: { cookie }, redirect: "manual" });
  await res.body?.cancel();
  return res.status;
}

Deno.test("admin sign-in survives a restart; roj admin prints the URL; --rotate ends it", async () => {
  await using tmp = await tempDir("roj-admin-token-");
  const dir = tmp.path;
  const web = `${HOST}:${freePort(HOST)}`;
  let node = await runWithAdmin(dir, web);
  try {
    const url = await adminUrl(dir);
    assert.match(url, new RegExp(`^http://${web.replace(/\./g, "\\.")}/\\?token=[\\w-]{43}$`));
    const token = new URL(url).searchParams.get("token")!;
    const info = await Deno.stat(adminTokenPath(dir));
    assert.equal(info.mode! & 0o777, 0o600, "only its owner reads the token");
    const cookie = await signIn(url);
    assert.ok(cookie, "the printed URL signs in");
    assert.equal(await pageStatus(`http://${web}`, cookie), 200);
    assert.ok(!cookie.includes(token), "the cookie is not the token");
    // The token shows once in what `roj run` prints (its admin: line), nowhere else.
    assert.equal(node.output().split(token).length - 1, 1, node.output());

    await node.stop();
    assert.equal(await readAdminOrigin(dir), null, "a stopped admin says nothing");
    const stopped = await cliRun(["admin", "--data", dir]);
    assert.equal(stopped.code, 3, "no node: exit 3");

    node = await runWithAdmin(dir, web);
    assert.equal(await pageStatus(`http://${web}`, cookie), 200, "the cookie outlived a restart");
    assert.equal(await adminUrl(dir), url, "the same URL");
    assert.ok(await signIn(url), "the bookmarked URL still signs in");

    const rotated = await adminUrl(dir, "--rotate");
    assert.notEqual(rotated, url);
    assert.equal((await Deno.stat(adminTokenPath(dir))).mode! & 0o777, 0o600);
    assert.equal(await pageStatus(`http://${web}`, cookie), 401, "the old cookie is refused");
    assert.equal(await signIn(url), null, "the old URL is refused");
    const fresh = await signIn(rotated);
    assert.ok(fresh, "the new URL signs in");
    assert.equal(await pageStatus(`http://${web}`, fresh), 200);

    // Rotating with no node running works on the folder; the next start uses the new token.
    await node.stop();
    const offline = await cliRun(["admin", "--data", dir, "--rotate"]);
    assert.equal(offline.code, 0, offline.stderr);
    node = await runWithAdmin(dir, web);
    assert.equal(await pageStatus(`http://${web}`, fresh), 401, "rotated while stopped");
    const third = await adminUrl(dir);
    assert.notEqual(third, rotated);
    assert.ok(await signIn(third));
  } finally {
    await node.stop();
  }
});

Deno.test("roj admin --rotate in a folder that holds no node writes nothing", async () => {
  await using tmp = await tempDir("roj-admin-token-");
  const r = await cliRun(["admin", "--data", tmp.path, "--rotate"]);
  assert.equal(r.code, 3, r.stderr);
  await assert.rejects(() => Deno.stat(adminTokenPath(tmp.path)), Deno.errors.NotFound);
});

Deno.test("a token file others could read is made private; a broken one is refused", async () => {
  await using tmp = await tempDir("roj-admin-token-");
  const dir = tmp.path;
  await Deno.writeTextFile(adminTokenPath(dir), `${"a".repeat(43)}\n`, { mode: 0o644 });
  await Deno.chmod(adminTokenPath(dir), 0o644);
  const kept = await loadAdminToken(dir);
  assert.deepEqual(kept, { token: "a".repeat(43), tightened: true });
  assert.equal((await Deno.stat(adminTokenPath(dir))).mode! & 0o777, 0o600);
  await Deno.writeTextFile(adminTokenPath(dir), "short\n");
  await assert.rejects(() => loadAdminToken(dir), /roj admin --rotate/);
});
