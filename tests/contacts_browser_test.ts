/**
 * The Contacts page in a real browser (Debian's chromium via playwright-core)
 * against real nodes, at 1280×800 and 390×844: each card puts the name first
 * and the fingerprint second (smaller, monospace), says whether the safety
 * number was compared, and keeps rename, remove and block in a menu (a
 * details element); remove and block each ask on a page of their own, which
 * works without JavaScript. Nothing overflows sideways. Screenshots go to
 * test-artifacts/admin/contacts-*.png.
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { befriend, startTestNode } from "../testing/nodes.ts";
import { adminPage, HAVE_CHROMIUM, launchChromium, screenshot } from "../testing/browser.ts";
import { startAdmin } from "../routes/mod.ts";

/** Whether the page is wider than its window (something overflows sideways). */
const overflows = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);

Deno.test({
  name:
    "admin in a browser: contacts by name, fingerprint second, actions in a menu with a confirm",
  ignore: !HAVE_CHROMIUM,
}, async () => {
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  await using b = await startTestNode("bob", { host: "127.0.0.3" });
  await using c = await startTestNode("carol", { host: "127.0.0.4" });
  await befriend(a, b);
  await befriend(a, c);
  await a.node.call("verify.mark", { name: "bob", verified: true });
  const admin = await startAdmin({ api: a.node, host: "127.0.0.2", port: 0 });
  let browser: Browser | undefined;
  const problems: string[] = [];
  try {
    browser = await launchChromium();
    for (
      const [label, viewport] of [
        ["wide", { width: 1280, height: 800 }],
        ["phone", { width: 390, height: 844 }],
      ] as const
    ) {
      const page = await adminPage(browser, problems, viewport);
      await page.goto(admin.url);
      await page.goto(new URL("/contacts", admin.origin).href);
      const card = page.locator('[data-contact="bob"]');
      await card.waitFor();
      // The name is the heading; the fingerprint comes after it, smaller and monospace.
      const order = await card.evaluate((el) => {
        const h = el.querySelector("h3")!;
        const fp = el.querySelector("[data-fingerprint]")!;
        const style = (e: Element) => getComputedStyle(e);
        return {
          headingFirst: (h.compareDocumentPosition(fp) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0,
          headingText: h.textContent,
          fp: fp.textContent,
          fpSize: parseFloat(style(fp).fontSize),
          nameSize: parseFloat(style(h).fontSize),
          fpFont: style(fp).fontFamily,
        };
      });
      const bob = (await a.node.call("contacts", {})).find((k) => k.name === "bob")!;
      assert.ok(order.headingFirst, "name before fingerprint");
      assert.match(order.headingText ?? "", /^bob\b/);
      assert.equal(order.fp, bob.fingerprint);
      assert.ok(order.fpSize < order.nameSize, `fingerprint smaller (${JSON.stringify(order)})`);
      assert.match(order.fpFont, /mono/i);
      assert.equal(await card.locator("[data-verified]").getAttribute("data-verified"), "true");
      assert.equal(
        await page.locator('[data-contact="carol"] [data-verified]').getAttribute("data-verified"),
        "false",
      );
      // The actions hide in the menu until it is opened.
      const remove = card.getByRole("link", { name: "Remove bob…" });
      assert.equal(await remove.isVisible(), false, "remove is in the closed menu");
      assert.equal(await overflows(page), false, `${label}: nothing overflows sideways`);
      await screenshot(page, `contacts-${label}`);
      await page.getByLabel("Actions for bob", { exact: true }).click();
      await remove.waitFor();
      assert.ok(await card.getByRole("link", { name: "Block bob…" }).isVisible());
      assert.ok(await card.getByLabel("New name for bob").isVisible());
      assert.equal(await overflows(page), false, `${label}: the open menu fits`);
      await screenshot(page, `contacts-${label}-menu`);
      // Removing asks first; cancelling keeps bob.
      await remove.click();
      await page.getByRole("heading", { name: "Remove bob?" }).waitFor();
      assert.match(await page.locator("[data-consequence]").textContent() ?? "", /history/);
      await screenshot(page, `contacts-${label}-confirm`);
      await page.getByRole("link", { name: "Cancel" }).click();
      await page.getByRole("heading", { name: "Contacts" }).waitFor();
      assert.ok((await a.node.call("contacts", {})).some((k) => k.name === "bob"));
      await page.context().close();
    }

    // Without JavaScript: the menu opens, the confirm page blocks carol.
    const context = await browser.newContext({
      javaScriptEnabled: false,
      viewport: { width: 390, height: 844 },
    });
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    await page.goto(admin.url);
    await page.goto(new URL("/contacts", admin.origin).href);
    await page.getByLabel("Actions for carol", { exact: true }).click();
    await page.getByRole("link", { name: "Block carol…" }).click();
    await page.getByRole("heading", { name: "Block carol?" }).waitFor();
    assert.deepEqual(
      (await a.node.call("contacts", {})).map((k) => k.name).sort(),
      ["bob", "carol"],
      "nothing happens before the confirmation",
    );
    await page.getByRole("button", { name: "Yes, block carol" }).click();
    await page.getByText("Blocked carol").waitFor();
    assert.deepEqual((await a.node.call("contacts", {})).map((k) => k.name), ["bob"]);
    // Renaming from the menu, still without JavaScript.
    await page.getByLabel("Actions for bob", { exact: true }).click();
    await page.getByLabel("New name for bob").fill("Bobby");
    await page.getByRole("button", { name: "Rename" }).click();
    await page.getByText("Renamed to Bobby.").waitFor();
    await page.getByRole("heading", { name: /^Bobby/ }).waitFor();
    await screenshot(page, "contacts-phone-nojs");
    await context.close();
    assert.deepEqual(problems, [], "no script errors or CSP violations");
  } finally {
    await browser?.close();
    await admin.close();
  }
});
