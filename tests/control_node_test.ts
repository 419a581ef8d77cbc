/**
 * The CLI against real nodes: two nodes in this process, each serving its
 * control socket, driven by the CLI's own command functions (in process).
 */
import assert from "node:assert/strict";
import { startTestNode, until } from "../testing/nodes.ts";
import { controlSocketPath, serveControl } from "../node/control/mod.ts";
import type { MessageView } from "../node/api/mod.ts";
import { runCli } from "../cli/cli.ts";

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

Deno.test("control + CLI with real nodes: invite, add, send, delivered, follow", async () => {
  await using alice = await startTestNode("alice", { host: "127.0.0.1" });
  await using bob = await startTestNode("bob", { host: "127.0.0.1" });
  const aliceCtl = await serveControl(controlSocketPath(alice.dir), alice.node);
  const bobCtl = await serveControl(controlSocketPath(bob.dir), bob.node);
  try {
    const status = JSON.parse((await cli(["status", "--json", "--data", alice.dir])).stdout);
    assert.equal(status.name, "alice");
    assert.equal(status.fingerprint, alice.node.fingerprint);

    const invite = await cli(["invite", "--expires", "10m", "--data", alice.dir]);
    assert.equal(invite.code, 0, invite.stderr);
    const text = invite.stdout.split("\n")[0]!;
    const added = await cli(["add", text, "--data", bob.dir]);
    assert.equal(added.code, 0, added.stderr);
    assert.equal(added.stdout, `added alice ${alice.node.fingerprint}\n`);
    await until(
      async () => (await alice.node.call("contacts", {})).some((c) => c.name === "bob" && c.online),
      5000,
      "alice to see bob online",
    );
    const contacts = await cli(["contacts", "--data", alice.dir]);
    assert.match(
      contacts.stdout,
      new RegExp(`^bob +${RegExp.escape(bob.node.fingerprint)} +unverified +online +seen now`, "m"),
    );

    // Bob follows his chat with alice while alice sends.
    let followed = "";
    let stopFollow: (() => void) | null = null;
    const follow = runCli(["read", "alice", "--follow", "--json", "--data", bob.dir], {
      out: (t) => (followed += t),
      err: (t) => (followed += `ERR ${t}`),
      onInterrupt: (stop) => {
        stopFollow = stop;
        return () => {};
      },
    });
    await until(() => stopFollow !== null, 5000, "bob's follow");

    const sent = await cli(["send", "bob", "hello bob", "--data", alice.dir]);
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stdout, /^(stored|delivered)\n$/);

    await until(() => followed.split("\n").length >= 3, 5000, "bob to see the message");
    const lines = followed.trim().split("\n");
    assert.deepEqual(JSON.parse(lines[0]!), [], "nothing before");
    const got: MessageView = JSON.parse(lines[1]!);
    assert.equal(got.body, "hello bob");
    assert.equal(got.author, "alice");
    assert.equal(got.mine, false);
    stopFollow!();
    assert.equal(await follow, 0);

    await until(
      async () =>
        ["delivered", "read"].includes(
          (await alice.node.call("read", { chat: "bob" }))[0]?.state ?? "",
        ),
      5000,
      "delivery",
    );
    const read = await cli(["read", "bob", "--data", alice.dir]);
    assert.match(
      read.stdout,
      /^\d{4}-\d\d-\d\d \d\d:\d\d [0-9a-f]{8} {2}alice ✓✓? {2}hello bob\n$/,
    );

    const chats = await cli(["chats", "--data", bob.dir]);
    assert.equal(chats.code, 0, chats.stderr);
    assert.match(chats.stdout, /^alice .* alice: hello bob$/m);

    // A real node's failures: the code in the line and its exit status.
    const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (closed.addr as Deno.NetAddr).port;
    closed.close();
    const unreachable = await cli(["connect", `127.0.0.1:${port}`, "--data", alice.dir]);
    assert.equal(unreachable.code, 4, JSON.stringify(unreachable));
    assert.match(unreachable.stderr, /^roj: unreachable: [^\n]+\n$/);
    const badAddress = await cli(["connect", "not an address", "--json", "--data", alice.dir]);
    assert.equal(badAddress.code, 2, JSON.stringify(badAddress));
    assert.equal(JSON.parse(badAddress.stdout).error.code, "bad_input");
  } finally {
    await aliceCtl.close();
    await bobCtl.close();
  }
});
