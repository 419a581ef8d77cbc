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

/** The exit status scripts may rely on for each code these tests meet (cli/exit_codes.ts). */
const EXIT_OF = {
  usage: 2,
  bad_input: 2,
  not_found: 1,
  exists: 1,
  key_malformed: 1,
  key_bad_passphrase: 1,
  key_passphrase_required: 1,
  store_corrupt: 1,
} as const;

/** One line on stderr, "roj: <code>: <message>", and the code's exit status. */
function assertOneLineError(r: Run, code: keyof typeof EXIT_OF, pattern: RegExp): void {
  assert.equal(r.code, EXIT_OF[code], `expected exit ${EXIT_OF[code]}, got ${JSON.stringify(r)}`);
  assert.equal(r.stdout, "");
  assert.ok(r.stderr.startsWith(`roj: ${code}: `), `code ${code} in the line: ${r.stderr}`);
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
  assertOneLineError(viaXdg, "not_found", /no identity in .*\/roj/);

  assertOneLineError(await roj(["init", "--data", data]), "exists", /already holds an identity/);
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
    "key_bad_passphrase",
    /passphrase/i,
  );
  assertOneLineError(
    await roj(["init", "--data", data, "--key", key], {}, ""),
    "key_passphrase_required",
    /passphrase/i,
  );

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
  assertOneLineError(
    await roj(["id", "--data", data], { ROJ_PASSPHRASE: "nope" }),
    "key_bad_passphrase",
    /passphrase/i,
  );
});

Deno.test("bad input: clear one-line errors, no stack traces", async () => {
  await using d = await tempDir();
  const data = `${d.path}/a`;
  assert.equal((await roj(["init", "--data", data])).code, 0);

  assertOneLineError(
    await roj(["read", "--data", data, "nosuchchat"]),
    "not_found",
    /no chat called/,
  );
  // ROJ_DEBUG=1: after the line, the stack and the error it wraps (its cause).
  const debug = await roj(["read", "--data", data, "nosuchchat"], { ROJ_DEBUG: "1" });
  assert.equal(debug.code, 1);
  assert.match(debug.stderr, /^roj: not_found: no chat called [^\n]+\nRojError: no chat called/);
  assert.match(debug.stderr, /\n\s+at /);
  assert.match(debug.stderr, /\ncaused by: RojError: no chat called "nosuchchat"\n/);
  assertOneLineError(await roj(["note", "--data", data, "   "]), "bad_input", /empty/);
  assertOneLineError(
    await roj(["read", "--data", data, "notes", "--last", "x"]),
    "bad_input",
    /positive whole number/,
  );
  assertOneLineError(
    await roj(["init", "--data", `${d.path}/b`, "--name", "a\u0007b"]),
    "bad_input",
    /not allowed/,
  );
  // Commander's own usage errors: the same one-line form, exit 2.
  assertOneLineError(
    await roj(["frobnicate"]),
    "usage",
    /^roj: usage: unknown command 'frobnicate' \(run with --help for usage\)\n$/,
  );
  assertOneLineError(await roj(["note", "--data", data]), "usage", /missing required argument/);
  assertOneLineError(
    await roj(["id", "--data", data, "--frob"]),
    "usage",
    /unknown option '--frob'/,
  );
  const bare = await roj([]);
  assert.equal(bare.code, 2, "no command: help on stderr, exit 2");
  assert.match(bare.stderr, /Usage: roj /);
  assert.equal(bare.stdout, "");
  const help = await roj(["note", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: roj note/);
  const top = await roj(["--help"]);
  assert.equal(top.code, 0);
  assert.match(top.stdout, /"roj: <code>: <message>"/);
  assert.match(top.stdout, /3 no node running/);

  // --json: the failure as one JSON object on stdout, nothing on stderr; the same exit status.
  const json = await roj(["read", "--data", data, "nosuchchat", "--json"]);
  assert.deepEqual(json, {
    code: 1,
    stdout: `{"error":{"code":"not_found","message":"no chat called \\"nosuchchat\\" in ${data}` +
      ` (no node is running; start it with \`roj run --data ${data}\` to reach your chats)"}}\n`,
    stderr: "",
  });
  const usage = await roj(["read", "--json"]);
  assert.equal(usage.code, 2);
  assert.equal(usage.stderr, "");
  assert.deepEqual(JSON.parse(usage.stdout), {
    error: {
      code: "usage",
      message: "missing required argument 'chat' (run with --help for usage)",
    },
  });

  // A truncated key file.
  const pem = await Deno.readTextFile(`${data}/id_ed25519`);
  await Deno.writeTextFile(`${data}/id_ed25519`, pem.slice(0, 120));
  assertOneLineError(await roj(["id", "--data", data]), "key_malformed", /key/i);

  await Deno.writeTextFile(`${data}/id_ed25519`, pem);

  // A damaged store value.
  const kv = await Deno.openKv(`${data}/roj.kv`);
  await kv.set(["meta", "schema"], "garbage");
  kv.close();
  assertOneLineError(
    await roj(["read", "--data", data, "notes"]),
    "store_corrupt",
    /store .*damaged/,
  );
});
