/**
 * The admin's Devices page in a real browser (Debian's chromium via
 * playwright-core), with JavaScript off: link a device from its QR code
 * page (the code the phone joins with), see it listed with the fingerprint
 * the phone printed, and remove it after a confirmation page. The page's
 * CSP is the admin's usual one. Screenshots at 1280×800 and 390×844 in
 * test-artifacts/admin/devices-*.png.
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { startTestNode } from "../testing/nodes.ts";
import { tempDir } from "../testing/temp.ts";
import { cliRun } from "../testing/cli_run.ts";
import { HAVE_CHROMIUM, launchChromium, screenshot, watchedPage } from "../testing/browser.ts";
import { startAdmin } from "../routes/mod.ts";

Deno.test({
  name:
    "admin Devices page without JavaScript: link with a QR code, compare, remove after confirming",
  ignore: !HAVE_CHROMIUM,
}, async () => {
  await using tmp = await tempDir();
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  const admin = await startAdmin({ api: a.node, host: "127.0.0.2", port: 0 });
  let browser: Browser | undefined;
  const problems: string[] = [];
  try {
    browser = await launchChromium();
    const open = async (viewport: { width: number; height: number }, js: boolean) => {
      const context = await browser!.newContext({ viewport, javaScriptEnabled: js });
      context.setDefaultTimeout(10_000);
      const page = await watchedPage(context, problems);
      await page.goto(admin.url);
      return page;
    };
    const page = await open({ width: 1280, height: 800 }, false);
    const res = await page.goto(`${admin.origin}/devices`);
    const chats = await page.request.get(`${admin.origin}/chats`);
    assert.equal(
      res!.headers()["content-security-policy"],
      chats.headers()["content-security-policy"],
      "the Devices page has the admin's CSP",
    );
    await page.getByRole("link", { name: "Devices" }).waitFor();
    assert.equal(
      await page.getByRole("link", { name: "Devices" }).getAttribute("aria-current"),
      "page",
    );
    await page.getByText("No devices linked yet.").waitFor();

    // Link: the code as text and as a QR code.
    await page.getByRole("button", { name: "Link a new device" }).click();
    await page.getByRole("heading", { name: "Link a new device" }).waitFor();
    await page.getByRole("img", { name: "The link code as a QR code" }).waitFor();
    const code = await page.locator("[data-link-code]").inputValue();
    assert.match(code, /^rojdev1:/);
    await screenshot(page, "devices-link-1280");

    // The phone joins with it, and prints its fingerprint.
    const r = await cliRun([
      "init",
      "--data",
      `${tmp.path}/phone`,
      "--join",
      code,
      "--name",
      "phone",
      "--json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const fp = JSON.parse(r.stdout).fingerprint as string;

    // Listed with that fingerprint, marked new.
    await page.getByRole("link", { name: "It joined: show my devices" }).click();
    const card = page.locator('[data-device="phone"]');
    await card.waitFor();
    assert.equal(await card.locator("[data-fingerprint]").textContent(), fp);
    assert.equal(await card.locator('[data-new="true"]').count(), 1);
    assert.match(
      await card.textContent() ?? "",
      /Certified since.*Valid\s*until.*Last seen.*offline/s,
    );
    // The link button stands apart from the list above it.
    const cardBox = (await card.boundingBox())!;
    const linkBox = (await page.getByRole("button", { name: "Link a new device" }).boundingBox())!;
    assert.ok(linkBox.y >= cardBox.y + cardBox.height + 8, "space between the list and the button");
    await screenshot(page, "devices-1280");

    const phone = await open({ width: 390, height: 844 }, true);
    await phone.goto(`${admin.origin}/devices`);
    await phone.locator('[data-device="phone"]').waitFor();
    await screenshot(phone, "devices-390");

    // Remove: a confirmation page first; keeping it changes nothing.
    await card.getByRole("button", { name: "Remove phone…" }).click();
    await page.getByRole("heading", { name: "Remove phone?" }).waitFor();
    await screenshot(page, "devices-remove-1280");
    await page.getByRole("link", { name: "No, keep it" }).click();
    await page.locator('[data-device="phone"]').waitFor();
    assert.equal((await a.node.call("devices", {}))[0]!.standing, "valid");
    await page.locator('[data-device="phone"]').getByRole("button", { name: "Remove phone…" })
      .click();
    await page.getByRole("button", { name: "Yes, remove phone" }).click();
    await page.getByText("Removed phone: your contacts refuse it from now on.").waitFor();
    assert.equal((await a.node.call("devices", {}))[0]!.standing, "revoked");
    assert.match(await page.locator('[data-device="phone"]').textContent() ?? "", /removed/);
    assert.equal(
      await page.locator('[data-device="phone"]').getByRole("button").count(),
      0,
      "a removed device offers no removal",
    );

    // The link page on a phone-sized screen.
    await phone.goto(`${admin.origin}/devices`);
    await phone.getByRole("button", { name: "Link a new device" }).click();
    await phone.getByRole("img", { name: "The link code as a QR code" }).waitFor();
    await screenshot(phone, "devices-link-390");
    await noOverflow(phone);
    assert.deepEqual(problems, []);
  } finally {
    await browser?.close();
    await admin.close();
  }
});

Deno.test({
  name: "admin Devices: a removal without the confirmation step is refused",
  ignore: !HAVE_CHROMIUM,
}, async () => {
  await using a = await startTestNode("alice", { host: "127.0.0.2" });
  const admin = await startAdmin({ api: a.node, host: "127.0.0.2", port: 0 });
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const page = await (await browser.newContext()).newPage();
    await page.goto(admin.url);
    const res = await page.request.post(`${admin.origin}/devices/remove`, {
      form: { name: "phone" },
      headers: { origin: admin.origin },
    });
    assert.equal(res.status(), 400);
    assert.match(await res.text(), /Confirm the removal on the page that asks/);
  } finally {
    await browser?.close();
    await admin.close();
  }
});

/** Nothing wider than the screen (a phone would scroll sideways). */
async function noOverflow(page: Page): Promise<void> {
  const [scroll, client] = await page.evaluate(() => [
    document.documentElement.scrollWidth,
    document.documentElement.clientWidth,
  ]);
  assert.ok(scroll <= client, `the page is ${scroll}px wide on a ${client}px screen`);
}
