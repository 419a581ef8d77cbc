/**
 * An image in a chat, in a real browser (Debian's chromium via
 * playwright-core): its thumbnail shows inline in the message, and opens the
 * full size in a lightbox, by keyboard or by click; Escape, a click on it or
 * its Close button closes it, focus goes back to the thumbnail, and Escape
 * there does not also leave the chat (the conversation's own Escape does).
 */
import assert from "node:assert/strict";
import type { Browser } from "playwright-core";
import { befriend, startTestNode } from "../testing/nodes.ts";
import { tempDir } from "../testing/temp.ts";
import { HAVE_CHROMIUM, launchChromium, screenshot, watchedPage } from "../testing/browser.ts";
import { startAdmin } from "../routes/mod.ts";

/** An 800x500 PNG, a gradient with a bright band: something to see in the screenshot. */
async function picture(): Promise<Uint8Array> {
  const specifier = "jimp";
  // deno-lint-ignore no-explicit-any
  const { Jimp } = await import(specifier) as any;
  const img = new Jimp({ width: 800, height: 500, color: 0x000000ff });
  img.scan(0, 0, 800, 500, (x: number, y: number, i: number) => {
    const d = img.bitmap.data;
    d[i] = Math.round((255 * x) / 800);
    d[i + 1] = Math.abs(y - 250) < 30 ? 230 : Math.round((120 * y) / 500);
    d[i + 2] = 200;
    d[i + 3] = 255;
  });
  return new Uint8Array(await img.getBuffer("image/png"));
}

Deno.test({
  name:
    "admin in a browser: an image in a chat opens full size in a lightbox, Escape and a click close it",
  ignore: !HAVE_CHROMIUM,
}, async () => {
  await using dir = await tempDir();
  await using a = await startTestNode("alice", { host: "127.62.0.2", quic: false });
  await using b = await startTestNode("bob", { host: "127.62.0.3", quic: false });
  await befriend(a, b);
  await Deno.writeFile(`${dir.path}/dunes.png`, await picture());
  const sent = await a.node.call("file.send", {
    chat: "bob",
    path: `${dir.path}/dunes.png`,
    caption: "the dunes at dusk",
  });
  assert.equal(sent.thumb, true);
  await b.waitFor((e) => e.type === "file" && e.op === "complete" && e.id === sent.id);
  const admin = await startAdmin({ api: b.node, host: "127.62.0.3", port: 0 });
  let browser: Browser | undefined;
  const problems: string[] = [];
  try {
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    context.setDefaultTimeout(15_000);
    const page = await watchedPage(context, problems);
    await page.goto(admin.url);
    await page.goto(`${admin.origin}/chats/alice`);
    const message = page.locator("li.msg", { hasText: "the dunes at dusk" });
    const thumb = message.getByAltText("thumbnail of dunes.png");
    await thumb.waitFor();
    await page.waitForFunction(() =>
      (document.querySelector("li.msg img.thumb") as HTMLImageElement | null)?.complete
    );
    assert.match(await thumb.getAttribute("src") ?? "", /^blob:/);
    await screenshot(page, "chat-image-thumb");

    // By keyboard: Enter on the focused thumbnail opens it, full size, as a modal dialog.
    const link = message.locator("a.thumb-link");
    await link.focus();
    await page.keyboard.press("Enter");
    const box = page.getByRole("dialog", { name: "dunes.png" });
    await box.waitFor();
    await page.waitForFunction(() =>
      (document.querySelector("dialog.lightbox img") as HTMLImageElement | null)?.complete
    );
    const full = await box.locator("img").evaluate((el: HTMLImageElement) => ({
      src: el.src,
      width: el.naturalWidth,
      modal: (el.closest("dialog") as HTMLDialogElement).matches(":modal"),
    }));
    assert.match(full.src, /^blob:/);
    assert.equal(full.width, 800, "the full size, not the thumbnail");
    assert.ok(full.modal, "a modal dialog: focus stays in it");
    await screenshot(page, "chat-lightbox");

    // Escape closes it, focus is back on the thumbnail, and the chat stays open.
    await page.keyboard.press("Escape");
    await box.waitFor({ state: "detached" });
    assert.equal(new URL(page.url()).pathname, "/chats/alice");
    assert.ok(
      await link.evaluate((el) => el === document.activeElement),
      await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 200) ?? "none"),
    );

    // By mouse: a click opens it, a click on the image closes it; so does Close.
    await thumb.click();
    await box.locator("img").waitFor();
    await box.locator("img").click();
    await box.waitFor({ state: "detached" });
    await thumb.click();
    await box.getByRole("button", { name: "Close" }).click();
    await box.waitFor({ state: "detached" });
    assert.equal(new URL(page.url()).pathname, "/chats/alice");
    assert.deepEqual(problems, [], "no script errors or CSP violations");
  } finally {
    await browser?.close();
    await admin.close();
  }
});
