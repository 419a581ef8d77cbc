/**
 * Peer text never reaches the terminal raw (issue 17, item 7): a contact whose
 * name holds ANSI escapes and a forged log line, and whose message body holds
 * another, meets a real `roj run` process. Its log and what `roj contacts`,
 * `roj chats`, `roj read` (plain, --json and --follow) print hold no control
 * character, and no line of them starts with the forged text.
 */
import assert from "node:assert/strict";
import { initProfile } from "../node/home/mod.ts";
import { keys } from "../node/store/mod.ts";
import { EventBus } from "../node/events.ts";
import type { MessageView, NodeEvent } from "../node/api/mod.ts";
import { runCli } from "../cli/cli.ts";
import { cliRun as cli, freePort } from "../testing/cli_run.ts";
import { startTestNode, until } from "../testing/nodes.ts";
import { spawnNode } from "../testing/processes.ts";
import { tempDir } from "../testing/temp.ts";

/** 38 characters, under the invite's 40: red "mal", then what looks like a log line of its own. */
const EVIL_NAME = "\u001b[31mmal\u001b[0m\n10:00:00 connected to bob";
const BODY = "hi\n10:00:00 connected to mallory";
/** An 8-bit CSI, a right-to-left override and a window-title escape. */
const BODY2 = "\u009b2J\u202edlrow\u001b]0;owned\u0007\nbye";

/** Anything a terminal acts on: C0 but tab and newline, DEL, C1, bidi controls, line separators. */
// deno-lint-ignore no-control-regex
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

/** No control character, and no line that starts with forged text. */
function assertSafe(text: string, what: string): void {
  assert.ok(!RAW.test(text), `${what} holds a raw control character: ${JSON.stringify(text)}`);
  for (const line of text.split("\n")) {
    assert.ok(!/^10:00:00 /.test(line), `${what} has a forged line: ${JSON.stringify(line)}`);
  }
}

Deno.test("EventBus.say escapes every line, for the log and for followers alike", () => {
  const printed: string[] = [];
  const followed: NodeEvent[] = [];
  const bus = new EventBus((l) => printed.push(l));
  bus.subscribe((e) => followed.push(e));
  bus.say(`added ${EVIL_NAME}: ${BODY}`);
  const want = "added \\x1b[31mmal\\x1b[0m\\n10:00:00 connected to bob: " +
    "hi\\n10:00:00 connected to mallory";
  assert.deepEqual(printed, [want]);
  assert.deepEqual(followed, [{ type: "log", line: want }]);
});

Deno.test("a contact's hostile name and bodies reach roj run's log and the CLI escaped", async () => {
  await using d = await tempDir();
  const vDir = `${d.path}/victim`;
  (await initProfile(vDir, { name: "victim" })).store.close();
  // Mallory's own node says whatever name its store holds: no checkName on the way out.
  const mDir = `${d.path}/mallory`;
  const made = await initProfile(mDir, { name: "mallory" });
  await made.store.kv.set(keys.setting("name"), EVIL_NAME);
  made.store.close();

  const victim = await spawnNode(vDir, `127.0.0.71:${freePort("127.0.0.71")}`, "victim");
  let stopped = false;
  try {
    await using mallory = await startTestNode("mallory", { dir: mDir, host: "127.0.0.72" });
    const invite = await mallory.node.call("invite", {});

    const added = await cli(["add", invite.text, "--data", vDir]);
    assert.equal(added.code, 0, added.stderr);
    assertSafe(added.stdout, "roj add");
    assert.ok(added.stdout.includes("\\x1b[31mmal\\x1b[0m\\n10:00:00 connected to bob"));

    const contacts = await cli(["contacts", "--data", vDir]);
    assert.equal(contacts.code, 0, contacts.stderr);
    assertSafe(contacts.stdout, "roj contacts");
    assert.equal(contacts.stdout.trim().split("\n").length, 1, contacts.stdout);

    // Follow the chat while mallory writes, as `roj read -f` would.
    let followed = "";
    let interrupt: (() => void) | null = null;
    const following = runCli(["read", EVIL_NAME, "--follow", "--data", vDir], {
      out: (t) => (followed += t),
      err: (t) => (followed += t),
      onInterrupt: (stop) => {
        interrupt = stop;
        return () => {};
      },
    });
    await until(() => interrupt !== null, 10_000, "the follow to start");
    await mallory.node.call("send", { chat: "victim", text: BODY });
    await mallory.node.call("send", { chat: "victim", text: BODY2 });
    await until(() => followed.includes("bye"), 10_000, "both messages followed");
    interrupt!();
    assert.equal(await following, 0);
    assertSafe(followed, "roj read --follow");

    const read = await cli(["read", EVIL_NAME, "--data", vDir]);
    assert.equal(read.code, 0, read.stderr);
    assertSafe(read.stdout, "roj read");
    // The body's own newline is kept, its second line indented under the first.
    const lines = read.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 4, read.stdout);
    assert.ok(
      lines[0]!.endsWith("  \\x1b[31mmal\\x1b[0m\\n10:00:00 connected to bob  hi"),
      lines[0],
    );
    assert.equal(lines[1], "    10:00:00 connected to mallory");
    assert.ok(lines[2]!.endsWith("  \\x9b2J\\u202edlrow\\x1b]0;owned\\x07"), lines[2]);
    assert.equal(lines[3], "    bye");

    const json = await cli(["read", EVIL_NAME, "--json", "--data", vDir]);
    assert.equal(json.code, 0, json.stderr);
    assertSafe(json.stdout, "roj read --json");
    assert.deepEqual(
      (JSON.parse(json.stdout) as MessageView[]).map((m) => [m.author, m.body]),
      [[EVIL_NAME, BODY], [EVIL_NAME, BODY2]],
    );

    const chats = await cli(["chats", "--data", vDir]);
    assert.equal(chats.code, 0, chats.stderr);
    assertSafe(chats.stdout, "roj chats");
    assert.equal(chats.stdout.trim().split("\n").length, 2, chats.stdout); // notes and mallory

    await victim.stop();
    stopped = true;
    const log = victim.output();
    assertSafe(log, "roj run's log");
    // Mallory's name did reach the log (when it was added), escaped.
    assert.ok(log.includes("\\x1b[31mmal\\x1b[0m\\n10:00:00 connected to bob"), log);
  } finally {
    if (!stopped) await victim.stop();
  }
});
