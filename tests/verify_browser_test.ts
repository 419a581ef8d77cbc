/**
 * Verifying a contact in the admin, in a real browser (Debian's chromium via
 * playwright-core) against two real nodes: the contact card says "not
 * verified", the verify page shows bob's safety number (the digits alice's
 * node computes too, and bob's) and a QR code; the button marks him verified
 * and the card says so; the mark can be taken back. Screenshots go to
 * test-artifacts/admin/verify*.png.
 */
import assert from "node:assert/strict";
import type { Browser } from "playwright-core";
import { befriend, startTestNode } from "../testing/nodes.ts";
import { adminPage, HAVE_CHROMIUM, launchChromium, screenshot } from "../testing/browser.ts";
import { startAdmin } from "../routes/mod.ts";

Deno.test({
  name: "admin in a browser: a contact's safety number with its QR code, marked verified",
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
    await page.getByRole("link", { name: "Contacts" }).click();
    const card = page.locator('[data-contact="bob"]');
    assert.equal(await card.locator("[data-verified]").getAttribute("data-verified"), "false");
    await card.getByRole("link", { name: "Verify bob's safety number" }).click();
    await page.getByRole("heading", { name: "Verify bob" }).waitFor();

    const shown = await page.locator("[data-safety-number]").getAttribute("data-safety-number");
    const bobSees = await b.node.call("verify", { name: "alice" });
    assert.equal(shown, bobSees.number, "alice's page shows the digits bob's node computes");
    const groups = await page.locator("[data-safety-number] span").allTextContents();
    assert.deepEqual(groups, bobSees.groups);
    assert.ok(await page.getByRole("img", { name: "The safety number as a QR code" }).isVisible());
    assert.equal(await page.locator("dd[data-verified]").getAttribute("data-verified"), "false");
    await shot("verify");

    await page.getByRole("button", { name: "The numbers match: mark bob verified" }).click();
    await page.getByText("Marked verified.").waitFor();
    assert.equal(await page.locator("dd[data-verified]").getAttribute("data-verified"), "true");
    assert.equal((await a.node.call("verify", { name: "bob" })).verified, true);
    await shot("verify-marked");

    await page.getByRole("link", { name: "Back to contacts" }).click();
    await page.getByRole("heading", { name: "Contacts" }).waitFor();
    const badge = page.locator('[data-contact="bob"] [data-verified]');
    assert.equal(await badge.getAttribute("data-verified"), "true");
    assert.equal((await badge.textContent())?.trim(), "verified");
    await shot("contacts-verified");

    await page.goto(new URL("/contacts/bob/verify", admin.url).href);
    await page.getByRole("button", { name: "Take the verified mark back" }).click();
    await page.getByText("No longer marked verified.").waitFor();
    assert.equal((await a.node.call("contacts", {}))[0]!.verified, false);
    assert.deepEqual(problems, []);
  } finally {
    await browser?.close();
    await admin.close();
  }
});
