/**
 * Group membership in the web admin, in a real browser (Debian's chromium via
 * playwright-core): found a group from the chat list, add a contact, make
 * them an admin, remove them; the other node follows. Screenshots go to
 * test-artifacts/admin/.
 */
import assert from "node:assert/strict";
import type { Browser } from "playwright-core";
import { befriend, startTestNode, until } from "../testing/nodes.ts";
import { startAdmin } from "../routes/mod.ts";
import { adminPage, HAVE_CHROMIUM, launchChromium, screenshot } from "../testing/browser.ts";

Deno.test({
  name: "admin in a browser: create a group, add, promote and remove a member",
  ignore: !HAVE_CHROMIUM,
}, async () => {
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  await using b = await startTestNode("bob", { host: "127.0.0.3" });
  await befriend(a, b);
  const admin = await startAdmin({ api: a.node, host: "127.0.0.2", port: 0 });
  let browser: Browser | undefined;
  const problems: string[] = [];
  try {
    browser = await launchChromium();
    const page = await adminPage(browser, problems);
    const shot = (name: string) => screenshot(page, name);

    await page.goto(admin.url);
    await page.getByRole("heading", { name: "Chats" }).waitFor();
    // Founding a group is folded under the chat list; a name too long is refused with the
    // reason, and nothing is created.
    assert.equal(await page.getByLabel("New group").isVisible(), false);
    await page.locator("details.new-group > summary").click();
    await page.getByLabel("New group").evaluate((el) => el.removeAttribute("maxlength"));
    await page.getByLabel("New group").fill("y".repeat(65));
    await page.getByRole("button", { name: "Create the group" }).click();
    await page.getByText("A group's name has at most 64 characters.").waitFor();
    assert.equal(a.node.groups.size, 0);

    await page.getByLabel("New group").fill("climbers");
    await page.getByRole("button", { name: "Create the group" }).click();
    await page.getByRole("heading", { name: "climbers: members" }).waitFor();
    await page.getByText("Group created. Add members below.").waitFor();
    await page.getByLabel("Add a contact").selectOption("bob");
    await page.getByRole("button", { name: "Add to climbers" }).click();
    await page.getByText(/^Added bob\./).waitFor();
    await page.locator('[data-member="bob"]').waitFor();
    await until(
      async () => (await b.node.call("chats", {})).some((c) => c.name === "climbers"),
      10_000,
      "bob's node has the group",
    );
    await shot("group-members");

    await page.getByRole("button", { name: "Make bob an admin" }).click();
    await page.locator('[data-member="bob"] [data-admin="true"]').waitFor();
    await until(
      async () =>
        (await b.node.call("group.members", { group: "climbers" })).find((m) => m.me)?.admin ===
          true,
      10_000,
      "bob is an admin on his node too",
    );

    // Removing asks first: cancelling keeps bob, confirming removes him.
    await page.getByRole("link", { name: "Remove bob…" }).click();
    await page.getByRole("heading", { name: "Remove bob from climbers?" }).waitFor();
    await shot("group-remove-confirm");
    await page.getByRole("link", { name: "Cancel" }).click();
    await page.locator('[data-member="bob"]').waitFor();
    assert.ok(
      (await a.node.call("group.members", { group: "climbers" })).some((m) => m.name === "bob"),
    );
    await page.getByRole("link", { name: "Remove bob…" }).click();
    await page.getByRole("button", { name: "Yes, remove bob" }).click();
    await page.getByText(/^Removed bob\./).waitFor();
    assert.equal(await page.locator('[data-member="bob"]').count(), 0);
    await until(
      async () => !(await b.node.call("group.members", { group: "climbers" })).some((m) => m.me),
      10_000,
      "bob's node sees him removed",
    );

    // The chat links to its members page.
    await page.goto(new URL("/chats/climbers", admin.origin).href);
    await page.getByRole("link", { name: "Members" }).click();
    await page.getByRole("heading", { name: "climbers: members" }).waitFor();
    assert.deepEqual(problems, []);
  } finally {
    await browser?.close();
    await admin.close();
  }
});
