/**
 * A member removed from a group, on real nodes: their node says how they left
 * (`group.state`: removed, by whom); the chat page says "You were removed"
 * with no composer (with and without JavaScript); they can delete the group
 * from their list (admin button, `roj group forget`), which a member cannot;
 * being added again brings it back. Removing someone asks first (the admin's
 * confirmation page). Screenshots go to test-artifacts/admin/group-gone*.png.
 */
import assert from "node:assert/strict";
import type { Browser } from "playwright-core";
import { befriend, startTestNode, until } from "../testing/nodes.ts";
import { cliRun } from "../testing/cli_run.ts";
import { controlSocketPath, serveControl } from "../node/control/mod.ts";
import { startAdmin } from "../routes/mod.ts";
import { adminPage, HAVE_CHROMIUM, launchChromium, screenshot } from "../testing/browser.ts";
import type { NodeEvent } from "../node/api/mod.ts";

const removed = (e: NodeEvent) => e.type === "group" && e.op === "removed";
const joined = (e: NodeEvent) => e.type === "group" && e.op === "joined";

Deno.test("a removed member: told so, no composer, can delete the group from the list", async () => {
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  await using b = await startTestNode("bob", { host: "127.0.0.3" });
  await befriend(a, b);
  await a.node.call("group.create", { name: "climbers" });
  await a.node.call("group.add", { group: "climbers", members: ["bob"] });
  await b.waitFor(joined);
  await a.node.call("send", { chat: "climbers", text: "rope at six" });
  await until(
    async () =>
      (await b.node.call("read", { chat: "climbers" })).some((m) => m.body === "rope at six"),
    10_000,
    "bob reads the group",
  );
  const stillIn = await b.node.call("group.state", { group: "climbers" });
  assert.deepEqual([stillIn.member, stillIn.departed], [true, null]);
  await assert.rejects(
    () => b.node.call("group.forget", { group: "climbers" }),
    /leave it first/,
    "a member cannot delete the group from the list",
  );

  const from = b.events.length;
  await a.node.call("group.remove", { group: "climbers", member: "bob" });
  await b.waitFor(removed, 10_000, from);
  const state = await b.node.call("group.state", { group: "climbers" });
  assert.deepEqual(
    { member: state.member, departed: state.departed, by: state.by, hidden: state.hidden },
    { member: false, departed: "removed", by: "alice", hidden: false },
  );

  const admin = await startAdmin({ api: b.node, host: "127.0.0.3", port: 0 });
  const ctlB = await serveControl(controlSocketPath(b.dir), b.node);
  let browser: Browser | undefined;
  const problems: string[] = [];
  try {
    if (HAVE_CHROMIUM) {
      browser = await launchChromium();
      const page = await adminPage(browser, problems, { width: 390, height: 844 });
      await page.goto(admin.url);
      await page.goto(new URL("/chats/climbers", admin.origin).href);
      await page.getByText("You were removed from climbers by alice.").waitFor();
      // The history stays readable (the chat list previews it too).
      await page.getByRole("log", { name: "Messages in climbers" }).getByText("rope at six")
        .waitFor();
      assert.equal(await page.locator("form.composer").isVisible(), false, "no composer");
      assert.equal(await page.getByLabel("Message", { exact: true }).isVisible(), false);
      await screenshot(page, "group-gone");
      // Without JavaScript too.
      const still = await browser.newContext({ javaScriptEnabled: false });
      const plain = await still.newPage();
      await plain.goto(admin.url);
      await plain.goto(new URL("/chats/climbers", admin.origin).href);
      await plain.getByText("You were removed from climbers by alice.").waitFor();
      assert.equal(await plain.locator("form.composer").isVisible(), false, "no composer (no JS)");
      await plain.getByRole("button", { name: "Delete climbers from your list" }).click();
      await plain.getByRole("heading", { name: "Chats" }).waitFor();
      await still.close();
      assert.equal(
        (await b.node.call("chats", {})).some((c) => c.name === "climbers"),
        false,
        "deleted from the list",
      );
      await page.close();
    } else {
      const r = await cliRun(["group", "forget", "climbers", "--data", b.dir]);
      assert.equal(r.code, 0, r.stderr);
    }
    assert.equal((await b.node.call("group.state", { group: "climbers" })).hidden, true);
    // The CLI says how bob left, and that it is off his list.
    const members = await cliRun(["group", "members", "climbers", "--data", b.dir]);
    assert.equal(members.code, 0, members.stderr);
    assert.match(
      members.stderr,
      /^you were removed from climbers by alice \(deleted from your list\)\n$/,
    );
    const chats = await cliRun(["chats", "--data", b.dir, "--json"]);
    assert.ok(!JSON.parse(chats.stdout).some((c: { name: string }) => c.name === "climbers"));

    // Added again: back on the list.
    const again = b.events.length;
    await a.node.call("group.add", { group: "climbers", members: ["bob"] });
    await b.waitFor(joined, 10_000, again);
    const back = await b.node.call("group.state", { group: "climbers" });
    assert.deepEqual([back.member, back.hidden], [true, false]);
    assert.ok((await b.node.call("chats", {})).some((c) => c.name === "climbers"));
    assert.deepEqual(problems, [], "no script errors or CSP violations");
  } finally {
    await browser?.close();
    await ctlB.close();
    await admin.close();
  }
});

Deno.test("roj group forget: after leaving, with the CLI; refused while a member", async () => {
  await using a = await startTestNode("alice", { host: "127.0.0.4" });
  const ctl = await serveControl(controlSocketPath(a.dir), a.node);
  try {
    await a.node.call("group.create", { name: "solo" });
    const refused = await cliRun(["group", "forget", "solo", "--data", a.dir]);
    assert.equal(refused.code, 5);
    assert.match(refused.stderr, /^roj: refused: you are a member of solo: leave it first\n$/);
    await a.node.call("group.leave", { group: "solo" });
    const before = await cliRun(["group", "members", "solo", "--data", a.dir]);
    assert.match(before.stderr, /^you left solo; `roj group forget solo` deletes it/);
    const done = await cliRun(["group", "forget", "solo", "--data", a.dir]);
    assert.equal(done.code, 0, done.stderr);
    assert.equal(done.stdout, "deleted solo from your list\n");
    assert.ok(!(await a.node.call("chats", {})).some((c) => c.name === "solo"));
    // Its history stays readable by name.
    assert.ok((await a.node.call("read", { chat: "solo" })).length > 0);
  } finally {
    await ctl.close();
  }
});
