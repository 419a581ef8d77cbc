/**
 * The CLI tells the truth (issue 18, item 6), against two real nodes in this
 * process: `send` prints "delivered" once the peer holds the message, what
 * `read --follow` shows counts as read, an empty message gets a plain reason,
 * `peers` has headers and no temporary source ports, and a node that reaches
 * nobody says to `roj connect`.
 */
import assert from "node:assert/strict";
import { befriend, startTestNode, until } from "../testing/nodes.ts";
import { controlSocketPath, serveControl } from "../node/control/mod.ts";
import type { ChatView, PeerView } from "../node/api/mod.ts";
import { runCli } from "../cli/cli.ts";
import { NOBODY_REACHABLE } from "../cli/format.ts";
import { cliRun as cli } from "../testing/cli_run.ts";

Deno.test("the CLI tells the truth: delivered, read marks, empty messages, peers, nobody reachable", async () => {
  await using alice = await startTestNode("alice", { host: "127.0.0.1" });
  await using bob = await startTestNode("bob", { host: "127.0.0.1" });
  const aliceCtl = await serveControl(controlSocketPath(alice.dir), alice.node);
  const bobCtl = await serveControl(controlSocketPath(bob.dir), bob.node);
  try {
    await befriend(alice, bob); // bob dials alice: alice's session with bob came in

    // Online peer: `send` waits for the peer to hold it, and says so.
    const sent = await cli(["send", "bob", "hello bob", "--data", alice.dir]);
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(sent.stdout, "delivered\n");
    const sentJson = await cli(["send", "bob", "again", "--json", "--data", alice.dir]);
    assert.equal(JSON.parse(sentJson.stdout).state, "delivered");

    // An empty message: a plain reason and the usage exit status, nothing stored.
    for (const text of ["", "   "]) {
      const empty = await cli(["send", "bob", text, "--data", alice.dir]);
      assert.equal(empty.code, 2, JSON.stringify(empty));
      assert.match(empty.stderr, /^roj: bad_input: the message is empty/);
    }
    assert.equal((await alice.node.call("read", { chat: "bob", markRead: false })).length, 2);

    // What `read --follow` shows counts as read.
    await bob.node.call("read", { chat: "alice" }); // both earlier messages read
    let stopFollow: (() => void) | null = null;
    let followed = "";
    const follow = runCli(["read", "alice", "--follow", "--data", bob.dir], {
      out: (t) => (followed += t),
      err: () => {},
      onInterrupt: (stop) => {
        stopFollow = stop;
        return () => {};
      },
    });
    await until(() => stopFollow !== null, 5000, "bob's follow");
    await cli(["send", "bob", "seen live", "--data", alice.dir]);
    await until(() => followed.includes("seen live"), 5000, "bob to see it");
    const unread = async () =>
      (await bob.node.call("chats", {})).find((c: ChatView) => c.name === "alice")?.unread;
    await until(async () => await unread() === 0, 5000, "the followed message to count as read");
    stopFollow!();
    assert.equal(await follow, 0);

    // `peers`: headers, and where bob listens rather than his temporary source port.
    const peers = await cli(["peers", "--data", alice.dir]);
    assert.equal(peers.code, 0, peers.stderr);
    const [header, row] = peers.stdout.split("\n");
    assert.match(header!, /^NAME +STATE +PATH +ADDRESS FROM +WHEN$/);
    assert.match(row!, /^bob +connected +direct /);
    assert.equal(row!.split("direct").length, 2, `"direct" once: ${row}`);
    const view: PeerView = JSON.parse((await cli(["peers", "--json", "--data", alice.dir])).stdout)
      .find((p: PeerView) => p.name === "bob");
    assert.equal(view.inbound, true, JSON.stringify(view));
    assert.match(row!, /^bob +connected +direct 127\.0\.0\.1 \(dialled in\) +/);
    assert.ok(!row!.includes(view.address!), `no temporary source port: ${row}`);
    // Bob dialled: his side shows the port alice listens on.
    const bobPeers = (await cli(["peers", "--data", bob.dir])).stdout.split("\n")[1]!;
    const aliceListens = (await alice.node.call("status", {})).listen[0]!;
    assert.match(bobPeers, new RegExp(`^alice +connected +direct ${RegExp.escape(aliceListens)} `));
    assert.ok(!peers.stdout.includes(NOBODY_REACHABLE));

    // Bob goes: alice reaches nobody, and status and peers say what to do.
    await bob.stop();
    await until(
      async () => (await alice.node.call("status", {})).online === 0,
      5000,
      "alice to see bob gone",
    );
    const status = await cli(["status", "--data", alice.dir]);
    assert.ok(status.stdout.trimEnd().endsWith(NOBODY_REACHABLE), status.stdout);
    const alone = await cli(["peers", "--data", alice.dir]);
    assert.ok(alone.stdout.trimEnd().endsWith(NOBODY_REACHABLE), alone.stdout);
    // Offline peer: "stored", without waiting for a delivery that cannot come.
    const stored = await cli(["send", "bob", "later", "--data", alice.dir]);
    assert.equal(stored.stdout, "stored\n");
  } finally {
    await aliceCtl.close();
    await bobCtl.close();
  }
});
