/**
 * When nobody is reachable, the admin says what to do and lets the person do
 * it (issue 18, item 6): the contacts page shows "Nobody reachable" with a
 * form for a friend's current address, a bad address gets its reason, and a
 * good one reaches the friend. Real nodes, real Chromium; screenshots go to
 * test-artifacts/admin/.
 */
import assert from "node:assert/strict";
import type { Browser } from "playwright-core";
import { befriend, startTestNode, until } from "../testing/nodes.ts";
import { adminPage, HAVE_CHROMIUM, launchChromium, screenshot } from "../testing/browser.ts";
import { startAdmin } from "../routes/mod.ts";

Deno.test({
  name: "admin: nobody reachable, then connect to a friend's address typed by hand",
  ignore: !HAVE_CHROMIUM,
}, async () => {
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  const b = await startTestNode("bob", { host: "127.0.0.3" });
  const bobDir = b.dir;
  await befriend(a, b);
  const admin = await startAdmin({ api: a.node, host: "127.0.0.2", port: 0 });
  let browser: Browser | undefined;
  const problems: string[] = [];
  let bob2: Awaited<ReturnType<typeof startTestNode>> | undefined;
  try {
    browser = await launchChromium();
    const page = await adminPage(browser, problems);
    await page.goto(admin.url);
    await page.goto(new URL("/contacts", admin.origin).href);
    assert.equal(await page.locator("[data-nobody-reachable]").count(), 0, "bob is online");

    await b.stop();
    await until(async () => (await a.node.call("status", {})).online === 0, 5000, "bob gone");
    await page.goto(new URL("/contacts", admin.origin).href);
    await page.locator("[data-nobody-reachable]").waitFor();
    await page.getByText("Nobody reachable.").waitFor();
    await screenshot(page, "contacts-nobody-reachable");

    // An address nobody answers at: the reason, and the hint stays.
    const closed = Deno.listen({ hostname: "127.0.0.3", port: 0 });
    const closedPort = (closed.addr as Deno.NetAddr).port;
    closed.close();
    await page.getByLabel("Their address").fill(`127.0.0.3:${closedPort}`);
    await page.getByRole("button", { name: "Connect" }).click();
    await page.locator(".error[role=alert]").waitFor();
    await page.locator("[data-nobody-reachable]").waitFor();

    // Bob is back on a new port; alice types it, and reaches him.
    bob2 = await startTestNode("bob", { host: "127.0.0.3", dir: bobDir });
    const bobAt = (await bob2.node.call("status", {})).listen[0]!;
    await page.getByLabel("Their address").fill(bobAt);
    await page.getByRole("button", { name: "Connect" }).click();
    await page.getByText("Reached bob; the others follow as they are found.").waitFor();
    await page.locator('[data-contact="bob"] [data-online="true"]').waitFor();
    assert.equal(await page.locator("[data-nobody-reachable]").count(), 0);
    await screenshot(page, "contacts-reconnected");
    assert.deepEqual(problems, [], "no script errors or CSP violations");
  } finally {
    await browser?.close();
    await admin.close();
    await bob2?.stop();
    await b.stop();
    await Deno.remove(bobDir, { recursive: true }).catch(() => {});
  }
});
