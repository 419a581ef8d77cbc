/**
 * Attaching a file in the web admin, in a real browser (Debian's chromium via
 * playwright-core): picked in the file input, sent in parts, fetched by the
 * contact's node and listed on both sides; downloaded back from the list.
 */
import assert from "node:assert/strict";
import type { Browser } from "playwright-core";
import { befriend, startTestNode } from "../testing/nodes.ts";
import { tempDir } from "../testing/temp.ts";
import { HAVE_CHROMIUM, launchChromium, screenshot, watchedPage } from "../testing/browser.ts";
import { startAdmin } from "../routes/mod.ts";

Deno.test({
  name: "admin in a browser: attach a file, it reaches the contact, and downloads back",
  ignore: !HAVE_CHROMIUM,
}, async () => {
  await using dir = await tempDir();
  await using a = await startTestNode("alice", { host: "127.0.0.2", quic: false });
  await using b = await startTestNode("bob", { host: "127.0.0.3", quic: false });
  await befriend(a, b);
  const bytes = new Uint8Array(500_000);
  for (let i = 0; i < bytes.length; i += 65536) {
    crypto.getRandomValues(bytes.subarray(i, i + 65536));
  }
  await Deno.writeFile(`${dir.path}/sunset.jpg`, bytes);
  const admin = await startAdmin({ api: a.node, host: "127.0.0.2", port: 0 });
  let browser: Browser | undefined;
  const problems: string[] = [];
  try {
    browser = await launchChromium();
    const context = await browser.newContext({ acceptDownloads: true });
    context.setDefaultTimeout(15_000);
    const page = await watchedPage(context, problems);
    await page.goto(admin.url);
    await page.goto(`${admin.origin}/chats/bob`);
    await page.getByRole("link", { name: "Files" }).click();
    await page.getByRole("heading", { name: "Files with bob" }).waitFor();
    // The empty list points at the form right below it, not only at the CLI.
    await page.getByText("the form below").waitFor();
    await page.getByLabel("Attach a file").setInputFiles(`${dir.path}/sunset.jpg`);
    await page.getByRole("button", { name: "Send the file" }).click();
    await b.waitFor((e) => e.type === "file" && e.op === "complete" && e.side === "receive");
    const [got] = await b.node.call("files", { chat: "alice" });
    assert.equal(got!.name, "sunset.jpg");
    assert.equal(got!.size, bytes.length);
    const saved = await b.node.call("file.save", { chat: "alice", id: got!.id, out: dir.path });
    assert.deepEqual(await Deno.readFile(saved.path), bytes);

    // The page reloads with the file listed; its link downloads it.
    const link = page.getByRole("link", { name: "sunset.jpg" });
    await link.waitFor();
    await screenshot(page, "files");
    // On a phone the table still fits the window.
    const viewport = page.viewportSize()!;
    await page.setViewportSize({ width: 390, height: 844 });
    const [scroll, inner] = await page.evaluate(() => [
      document.scrollingElement!.scrollWidth,
      globalThis.innerWidth,
    ]);
    assert.ok(scroll <= inner, `the files page is ${scroll}px wide in a ${inner}px window`);
    await screenshot(page, "files-390");
    await page.setViewportSize(viewport);
    const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
    const path = `${dir.path}/downloaded.jpg`;
    await download.saveAs(path);
    assert.deepEqual(await Deno.readFile(path), bytes);

    // Bob's Files page, open while a file comes: it appears and completes without a reload.
    const bobAdmin = await startAdmin({ api: b.node, host: "127.0.0.3", port: 0 });
    try {
      const bobPage = await watchedPage(await browser.newContext(), problems);
      await bobPage.goto(bobAdmin.url);
      await bobPage.goto(`${bobAdmin.origin}/chats/alice/files`);
      await bobPage.getByRole("heading", { name: "Files with alice" }).waitFor();
      await bobPage.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 1));
      await Deno.writeFile(`${dir.path}/later.bin`, bytes.subarray(0, 300_000));
      await a.node.call("file.send", { chat: "bob", path: `${dir.path}/later.bin` });
      await bobPage.getByRole("link", { name: "later.bin" }).waitFor();
      assert.equal(
        await bobPage.evaluate(() => (globalThis as unknown as { marker?: number }).marker),
        1,
        "the same page, not a reload",
      );
    } finally {
      await bobAdmin.close();
    }
    assert.deepEqual(problems, []);
  } finally {
    await browser?.close();
    await admin.close();
  }
});

Deno.test({
  name: "admin in a browser: an image's thumbnail and full size come from blob: URLs under the CSP",
  ignore: !HAVE_CHROMIUM,
}, async () => {
  await using dir = await tempDir();
  await using a = await startTestNode("alice", { host: "127.0.0.2", quic: false });
  await using b = await startTestNode("bob", { host: "127.0.0.3", quic: false });
  await befriend(a, b);
  const specifier = "jimp";
  // deno-lint-ignore no-explicit-any
  const { Jimp } = await import(specifier) as any;
  const png = new Uint8Array(
    await new Jimp({ width: 640, height: 480, color: 0x3366ccff }).getBuffer("image/png"),
  );
  await Deno.writeFile(`${dir.path}/blue.png`, png);
  const image = await a.node.call("file.send", { chat: "bob", path: `${dir.path}/blue.png` });
  assert.equal(image.thumb, true);
  await b.waitFor((e) => e.type === "file" && e.op === "complete" && e.id === image.id);
  const admin = await startAdmin({ api: b.node, host: "127.0.0.3", port: 0 });
  let browser: Browser | undefined;
  const problems: string[] = [];
  try {
    browser = await launchChromium();
    const context = await browser.newContext({ acceptDownloads: true });
    context.setDefaultTimeout(15_000);
    const page = await watchedPage(context, problems);
    // Records the object URLs the page revokes (an init script, not the page's own code).
    await page.addInitScript(() => {
      const g = globalThis as unknown as { revoked: string[] };
      g.revoked = [];
      const revoke = URL.revokeObjectURL.bind(URL);
      URL.revokeObjectURL = (u: string) => (g.revoked.push(u), revoke(u));
    });
    await page.goto(admin.url);
    const res = await page.goto(`${admin.origin}/chats/alice/files`);
    assert.equal(
      res!.headers()["content-security-policy"],
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; " +
        "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; " +
        "base-uri 'none'",
    );
    const thumb = page.getByAltText("thumbnail of blue.png");
    await thumb.waitFor();
    await page.waitForFunction(() =>
      (document.querySelector("img.thumb") as HTMLImageElement | null)?.complete
    );
    const t = await thumb.evaluate((el: HTMLImageElement) => ({
      src: el.src,
      width: el.naturalWidth,
    }));
    assert.match(t.src, /^blob:/);
    assert.ok(t.width > 0, "the thumbnail renders");

    // A click opens the full size in place, from a blob: URL; closing it revokes that URL.
    await thumb.click();
    const full = page.locator(`[data-preview="${image.id}"] img`);
    await full.waitFor();
    await page.waitForFunction(() =>
      (document.querySelector("dialog.lightbox img") as HTMLImageElement | null)?.complete
    );
    const f = await full.evaluate((el: HTMLImageElement) => ({
      src: el.src,
      width: el.naturalWidth,
    }));
    assert.match(f.src, /^blob:/);
    assert.equal(f.width, 640, "the full size renders");
    await screenshot(page, "files-blob-preview");
    await page.getByRole("button", { name: "Close" }).click();
    await full.waitFor({ state: "detached" });
    // (An effect's cleanup runs after the next paint.)
    await page.waitForFunction(
      (u: string) => (globalThis as unknown as { revoked: string[] }).revoked.includes(u),
      f.src,
    );
    assert.deepEqual(problems, [], "no script errors or CSP violations");

    // Without script: no image, but the file still downloads from a plain link.
    const plain = await browser.newContext({ javaScriptEnabled: false, acceptDownloads: true });
    const noJs = await watchedPage(plain, problems);
    await noJs.goto(admin.url);
    await noJs.goto(`${admin.origin}/chats/alice/files`);
    const link = noJs.getByRole("link", { name: "blue.png" });
    await link.waitFor();
    const [download] = await Promise.all([noJs.waitForEvent("download"), link.click()]);
    const path = `${dir.path}/downloaded.png`;
    await download.saveAs(path);
    assert.deepEqual(await Deno.readFile(path), png);
    assert.deepEqual(problems, []);
  } finally {
    await browser?.close();
    await admin.close();
  }
});
