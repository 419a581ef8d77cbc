/**
 * The CLI as a person uses it: a real `deno run main.ts` process per command,
 * checked against the real OpenSSH tools.
 */
import assert from "node:assert/strict";
import { base64 } from "@scure/base";
import { tempDir } from "../testing/temp.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function roj(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<Run> {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-read", "--allow-write", "--allow-env", MAIN, ...args],
    env: { NO_COLOR: "1", ...env },
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  });
  const child = cmd.spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function sh(cmd: string, args: string[], stdin?: Uint8Array): Promise<Run> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin) {
    const w = child.stdin.getWriter();
    await w.write(stdin);
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

function assertOneLineError(r: Run, pattern: RegExp): void {
  assert.notEqual(r.code, 0, `expected failure, got ${JSON.stringify(r)}`);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, pattern);
  assert.equal(r.stderr.trim().split("\n").length, 1, `one line: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
}

Deno.test("init, id: the key and fingerprint are exactly what ssh-keygen prints", async () => {
  await using d = await tempDir();
  const data = `${d.path}/alice`;
  const init = await roj(["init", "--data", data, "--name", "alice"]);
  assert.equal(init.code, 0, init.stderr);
  assert.equal((await Deno.stat(`${data}/id_ed25519`)).mode! & 0o777, 0o600);

  const id = await roj(["id", "--data", data]);
  assert.equal(id.code, 0, id.stderr);
  const [keyLine, fpLine] = id.stdout.trim().split("\n");
  const y = await sh("ssh-keygen", ["-y", "-f", `${data}/id_ed25519`]);
  assert.equal(
    keyLine!.split(" ").slice(0, 2).join(" "),
    y.stdout.trim().split(" ").slice(0, 2).join(" "),
  );
  assert.match(keyLine!, / alice$/);
  const lf = await sh("ssh-keygen", ["-lf", `${data}/id_ed25519.pub`]);
  assert.equal(fpLine, lf.stdout.trim());

  const json = JSON.parse((await roj(["id", "--data", data, "--json"])).stdout);
  assert.equal(json.name, "alice");
  assert.equal(json.fingerprint, lf.stdout.split(" ")[1]);

  // The data folder rule: $ROJ_HOME when no --data.
  const viaEnv = await roj(["id"], { ROJ_HOME: data });
  assert.equal(viaEnv.stdout, id.stdout);
  const viaXdg = await roj(["id"], { XDG_DATA_HOME: d.path, HOME: "/nonexistent" });
  assertOneLineError(viaXdg, /no identity in .*\/roj/);

  assertOneLineError(await roj(["init", "--data", data]), /already holds an identity/);
});

Deno.test("note, read, export; every exported line verifies with ssh-keygen -Y verify", async () => {
  await using d = await tempDir();
  const data = `${d.path}/a`;
  assert.equal((await roj(["init", "--data", data, "--name", "alice"])).code, 0);
  for (const text of ["hello", "second note", "ünïcödé ✓"]) {
    const r = await roj(["note", "--data", data, text]);
    assert.equal(r.code, 0, r.stderr);
  }
  const read = await roj(["read", "--data", data, "notes"]);
  assert.deepEqual(read.stdout.trim().split("\n").map((l) => l.split("  ").slice(2).join("  ")), [
    "hello",
    "second note",
    "ünïcödé ✓",
  ]);
  const json = JSON.parse(
    (await roj(["read", "notes", "--data", data, "--json", "--last", "1"])).stdout,
  );
  assert.equal(json.length, 1);
  assert.equal(json[0].body, "ünïcödé ✓");

  const exp = await roj(["export", "--data", data, "notes"]);
  assert.equal(exp.code, 0, exp.stderr);
  const lines = exp.stdout.trim().split("\n");
  assert.equal(lines.length, 3);
  const keyLine = (await Deno.readTextFile(`${data}/id_ed25519.pub`)).trim();
  await Deno.writeTextFile(`${d.path}/allowed`, `alice ${keyLine}\n`);
  for (const line of lines) {
    const e = JSON.parse(line);
    await Deno.writeTextFile(`${d.path}/e.sig`, e.sig);
    const ok = await sh("ssh-keygen", [
      "-Y",
      "verify",
      "-f",
      `${d.path}/allowed`,
      "-I",
      "alice",
      "-n",
      "roj-entry",
      "-s",
      `${d.path}/e.sig`,
    ], base64.decode(e.signed));
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    const tampered = base64.decode(e.signed);
    tampered[tampered.length - 1]! ^= 1;
    const bad = await sh("ssh-keygen", [
      "-Y",
      "verify",
      "-f",
      `${d.path}/allowed`,
      "-I",
      "alice",
      "-n",
      "roj-entry",
      "-s",
      `${d.path}/e.sig`,
    ], tampered);
    assert.notEqual(bad.code, 0);
  }
});

Deno.test("adopting an existing key: passphrase asked, never copied in the clear", async () => {
  await using d = await tempDir();
  const key = `${d.path}/id_ed25519`;
  assert.equal(
    (await sh("ssh-keygen", ["-q", "-t", "ed25519", "-N", "s3cret", "-C", "bob@laptop", "-f", key]))
      .code,
    0,
  );
  const data = `${d.path}/roj`;

  assertOneLineError(
    await roj(["init", "--data", data, "--key", key], {}, "wrong\n"),
    /passphrase/i,
  );
  assertOneLineError(await roj(["init", "--data", data, "--key", key], {}, ""), /passphrase/i);

  const ok = await roj(["init", "--data", data, "--key", key], {}, "s3cret\n");
  assert.equal(ok.code, 0, ok.stderr);
  await assert.rejects(
    () => Deno.stat(`${data}/id_ed25519`),
    "no private key copy in the data folder",
  );
  for await (const f of Deno.readDir(data)) {
    const bytes = await Deno.readFile(`${data}/${f.name}`);
    assert.ok(
      !new TextDecoder().decode(bytes).includes("PRIVATE KEY"),
      `${f.name} holds no private key`,
    );
  }
  const id = await roj(["id", "--data", data], { ROJ_PASSPHRASE: "s3cret" });
  assert.equal(id.code, 0, id.stderr);
  const lf = await sh("ssh-keygen", ["-lf", `${key}.pub`]);
  assert.equal(id.stdout.trim().split("\n")[1], lf.stdout.trim());
  assertOneLineError(await roj(["id", "--data", data], { ROJ_PASSPHRASE: "nope" }), /passphrase/i);
});

Deno.test("bad input: clear one-line errors, no stack traces", async () => {
  await using d = await tempDir();
  const data = `${d.path}/a`;
  assert.equal((await roj(["init", "--data", data])).code, 0);

  assertOneLineError(await roj(["read", "--data", data, "nosuchchat"]), /no chat called/);
  assertOneLineError(await roj(["note", "--data", data, "   "]), /empty/);
  assertOneLineError(
    await roj(["read", "--data", data, "notes", "--last", "x"]),
    /positive whole number/,
  );
  assertOneLineError(
    await roj(["init", "--data", `${d.path}/b`, "--name", "a\u0007b"]),
    /not allowed/,
  );
  const unknown = await roj(["frobnicate"]);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /unknown command/);
  const help = await roj(["note", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: roj note/);

  // A truncated key file.
  const pem = await Deno.readTextFile(`${data}/id_ed25519`);
  await Deno.writeTextFile(`${data}/id_ed25519`, pem.slice(0, 120));
  assertOneLineError(await roj(["id", "--data", data]), /key/i);
  await Deno.writeTextFile(`${data}/id_ed25519`, pem);

  // A damaged store value.
  const kv = await Deno.openKv(`${data}/roj.kv`);
  await kv.set(["meta", "schema"], "garbage");
  kv.close();
  assertOneLineError(await roj(["read", "--data", data, "notes"]), /store .*damaged/);
});
