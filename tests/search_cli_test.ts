/** `roj search` and `roj chat mute|pin|archive` against real nodes: a group, a 1:1 chat, notes. */
import assert from "node:assert/strict";
import { befriend, startTestNode } from "../testing/nodes.ts";
import { controlSocketPath, serveControl } from "../node/control/mod.ts";
import { cliRun as cli } from "../testing/cli_run.ts";
import type { NodeEvent } from "../node/api/mod.ts";

const got = (text: string) => (e: NodeEvent) => e.type === "message" && e.message.body === text;

Deno.test("roj search finds messages from every chat, --chat filters, --json", async () => {
  await using a = await startTestNode("alice", { host: "127.0.61.2", quic: false });
  await using b = await startTestNode("bob", { host: "127.0.61.3", quic: false });
  await using c = await startTestNode("carol", { host: "127.0.61.4", quic: false });
  await befriend(a, b);
  await befriend(a, c);
  await a.node.call("group.create", { name: "climbers" });
  await a.node.call("group.add", { group: "climbers", members: ["bob"] });
  await b.waitFor((e) => e.type === "group" && e.op === "joined");
  await b.node.call("send", { chat: "climbers", text: "who brings the rope on Sunday?" });
  await c.node.call("send", { chat: "alice", text: "my rope is red, by the way" });
  await a.node.call("note", { text: "buy a rope bag" });
  await a.node.call("note", { text: "nothing here" });
  await a.waitFor(got("who brings the rope on Sunday?"));
  await a.waitFor(got("my rope is red, by the way"));
  const ctl = await serveControl(controlSocketPath(a.dir), a.node);
  try {
    const A = ["--data", a.dir];
    const all = await cli(["search", "rope", ...A]);
    assert.equal(all.code, 0, all.stderr);
    const lines = all.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 3, all.stdout);
    assert.ok(
      lines.some((l) => /^climbers +\S+ \S+ +bob: +who brings the \[rope\] on Sunday\?$/.test(l)),
      all.stdout,
    );
    assert.ok(lines.some((l) => /^carol +.*carol: +my \[rope\] is red/.test(l)), all.stdout);
    assert.ok(lines.some((l) => /^notes +.*you: +buy a \[rope\] bag$/.test(l)), all.stdout);

    const only = await cli(["search", "rope", "--chat", "climbers", ...A]);
    assert.equal(only.code, 0, only.stderr);
    assert.equal(only.stdout.trimEnd().split("\n").length, 1);
    assert.match(only.stdout, /^climbers /);

    const json = JSON.parse((await cli(["search", "red rop", "--json", ...A])).stdout);
    assert.equal(json.total, 1);
    assert.equal(json.hits[0].chat, "carol");
    assert.equal(json.hits[0].author, "carol");
    assert.equal(typeof json.hits[0].hash, "string");
    assert.deepEqual(
      json.hits[0].snippet.filter((p: { hit: boolean }) => p.hit).map((p: { text: string }) =>
        p.text
      ),
      ["rope", "red"],
    );

    const none = await cli(["search", "kayak", ...A]);
    assert.equal(none.code, 0);
    assert.match(none.stdout, /^no messages with "kayak"\n$/);
    const unknown = await cli(["search", "rope", "--chat", "nobody", ...A]);
    assert.equal(unknown.code, 1, unknown.stderr);
    assert.match(unknown.stderr, /^roj: not_found: /);
    assert.equal((await cli(["search", "rope", "--limit", "0", ...A])).code, 2);

    // mute, pin, archive: stored per chat; `roj chats` lists pinned first and hides archived.
    const pinned = await cli(["chat", "pin", "notes", "--json", ...A]);
    assert.equal(pinned.code, 0, pinned.stderr);
    assert.deepEqual(JSON.parse(pinned.stdout), {
      chat: "notes",
      muted: false,
      pinned: true,
      archived: false,
    });
    assert.equal((await cli(["chat", "mute", "carol", ...A])).stdout, "carol: muted\n");
    assert.equal((await cli(["chat", "archive", "climbers", ...A])).code, 0);
    const listed = (await cli(["chats", ...A])).stdout.trimEnd().split("\n");
    assert.deepEqual(listed.map((l) => l.split(" ")[0]), ["notes", "bob", "carol"]);
    const every = JSON.parse((await cli(["chats", "--all", "--json", ...A])).stdout);
    assert.equal(every[0].name, "notes");
    assert.ok(
      every.some((x: { name: string; prefs: { archived: boolean } }) =>
        x.name === "climbers" && x.prefs.archived
      ),
    );
    assert.equal(
      (await cli(["chat", "unarchive", "climbers", ...A])).stdout,
      "climbers: no settings\n",
    );
    const bad = await cli(["chat", "shout", "carol", ...A]);
    assert.equal(bad.code, 2);
    assert.match((await cli(["search", "--help"])).stdout, /all these words/);
  } finally {
    await ctl.close();
  }
});
