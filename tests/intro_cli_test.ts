/** `roj introduce`, `introductions`, `accept`, `decline`, `card`, `import` against three real nodes. */
import assert from "node:assert/strict";
import { befriend, startTestNode } from "../testing/nodes.ts";
import { controlSocketPath, serveControl } from "../node/control/mod.ts";
import { cliRun as cli } from "../testing/cli_run.ts";
import type { NodeEvent } from "../node/api/mod.ts";

const intro = (op: string) => (e: NodeEvent) => e.type === "introduction" && e.op === op;

Deno.test("roj introduce / introductions / accept / decline / card / import", async () => {
  await using a = await startTestNode("alice", { host: "127.0.47.2", quic: false });
  await using b = await startTestNode("bob", { host: "127.0.47.3", quic: false });
  await using c = await startTestNode("carol", { host: "127.0.47.4", quic: false });
  await using d = await startTestNode("dave", { host: "127.0.47.5", quic: false });
  await befriend(a, b);
  await befriend(a, c);
  await befriend(a, d);
  const ctls = await Promise.all(
    [a, b, c, d].map((n) => serveControl(controlSocketPath(n.dir), n.node)),
  );
  try {
    const [A, B, C, D] = [a, b, c, d].map((n) => ["--data", n.dir]);
    const made = await cli(["introduce", "bob", "carol", "--expires", "2d", ...A!]);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /^introduced bob and carol \([0-9a-f]{8}\), open until /);
    await c.waitFor(intro("offered"));

    const listed = await cli(["introductions", ...C!]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(
      listed.stdout,
      /^[0-9a-f]{8} +alice introduces bob +SHA256:\S+ +waiting for you +until /,
    );
    const json = JSON.parse((await cli(["introductions", "--json", ...C!])).stdout);
    assert.equal(json.length, 1);
    assert.equal(json[0].fingerprint, b.node.fingerprint);
    const id: string = json[0].id;

    const accepted = await cli(["accept", id.slice(0, 6), ...C!]);
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.equal(accepted.stdout, "accepted: alice introduces bob\n");
    await b.waitFor(intro("offered"));
    assert.equal((await cli(["accept", id, ...B!])).code, 0);
    await c.waitFor(intro("contacts"));
    assert.ok(
      JSON.parse((await cli(["contacts", "--json", ...C!])).stdout)
        .some((x: { name: string }) => x.name === "bob"),
    );

    // Failures are one line with the code's exit status.
    const unknown = await cli(["accept", "abcd", ...C!]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^roj: not_found: no introduction abcd\n$/);
    const bad = await cli(["decline", "xyz", ...C!]);
    assert.equal(bad.code, 2);
    assert.equal((await cli(["introduce", "bob", "bob", ...A!])).code, 2);

    // A card of dave for carol; she imports it, dave declines.
    const card = await cli(["card", "dave", ...A!]);
    assert.equal(card.code, 0, card.stderr);
    const text = card.stdout.split("\n")[0]!;
    assert.match(text, /^rojcard1:[A-Za-z0-9_-]+$/);
    const imported = await cli(["import", text, "--json", ...C!]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal(JSON.parse(imported.stdout).state, "accepted");
    await d.waitFor(intro("offered"));
    const [offer] = JSON.parse((await cli(["introductions", "--json", ...D!])).stdout);
    assert.equal(offer.name, "carol");
    const declined = await cli(["decline", offer.id, ...D!]);
    assert.equal(declined.code, 0, declined.stderr);
    await c.waitFor(intro("declined"));
    assert.equal((await cli(["introductions", ...C!])).stdout, "(no introductions waiting)\n");
    const forged = await cli(["import", text.slice(0, -3) + "AAA", ...C!]);
    assert.equal(forged.code, 2, forged.stdout);

    const help = await cli(["introduce", "--help"]);
    assert.match(help.stdout, /both accept/);
  } finally {
    for (const ctl of ctls) await ctl.close();
  }
});
