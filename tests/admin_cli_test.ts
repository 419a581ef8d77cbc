/**
 * `roj run` serves the admin: it prints `admin: http://…/?token=…` once, the
 * URL signs in, the islands built by `deno task build` are served with no run
 * permission at all,
 * Ctrl-C closes it; `--no-web` turns it off; a non-loopback `--web` needs
 * `--web-allow-remote`.
 */
import assert from "node:assert/strict";
import { buildIslands } from "../scripts/build_islands.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
/** The permissions of `deno task start`. */
const PERMS = [
  "--allow-read",
  "--allow-write",
  "--allow-env=ROJ_HOME,XDG_DATA_HOME,HOME,USER,ROJ_PASSPHRASE,ROJ_DEBUG",
  "--allow-net",
  "--allow-sys",
];

function freePort(hostname: string): number {
  const l = Deno.listen({ hostname, port: 0 });
  const { port } = l.addr as Deno.NetAddr;
  l.close();
  return port;
}

interface Running {
  child: Deno.ChildProcess;
  /** Resolves with stdout once it has a line matching `re`. */
  line(re: RegExp, timeoutMs?: number): Promise<string>;
  output(): string;
  done: Promise<void>;
}

function spawnRun(args: string[]): Running {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...PERMS, MAIN, "run", ...args],
    env: { NO_COLOR: "1", USER: "carol" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  const dec = new TextDecoder();
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s) out += dec.decode(chunk, { stream: true });
  };
  const done = Promise.all([pump(child.stdout), pump(child.stderr)]).then(() => {});
  return {
    child,
    output: () => out,
    done,
    async line(re, timeoutMs = 20_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const m = out.split("\n").find((l) => re.test(l));
        if (m) return m;
        if (Date.now() > end) throw new Error(`no line ${re} in:\n${out}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}

Deno.test("roj run prints the admin URL, serves it, and closes it on Ctrl-C", async () => {
  await buildIslands(); // what the start task does first
  const dir = await Deno.makeTempDir({ prefix: "roj-admin-cli-" });
  const host = "127.0.0.7";
  const run = spawnRun([
    "--data",
    dir,
    "--listen",
    `${host}:${freePort(host)}`,
    "--web",
    `${host}:0`,
  ]);
  try {
    const line = await run.line(/^admin: /);
    assert.match(line, /^admin: http:\/\/127\.0\.0\.7:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
    const url = line.slice("admin: ".length);
    const origin = new URL(url).origin;
    const signIn = await fetch(url, { redirect: "manual" });
    await signIn.body?.cancel();
    assert.equal(signIn.status, 303);
    const cookie = (signIn.headers.get("set-cookie") ?? "").split(";")[0]!;
    const page = await fetch(`${origin}/identity`, { headers: { cookie } });
    assert.match(await page.text(), /carol/);
    // The build's own bundle: a stale one would need bundling here, which fails without run
    // permission, and then there are no islands to serve (404).
    const js = await fetch(`${origin}/static/islands.js`);
    assert.equal(js.status, 200, run.output());
    assert.match(await js.text(), /data-island|island/);
    assert.equal(run.output().match(/admin: /g)?.length, 1, "printed once");

    run.child.kill("SIGTERM");
    assert.equal((await run.child.status).code, 0);
    await run.done;
    assert.match(run.output(), /stopped/);
    await assert.rejects(() => fetch(origin), "the admin is closed");
  } finally {
    try {
      run.child.kill("SIGKILL");
    } catch { /* exited */ }
    await run.done;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("roj run --no-web serves no admin; a remote --web needs --web-allow-remote", async () => {
  const dir = await Deno.makeTempDir({ prefix: "roj-admin-cli-" });
  const host = "127.0.0.7";
  try {
    const remote = spawnRun([
      "--data",
      dir,
      "--listen",
      `${host}:${freePort(host)}`,
      "--web",
      "0.0.0.0:0",
    ]);
    const status = await remote.child.status;
    await remote.done;
    assert.equal(status.code, 2);
    assert.equal(remote.output().trim().split("\n").length, 1, remote.output());
    assert.match(remote.output(), /^roj: bad_input: --web 0\.0\.0\.0:0 .*--web-allow-remote$/m);

    const off = spawnRun(["--data", dir, "--listen", `${host}:${freePort(host)}`, "--no-web"]);
    try {
      await off.line(/press Ctrl-C to stop/);
      assert.doesNotMatch(off.output(), /admin:/);
    } finally {
      off.child.kill("SIGTERM");
      await off.child.status;
      await off.done;
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
