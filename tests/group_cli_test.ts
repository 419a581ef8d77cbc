/** `roj group …` against real nodes, through their control sockets (in process). */
import assert from "node:assert/strict";
import { befriend, startTestNode, until } from "../testing/nodes.ts";
import { controlSocketPath, serveControl } from "../node/control/mod.ts";
import { runCli } from "../cli/cli.ts";
import { memberLines } from "../cli/commands_group.ts";
import { statusLines } from "../cli/format.ts";

async function cli(args: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, {
    out: (t) => (stdout += t),
    err: (t) => (stderr += t),
    onInterrupt: () => () => {},
  });
  return { code, stdout, stderr };
}

Deno.test("roj group: create, add, members, send/read, remove, leave", async () => {
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  await using b = await startTestNode("bob", { host: "127.0.0.3" });
  await befriend(a, b);
  const ctlA = await serveControl(controlSocketPath(a.dir), a.node);
  const ctlB = await serveControl(controlSocketPath(b.dir), b.node);
  try {
    const A = ["--data", a.dir];
    const B = ["--data", b.dir];
    const created = await cli(["group", "create", "book club", ...A, "--json"]);
    assert.equal(created.code, 0, created.stderr);
    assert.match(JSON.parse(created.stdout).id, /^g-/);

    const added = await cli(["group", "add", "book club", "bob", ...A]);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /^book club \(g-[a-z2-7]+\): 2 members\n/);
    assert.match(added.stdout, /alice +SHA256:\S+ +admin \(you\)\n/);

    const sent = await cli(["send", "book club", "chapter one", ...A]);
    assert.equal(sent.code, 0, sent.stderr);
    await until(
      async () => {
        const r = await cli(["read", "book club", ...B]);
        return r.code === 0 && r.stdout.includes("chapter one");
      },
      10_000,
      "bob reads the group",
    );

    const members = await cli(["group", "members", "book club", ...B, "--json"]);
    assert.deepEqual(
      JSON.parse(members.stdout).map((m: { name: string; admin: boolean }) => [m.name, m.admin]),
      [["alice", true], ["bob", false]],
    );
    const chats = await cli(["chats", ...B, "--json"]);
    assert.ok(JSON.parse(chats.stdout).some((c: { kind: string }) => c.kind === "group"));

    // Failures are one line and a non-zero exit.
    const refused = await cli(["group", "remove", "book club", "alice", ...B]);
    assert.equal(refused.code, 5);
    assert.match(refused.stderr, /^roj: refused: only an admin of book club may do that\n$/);
    const unknown = await cli(["group", "members", "no such", ...B]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^roj: not_found: no chat called "no such"\n$/);

    const left = await cli(["group", "leave", "book club", ...B]);
    assert.equal(left.code, 0, left.stderr);
    assert.equal(left.stdout, "left book club\n");
    await until(
      async () => {
        const r = await cli(["group", "members", "book club", ...A, "--json"]);
        return JSON.parse(r.stdout).length === 1;
      },
      10_000,
      "alice sees bob leave",
    );

    const help = await cli(["group", "--help"]);
    assert.match(help.stdout, /create/);
    assert.match(help.stdout, /leave/);
  } finally {
    await ctlA.close();
    await ctlB.close();
  }
});

Deno.test("memberLines: columns, admin and you", () => {
  assert.deepEqual(
    memberLines([
      { name: "alice", fingerprint: "SHA256:aa", admin: true, me: false },
      { name: "bob\x1b[2J", fingerprint: "SHA256:bb", admin: false, me: true },
    ]),
    ["alice       SHA256:aa  admin", "bob\\x1b[2J  SHA256:bb  (you)"],
  );
  assert.deepEqual(memberLines([]), ["(no members)"]);
});

Deno.test("roj status shows a catch-up under way and an anchor's group mail", () => {
  const lines = statusLines({
    name: "bob",
    publicKey: "k",
    fingerprint: "SHA256:bbb",
    dataDir: "/d",
    listen: ["127.0.0.1:7022"],
    contacts: 2,
    online: 1,
    version: "0.1.0",
    catchingUp: [{ chat: "climbers", from: "alice", done: 4000, total: 10000 }],
  });
  assert.ok(lines.includes("catching up:  climbers from alice: 4,000 of 10,000 entries (40%)"));
  const anchor = statusLines({
    name: "hive",
    publicKey: "k",
    fingerprint: "SHA256:hhh",
    dataDir: "/d",
    listen: ["127.0.0.1:7022"],
    contacts: 2,
    online: 1,
    version: "0.1.0",
    passive: true,
    mailbox: { boxes: 12, bytes: 34_567, duplicates: 0 },
  });
  assert.ok(anchor.some((l) => /^group mail held: +12 boxes, 35 kB$/.test(l)), anchor.join("\n"));
});

Deno.test("roj run: mailbox bounds need --passive and are checked", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await cli(["run", "--mail-quota", "5", "--data", dir, "--no-web"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^roj: bad_input: --mail-quota and --mail-expiry need --passive\n$/);
    const bad = await cli(["run", "--passive", "--mail-expiry", "1s", "--data", dir, "--no-web"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^roj: bad_input: .*1s/);
    const help = await cli(["run", "--help"]);
    assert.match(help.stdout, /--mail-quota <n>/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
