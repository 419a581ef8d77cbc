/**
 * The CLI commands that talk to a running node: their failure when none runs
 * (real processes), their parsing and formatting, and their output against a
 * fake node served on a real control socket (in process, so it stays fast).
 */
import assert from "node:assert/strict";
import { tempDir } from "../testing/temp.ts";
import { FakeNode } from "../testing/fake_node.ts";
import { serveControl } from "../node/control/mod.ts";
import type { ContactView, MessageView } from "../node/api/mod.ts";
import { RojError, type RojErrorCode } from "../node/mod.ts";
import { ROJ_ERROR_CODES } from "../node/errors.ts";
import { runCli } from "../cli/cli.ts";
import type { CliIo } from "../cli/io.ts";
import { EXIT_CODES } from "../cli/exit_codes.ts";
import { formatDuration, parseDuration } from "../cli/duration.ts";
import { qrText } from "../cli/commands_node.ts";
import {
  chatLines,
  contactLines,
  escapeControl,
  messageLine,
  portMapText,
  preview,
  relativeTime,
  shortTime,
  statusLines,
  table,
} from "../cli/format.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

async function roj(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-net",
      MAIN,
      ...args,
    ],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Runs the CLI in this process, capturing what it prints. */
async function cli(args: string[], io: Partial<CliIo> = {}) {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, {
    out: (t) => (stdout += t),
    err: (t) => (stderr += t),
    onInterrupt: () => () => {},
    ...io,
  });
  return { code, stdout, stderr };
}

/** The exit status scripts may rely on for each code these tests meet. */
const EXIT_OF: Partial<Record<RojErrorCode, number>> = {
  usage: 2,
  bad_input: 2,
  no_node: 3,
  unreachable: 4,
  timeout: 4,
  busy: 4,
  refused: 5,
  internal: 70,
  not_found: 1,
  exists: 1,
  protocol: 1,
};

/** One line on stderr, "roj: <code>: <message>", and the code's exit status. */
function assertOneLineError(
  r: { code: number; stdout: string; stderr: string },
  code: RojErrorCode,
  re: RegExp,
) {
  assert.equal(r.code, EXIT_OF[code], `expected exit ${EXIT_OF[code]}: ${JSON.stringify(r)}`);
  assert.equal(r.stdout, "");
  assert.ok(r.stderr.startsWith(`roj: ${code}: `), `code ${code} in the line: ${r.stderr}`);
  assert.match(r.stderr, re);
  assert.equal(r.stderr.trim().split("\n").length, 1, `one line: ${r.stderr}`);
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(check(), `timed out waiting for ${what}`);
}

const message = (over: Partial<MessageView>): MessageView => ({
  chat: "bob",
  seq: 1,
  author: "alice",
  authorFingerprint: "SHA256:x",
  mine: true,
  ts: new Date(2024, 4, 1, 9, 5).getTime(),
  lamport: 1,
  type: "msg",
  body: "hello",
  state: "stored",
  hash: "1a2b3c4d5e6f",
  id: "1a2b3c4d5e6f",
  ...over,
});

Deno.test("commands that need a node fail in one line naming roj run when none runs", async () => {
  await using d = await tempDir();
  const data = `${d.path}/none`;
  await Deno.mkdir(data);
  await Deno.writeTextFile(`${data}/id_ed25519.pub`, "ssh-ed25519 AAAA none\n");
  const runs = await Promise.all([
    ["send", "bob", "hi"],
    ["chats"],
    ["contacts"],
    ["invite", "--expires", "2h"],
    ["add", "roj1abc"],
    ["status"],
    ["read", "bob", "--follow"],
  ].map((args) => roj([...args, "--data", data])));
  for (const r of runs) {
    assertOneLineError(
      r,
      "no_node",
      /^roj: no_node: no node is running in .*none; start it with `roj run --data .*none`\n$/,
    );
    assert.equal(r.code, 3);
  }
  // With --json, the same failure as one object on stdout.
  const json = await roj(["status", "--json", "--data", data]);
  assert.equal(json.code, 3);
  assert.equal(json.stderr, "");
  assert.deepEqual(JSON.parse(json.stdout), {
    error: {
      code: "no_node",
      message: `no node is running in ${data}; start it with \`roj run --data ${data}\``,
    },
  });
  assert.equal(json.stdout.split("\n").length, 2, "one line");
  // A folder with no identity: the error says `roj run` would make a new one, and how not to.
  const empty = await roj(["status", "--data", `${d.path}/empty`]);
  assert.equal(empty.code, 3);
  assertOneLineError(
    empty,
    "no_node",
    /holds no identity: `roj run --data .*empty` would create a new one/,
  );
});

Deno.test("read and note without a node still work for notes; other chats say how to start one", async () => {
  await using d = await tempDir();
  const data = `${d.path}/a`;
  assert.equal((await cli(["init", "--data", data, "--name", "alice"])).code, 0);
  assert.equal((await cli(["note", "--data", data, "offline note"])).stdout, "stored note 1\n");
  const read = await cli(["read", "--data", data, "notes"]);
  assert.ok(read.stdout.endsWith("  alice  offline note\n"), read.stdout);
  assertOneLineError(
    await cli(["read", "--data", data, "bob"]),
    "not_found",
    /no chat called "bob" in .* \(no node is running; start it with `roj run --data /,
  );
});

Deno.test("bad flags are refused before anything is asked of the node", async () => {
  await using d = await tempDir();
  const data = `${d.path}/x`;
  assertOneLineError(
    await cli(["invite", "--data", data, "--expires", "tomorrow"]),
    "bad_input",
    /bad duration/,
  );
  assertOneLineError(
    await cli(["invite", "--data", data, "--expires", "31d"]),
    "bad_input",
    /out of range: use 1m to 30d/,
  );
  assertOneLineError(
    await cli(["invite", "--data", data, "--uses", "0"]),
    "bad_input",
    /positive whole number/,
  );
  assertOneLineError(
    await cli(["invite", "--data", data, "--uses", "101"]),
    "bad_input",
    /1 to 100/,
  );
  assertOneLineError(
    await cli(["add", "x", "--data", data, "--name", "a\u0007b"]),
    "bad_input",
    /not allowed/,
  );
  assertOneLineError(
    await cli(["read", "notes", "--data", data, "--last", "1.5"]),
    "bad_input",
    /positive whole number/,
  );
  assertOneLineError(
    await cli(["send", "bob", "--data", data]),
    "usage",
    /missing required argument 'text'/,
  );
  const help = await cli(["invite", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--expires <duration>/);
});

Deno.test("parseDuration: units, bounds, bad text", () => {
  assert.equal(parseDuration("30m"), 1800);
  assert.equal(parseDuration("24h"), 86400);
  assert.equal(parseDuration("7d"), 7 * 86400);
  assert.equal(parseDuration(" 1m "), 60);
  assert.equal(parseDuration("30d"), 30 * 86400);
  assert.equal(parseDuration("90s"), 90);
  assert.equal(parseDuration("2H"), 7200);
  for (const bad of ["", "24", "h", "1.5h", "-1h", "1w", "1h30m", "24 hours", "0x10m"]) {
    assert.throws(() => parseDuration(bad), /bad duration/, bad);
  }
  for (const out of ["59s", "0m", "31d", "721h", "999999999d"]) {
    assert.throws(() => parseDuration(out), /out of range/, out);
  }
  assert.equal(parseDuration("5s", { min: 1, max: 10 }), 5);
  assert.deepEqual(
    [60, 90, 1800, 86400, 7 * 86400, 3600 * 25].map(formatDuration),
    ["1m", "90s", "30m", "1d", "7d", "25h"],
  );
});

Deno.test("format: message lines, state markers, escaping", () => {
  const t = shortTime(new Date(2024, 4, 1, 9, 5).getTime());
  assert.equal(t, "2024-05-01 09:05");
  const id = "1a2b3c4d"; // the short id, in the time column
  assert.equal(messageLine(message({})), `${t} ${id}  alice ·  hello`);
  assert.equal(messageLine(message({ state: "delivered" })), `${t} ${id}  alice ✓  hello`);
  assert.equal(messageLine(message({ state: "at-anchor" })), `${t} ${id}  alice →  hello`);
  assert.equal(messageLine(message({ state: "read" })), `${t} ${id}  alice ✓✓  hello`);
  assert.equal(
    messageLine(message({ mine: false, author: "bob", state: "received", body: "a\nb" })),
    `${t} ${id}  bob  a\n    b`,
  );
  assert.equal(
    messageLine(message({ chat: "notes" })),
    `${t} ${id}  alice  hello`,
    "no marker on notes",
  );
  assert.equal(
    messageLine(message({
      edited: true,
      history: [{ body: "helo", ts: 0 }],
      replyTo: { id: "99aa88bb77cc", author: "bob", body: "hi\nthere" },
      reactions: [{ emoji: "👍", authors: ["bob", "carol"], mine: false }],
    })),
    `${t} ${id}  alice ·  [↳ 99aa88bb bob: hi there] hello (edited)  [👍 2]`,
  );
  assert.equal(
    messageLine(message({ deleted: true, body: "" })),
    `${t} ${id}  alice ·  (deleted for everyone)`,
  );
  // Same columns as the direct read: the body is everything after the second "  ".
  assert.equal(messageLine(message({ body: "x  y" })).split("  ").slice(2).join("  "), "x  y");
  assert.equal(escapeControl("a\u001b[2Jb\u009bc\u202ed\te"), "a\\x1b[2Jb\\x9bc\\u202ed\te");
  assert.equal(preview("  one\n two  "), "one two");
  assert.equal(preview("x".repeat(60), 10), "xxxxxxxxx…");
});

Deno.test("format: relative times", () => {
  const now = Date.UTC(2024, 4, 10, 12, 0, 0);
  assert.equal(relativeTime(null, now), "never");
  assert.equal(relativeTime(now - 10_000, now), "just now");
  assert.equal(relativeTime(now + 60_000, now), "just now", "a clock ahead of ours");
  assert.equal(relativeTime(now - 5 * 60_000, now), "5 min ago");
  assert.equal(relativeTime(now - 3 * 3600_000, now), "3 h ago");
  assert.equal(relativeTime(now - 86400_000, now), "1 day ago");
  assert.equal(relativeTime(now - 9 * 86400_000, now), "9 days ago");
  assert.match(relativeTime(now - 90 * 86400_000, now), /^on 2024-02-1\d$/);
});

Deno.test("format: tables for chats, contacts and status", () => {
  assert.deepEqual(table([["a", "bb", "c"], ["ccc", "", "d"]]), ["a    bb  c", "ccc      d"]);
  const last = message({ mine: false, author: "bob", body: "see you\nat 8", state: "received" });
  const lines = chatLines([
    { name: "bob", id: "1", kind: "direct", unread: 2, last },
    {
      name: "notes",
      id: "2",
      kind: "notes",
      unread: 0,
      last: message({ chat: "notes", body: "n" }),
    },
    { name: "carol", id: "3", kind: "direct", unread: 0, last: null },
  ]);
  assert.equal(lines[0], `bob    2 unread  ${shortTime(last.ts)}  bob: see you at 8`);
  assert.equal(lines[1], `notes            ${shortTime(last.ts)}  n`);
  assert.equal(lines[2], "carol                              (no messages yet)");
  assert.deepEqual(chatLines([]), ["(no chats yet)"]);

  const now = Date.UTC(2024, 4, 10, 12, 0, 0);
  const contact = (over: Partial<ContactView>): ContactView => ({
    name: "bob",
    publicKey: "k",
    fingerprint: "SHA256:bbb",
    online: false,
    lastSeen: null,
    addresses: [],
    verified: false,
    ...over,
  });
  assert.deepEqual(
    contactLines([
      contact({ addresses: ["192.0.2.7:7022", "[2001:db8::1]:7022"], lastSeen: now - 300_000 }),
      contact({ name: "carol", fingerprint: "SHA256:ccc", online: true, verified: true }),
      contact({ name: "dave", fingerprint: "SHA256:ddd" }),
    ], now),
    [
      "bob    SHA256:bbb  unverified  offline  seen 5 min ago  192.0.2.7:7022, [2001:db8::1]:7022",
      "carol  SHA256:ccc  verified    online   seen now        (no address known)",
      "dave   SHA256:ddd  unverified  offline  seen never      (no address known)",
    ],
  );
  assert.match(contactLines([])[0]!, /roj add/);

  assert.deepEqual(
    statusLines({
      name: "alice",
      publicKey: "k",
      fingerprint: "SHA256:aaa",
      dataDir: "/d",
      listen: ["0.0.0.0:7022"],
      contacts: 3,
      online: 1,
      version: "0.1.0",
    }),
    [
      "alice SHA256:aaa",
      "data:       /d",
      "listening:  0.0.0.0:7022",
      "contacts:   3 (1 online)",
      "version:    0.1.0",
    ],
  );
});

Deno.test("portMapText: the mapping, its renewal and lease, or why there is none", () => {
  const now = Date.UTC(2026, 0, 1, 12);
  assert.equal(
    portMapText({
      state: "mapped",
      method: "nat-pmp",
      gateway: "10.0.0.254",
      external: "203.0.113.5:7022",
      internal: "10.0.0.7:7022",
      protocols: ["tcp"],
      leaseSeconds: 7200,
      renewedAt: now - 5 * 60_000,
      reason: "renewal failed: NAT-PMP gateway 10.0.0.254 did not answer",
    }, now),
    "NAT-PMP 203.0.113.5:7022 (TCP) -> 10.0.0.7:7022, gateway 10.0.0.254, renewed 5 min ago, lease 2 h; renewal failed: NAT-PMP gateway 10.0.0.254 did not answer",
  );
  assert.equal(portMapText({ state: "off", reason: "--no-upnp" }), "off (--no-upnp)");
  assert.equal(
    portMapText({ state: "none", reason: "no UPnP-IGD gateway answered; no default gateway" }),
    "none (no UPnP-IGD gateway answered; no default gateway)",
  );
  assert.match(portMapText({ state: "searching" }), /looking for/);
});

Deno.test("qrText: a square of half blocks, null when too long", () => {
  const qr = qrText("roj1-some-invite-text")!;
  const rows = qr.split("\n");
  assert.ok(rows.length > 10);
  assert.ok(rows.every((r) => [...r].length === [...rows[0]!].length));
  assert.match(qr, /^[█▀▄ \n]+$/);
  assert.equal(qrText("x".repeat(4000)), null);
});

Deno.test("commands against a node on the control socket (a fake node, real socket)", async () => {
  await using d = await tempDir();
  const data = d.path;
  const node = new FakeNode();
  const server = await serveControl(`${data}/roj.sock`, node);
  try {
    const sent = await cli(["send", "bob", "hello bob", "--data", data]);
    assert.deepEqual(sent, { code: 0, stdout: "stored\n", stderr: "" });
    const sentJson = JSON.parse(
      (await cli(["send", "bob", "again", "--data", data, "--json"])).stdout,
    );
    assert.equal(sentJson.body, "again");
    assert.equal(sentJson.state, "stored");
    assertOneLineError(
      await cli(["send", "nobody", "x", "--data", data]),
      "not_found",
      /no chat called "nobody"/,
    );

    assert.deepEqual(await cli(["note", "via node", "--data", data]), {
      code: 0,
      stdout: "stored note 1\n",
      stderr: "",
    });
    node.receive("bob", "bob", "hi alice");

    const read = await cli(["read", "bob", "--data", data]);
    assert.equal(read.code, 0, read.stderr);
    assert.deepEqual(read.stdout.trim().split("\n").map((l) => l.split("  ").slice(1).join("  ")), [
      "alice ·  hello bob",
      "alice ·  again",
      "bob  hi alice",
    ]);
    const readJson = JSON.parse(
      (await cli(["read", "bob", "--last", "1", "--json", "--data", data])).stdout,
    );
    assert.deepEqual(readJson.map((m: MessageView) => m.body), ["hi alice"]);
    assert.deepEqual(node.calls.at(-1), { method: "read", params: { chat: "bob", last: 1 } });

    const chats = await cli(["chats", "--data", data]);
    assert.match(chats.stdout, /^notes {2,}.*via node$/m);
    assert.match(chats.stdout, /^bob {2,}1 unread .* bob: hi alice$/m);
    assert.equal(JSON.parse((await cli(["chats", "--json", "--data", data])).stdout).length, 2);

    const contacts = await cli(["contacts", "--data", data]);
    assert.match(
      contacts.stdout,
      /^bob {2}SHA256:\S+ {2}unverified {2}offline {2}seen never {2}192\.0\.2\.7:7022$/m,
    );

    const invite = await cli(["invite", "--expires", "7d", "--uses", "3", "--qr", "--data", data]);
    assert.equal(invite.code, 0, invite.stderr);
    const [first, blank, ...qr] = invite.stdout.split("\n");
    assert.equal(first, `roj1-invite-3-${7 * 86400}`, "the invite alone on the first line");
    assert.equal(blank, "");
    assert.match(qr.join("\n"), /█/);
    assert.match(invite.stderr, /^valid until \d{4}-\d\d-\d\d \d\d:\d\d, for 3 people\n$/);
    const plain = await cli(["invite", "--data", data]);
    assert.equal(plain.stdout, "roj1-invite-1-86400\n");
    assert.deepEqual(node.calls.at(-1), { method: "invite", params: {} });
    const inviteJson = JSON.parse(
      (await cli(["invite", "--json", "--expires", "30m", "--data", data])).stdout,
    );
    assert.equal(inviteJson.text, "roj1-invite-1-1800");
    const withdrawn = await cli(["invite", "--withdraw", "roj1-invite-1-86400", "--data", data]);
    assert.deepEqual(withdrawn, { code: 0, stdout: "withdrawn\n", stderr: "" });
    assert.deepEqual(node.calls.at(-1), {
      method: "invite.withdraw",
      params: { invite: "roj1-invite-1-86400" },
    });
    const again = await cli(["invite", "--withdraw", "roj1-other", "--json", "--data", data]);
    assert.deepEqual(JSON.parse(again.stdout), { withdrawn: false });

    const added = await cli(["add", "  roj1-from-carol\n", "--name", "carol", "--data", data]);
    assert.deepEqual(added, {
      code: 0,
      stdout: "added carol SHA256:carolCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC\n",
      stderr: "",
    });
    assert.deepEqual(node.calls.at(-1), {
      method: "add",
      params: { invite: "roj1-from-carol", name: "carol" },
    });
    assertOneLineError(
      await cli(["add", "garbage", "--data", data]),
      "bad_input",
      /^roj: bad_input: not a Roj invite\n$/,
    );

    const status = await cli(["status", "--data", data]);
    assert.match(status.stdout, /^alice SHA256:\S+\ndata: +\/tmp\/fake\n/);
    assert.equal(
      JSON.parse((await cli(["status", "--json", "--data", data])).stdout).name,
      "alice",
    );
  } finally {
    await server.close();
  }
});

Deno.test("read --follow prints new messages of that chat until interrupted", async () => {
  await using d = await tempDir();
  const node = new FakeNode();
  const server = await serveControl(`${d.path}/roj.sock`, node);
  try {
    node.receive("bob", "bob", "before");
    let out = "";
    let interrupt: (() => void) | null = null;
    let stoppedListening = false;
    const run = runCli(["read", "bob", "--follow", "--json", "--data", d.path], {
      out: (t) => (out += t),
      err: (t) => (out += `ERR ${t}`),
      onInterrupt: (stop) => {
        interrupt = stop;
        return () => (stoppedListening = true);
      },
    });
    await until(() => interrupt !== null, "the follow to start");
    node.receive("bob", "bob", "during");
    node.receive("notes", "alice", "elsewhere");
    node.emit({ type: "delivered", chat: "bob", seq: 1 });
    await until(() => out.split("\n").length === 3, "the new message");
    interrupt!();
    assert.equal(await run, 0);
    assert.ok(stoppedListening, "signal listeners removed");
    const [initial, live] = out.trim().split("\n");
    assert.deepEqual(JSON.parse(initial!).map((m: MessageView) => m.body), ["before"]);
    assert.equal(JSON.parse(live!).body, "during");
    await until(() => node.listeners === 0, "the follower to go");

    // When the node stops, a follow ends with a one-line error.
    let text = "";
    let err = "";
    let started = false;
    const run2 = runCli(["read", "bob", "-f", "--data", d.path], {
      out: (t) => (text += t),
      err: (t) => (err += t),
      onInterrupt: () => {
        started = true;
        return () => {};
      },
    });
    await until(() => started && node.listeners === 1, "the second follow");
    await server.close();
    assert.equal(await run2, 4, "unreachable");
    assert.ok(text.endsWith("  bob  during\n"), text);
    assert.equal(err, `roj: unreachable: the node in ${d.path} stopped\n`);
  } finally {
    await server.close();
  }
});

Deno.test("exit statuses: every error code has its documented one", () => {
  assert.deepEqual(Object.keys(EXIT_CODES).sort(), [...ROJ_ERROR_CODES].sort());
  const by = (status: number) =>
    Object.entries(EXIT_CODES).filter(([, s]) => s === status).map(([c]) => c).sort();
  assert.deepEqual(by(2), ["bad_input", "usage"]);
  assert.deepEqual(by(3), ["no_node"]);
  assert.deepEqual(by(4), ["busy", "timeout", "unreachable"]);
  assert.deepEqual(by(5), ["agent_unavailable", "identity_conflict", "refused"]);
  assert.deepEqual(by(70), ["internal"]);
  assert.equal(by(1).length, ROJ_ERROR_CODES.length - 10, "every other code is 1");
});

Deno.test("a node's refusal: the code in the line, its exit status, --json on stdout", async () => {
  await using d = await tempDir();
  const node = new FakeNode();
  const server = await serveControl(`${d.path}/roj.sock`, node);
  try {
    const cases: [Error, RojErrorCode, number, string][] = [
      [new RojError("refused", "bob refused the session"), "refused", 5, "bob refused the session"],
      [new RojError("timeout", "no answer in 10 s"), "timeout", 4, "no answer in 10 s"],
      [new RojError("unreachable", "no path to bob"), "unreachable", 4, "no path to bob"],
      [new RojError("busy", "too many requests"), "busy", 4, "too many requests"],
      [new RojError("not_found", "no contact called x"), "not_found", 1, "no contact called x"],
      [new RojError("bad_input", "bad name"), "bad_input", 2, "bad name"],
      // Not a RojError in the node: a bug, reported as internal on the socket.
      [new TypeError("boom"), "internal", 70, "boom"],
    ];
    for (const [err, code, status, message] of cases) {
      node.failNext = err;
      const r = await cli(["status", "--data", d.path]);
      assert.deepEqual(r, { code: status, stdout: "", stderr: `roj: ${code}: ${message}\n` });
      node.failNext = err;
      const j = await cli(["status", "--json", "--data", d.path]);
      assert.deepEqual(j, {
        code: status,
        stdout: JSON.stringify({ error: { code, message } }) + "\n",
        stderr: "",
      });
    }
  } finally {
    await server.close();
  }
});

Deno.test("a peer's text in a failure cannot reach the terminal as control characters", async () => {
  await using d = await tempDir();
  const node = new FakeNode();
  const server = await serveControl(`${d.path}/roj.sock`, node);
  try {
    const evil = "bob says \u001b[2J\nroj: ok \u009b31m\u202eevil\r";
    node.failNext = new RojError("refused", evil);
    const r = await cli(["send", "bob", "hi", "--data", d.path]);
    assert.equal(r.code, 5);
    assert.equal(r.stderr, "roj: refused: bob says \\x1b[2J\\nroj: ok \\x9b31m\\u202eevil\\x0d\n");
    // deno-lint-ignore no-control-regex -- looking for exactly those
    assert.doesNotMatch(r.stderr, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);

    node.failNext = new RojError("refused", evil);
    const j = await cli(["send", "bob", "hi", "--json", "--data", d.path]);
    assert.equal(j.code, 5);
    // deno-lint-ignore no-control-regex -- looking for exactly those
    assert.doesNotMatch(j.stdout.slice(0, -1), /[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/);
    assert.deepEqual(JSON.parse(j.stdout), { error: { code: "refused", message: evil } });
  } finally {
    await server.close();
  }
});
