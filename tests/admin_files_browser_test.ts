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
