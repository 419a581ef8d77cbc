/**
 * `roj verify` against two real nodes over a real session, through their
 * control sockets: both sides compute the same safety number from the two
 * keys (and the one identity/safety_number.ts computes), --mark makes
 * `roj contacts` (text and --json) say verified on that side only, the mark
 * outlives a restart, --unmark takes it back, and bad input fails clearly.
 */
import assert from "node:assert/strict";
import { befriend, startTestNode } from "../testing/nodes.ts";
import { cliRun } from "../testing/cli_run.ts";
import { controlSocketPath, serveControl } from "../node/control/mod.ts";
import { formatSafetyNumber, safetyNumber } from "../node/identity/mod.ts";
import type { ContactView, VerifyView } from "../node/mod.ts";

Deno.test("roj verify: the same code on both sides, --mark, roj contacts, restart, --unmark", async () => {
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  await using b = await startTestNode("bob", { host: "127.0.0.3" });
  await befriend(a, b);
  let ctlA = await serveControl(controlSocketPath(a.dir), a.node);
  const ctlB = await serveControl(controlSocketPath(b.dir), b.node);
  try {
    const A = ["--data", a.dir];
    const B = ["--data", b.dir];
    const fromA = await cliRun(["verify", "bob", ...A, "--json"]);
    assert.equal(fromA.code, 0, fromA.stderr);
    const fromB = await cliRun(["verify", "alice", ...B, "--json"]);
    assert.equal(fromB.code, 0, fromB.stderr);
    const va = JSON.parse(fromA.stdout) as VerifyView;
    const vb = JSON.parse(fromB.stdout) as VerifyView;
    assert.match(va.number, /^\d{60}$/);
    assert.equal(va.number, vb.number, "both sides compute the same code");
    assert.equal(va.number, safetyNumber(a.node.publicKey, b.node.publicKey));
    assert.deepEqual(va.groups, formatSafetyNumber(va.number).split(" "));
    assert.equal(va.fingerprint, b.node.fingerprint);
    assert.equal(va.myFingerprint, a.node.fingerprint);
    assert.equal(va.verified, false);
    assert.equal(va.verifiedAt, null);

    const text = await cliRun(["verify", "bob", ...A]);
    assert.equal(text.code, 0, text.stderr);
    const rows = text.stdout.split("\n").filter((l) => /^ {2}\d{5}( \d{5}){3}$/.test(l));
    assert.equal(rows.join(" ").replace(/\s+/g, " ").trim(), va.groups.join(" "));
    assert.match(text.stdout, /not verified: .*roj verify bob --mark/);

    const contactsOf = async (args: string[]) => {
      const r = await cliRun(["contacts", ...args, "--json"]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as ContactView[];
    };
    assert.equal((await contactsOf(A))[0]!.verified, false);

    const marked = await cliRun(["verify", "bob", "--mark", ...A]);
    assert.equal(marked.code, 0, marked.stderr);
    assert.match(marked.stdout, /^marked bob as verified\n/);
    assert.match(marked.stdout, /\nverified \(marked \d{4}-\d\d-\d\d\)\n$/);
    assert.deepEqual((await contactsOf(A)).map((c) => [c.name, c.verified]), [["bob", true]]);
    assert.deepEqual((await contactsOf(B)).map((c) => [c.name, c.verified]), [["alice", false]]);
    const listed = await cliRun(["contacts", ...A]);
    assert.match(listed.stdout, /^bob +SHA256:\S+ +verified +online/);

    // Kept in the store: the restarted node still says so.
    await ctlA.close();
    await a.stop();
    await using a2 = await startTestNode("alice", { host: "127.0.0.2", dir: a.dir });
    ctlA = await serveControl(controlSocketPath(a.dir), a2.node);
    const again = JSON.parse(
      (await cliRun(["verify", "bob", ...A, "--json"])).stdout,
    ) as VerifyView;
    assert.equal(again.verified, true);
    assert.equal(typeof again.verifiedAt, "number");

    const unmarked = await cliRun(["verify", "bob", "--unmark", ...A, "--json"]);
    assert.equal(unmarked.code, 0, unmarked.stderr);
    assert.equal((JSON.parse(unmarked.stdout) as VerifyView).verified, false);
    assert.equal((await contactsOf(A))[0]!.verified, false);

    const unknown = await cliRun(["verify", "mallory", ...A]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^roj: not_found: no contact called "mallory"\n$/);
    const both = await cliRun(["verify", "bob", "--mark", "--unmark", ...A, "--json"]);
    assert.equal(both.code, 2);
    assert.equal(JSON.parse(both.stdout).error.code, "bad_input");
  } finally {
    await ctlA.close();
    await ctlB.close();
  }
});
