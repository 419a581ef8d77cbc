/**
 * Search and notifications in a real browser (Debian's chromium via
 * playwright-core), three real nodes: the header's search box finds a message
 * from another chat and jumps to it; with the Notification permission granted
 * to the admin's origin, a message from bob raises a notification with sender
 * and text, the tab title counts it; muting bob suppresses his; the privacy
 * setting hides the text. Screenshots go to test-artifacts/admin/.
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { befriend, startTestNode } from "../testing/nodes.ts";
import { HAVE_CHROMIUM, launchChromium, screenshot, watchedPage } from "../testing/browser.ts";
import { type AdminServer, startAdmin } from "../routes/mod.ts";

/** Records every notification the page makes, and every permission request. */
const WRAP_NOTIFICATION = `(() => {
  const Real = window.Notification;
  window.__notes = [];
  window.__asked = 0;
  class Recorded {
    constructor(title, options) { window.__notes.push({ title, body: options?.body ?? "" }); }
    static get permission() { return Real ? Real.permission : "granted"; }
    static requestPermission() { window.__asked++; return Real.requestPermission(); }
  }
  window.Notification = Recorded;
})()`;

type Note = { title: string; body: string };
const notes = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { __notes: Note[] }).__notes);

async function noteWith(page: Page, body: string): Promise<Note> {
  const handle = await page.waitForFunction(
    (b) => (globalThis as unknown as { __notes: Note[] }).__notes.find((n) => n.body === b),
    body,
    { timeout: 10_000 },
  );
  return await handle.jsonValue() as Note;
}

Deno.test({
  name: "admin in a browser: search across chats, notifications, mute, unread count in the title",
  ignore: !HAVE_CHROMIUM,
}, async (t) => {
  await using a = await startTestNode("alice", { host: "127.0.62.2", quic: false });
  await using b = await startTestNode("bob", { host: "127.0.62.3", quic: false });
  await using c = await startTestNode("carol", { host: "127.0.62.4", quic: false });
  await befriend(a, b);
  await befriend(a, c);
  let admin: AdminServer | undefined;
  let browser: Browser | undefined;
  const problems: string[] = [];
  try {
    admin = await startAdmin({ api: a.node, host: "127.0.62.2", port: 0 });
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
    context.setDefaultTimeout(10_000);
    await context.grantPermissions(["notifications"], { origin: new URL(admin.url).origin });
    await context.addInitScript(WRAP_NOTIFICATION);
    const page = await watchedPage(context, problems);

    await c.node.call("send", { chat: "alice", text: "the kayak is at the lake house" });
    await a.waitFor((e) => e.type === "message" && e.message.body.includes("kayak"));
    await a.node.call("send", { chat: "bob", text: "see you on Sunday" });

    await t.step("search from bob's chat finds carol's message and jumps to it", async () => {
      await page.goto(admin!.url);
      await page.goto(new URL("/chats/bob", admin!.url).href);
      await page.locator("textarea#text").focus();
      await page.keyboard.press("Control+k"); // Ctrl+K: to the search box
      assert.equal(await page.evaluate(() => document.activeElement?.id), "search-q");
      await page.keyboard.type("kayak");
      await page.getByLabel("Search messages").press("Enter");
      await page.waitForURL(/\/search\?q=kayak/);
      const hit = page.locator("[data-hit]");
      assert.equal(await hit.count(), 1);
      assert.equal(await hit.getAttribute("data-hit"), "carol");
      assert.equal(await hit.locator("mark").textContent(), "kayak");
      // The page's own box and its button side by side, apart; carol is named once.
      const field = (await page.locator("#search-page-q").boundingBox())!;
      const go = (await page.locator("main form.search button").boundingBox())!;
      assert.ok(go.x >= field.x + field.width + 4, "the button is apart from the box");
      assert.ok(Math.abs(go.y + go.height / 2 - (field.y + field.height / 2)) < 4, "one line");
      assert.doesNotMatch(await hit.textContent() ?? "", /carol\s*carol/);
      await screenshot(page, "search-results");
      await hit.locator("a").click();
      await page.waitForURL(/\/chats\/carol#m-[0-9a-f]{16}$/);
      const target = page.locator(".msg:target");
      assert.match(await target.locator(".body").textContent() ?? "", /kayak/);
      await screenshot(page, "search-jump");
      // Without JavaScript, too: the form is a plain GET.
      const res = await fetch(new URL("/search?q=kayak", admin!.url), {
        headers: {
          cookie: (await context.cookies()).map((k) => `${k.name}=${k.value}`).join("; "),
        },
      });
      assert.equal(res.status, 200);
      assert.match(await res.text(), /<mark>kayak<\/mark>/);
    });

    await t.step("a message from bob raises a notification; the title counts it", async () => {
      await page.goto(new URL("/chats", admin!.url).href);
      await page.getByText("live", { exact: true }).waitFor();
      // carol's chat was read when the search jumped there: nothing unread.
      await page.waitForFunction(() => document.title.startsWith("Chats · Roj"));
      await b.node.call("send", { chat: "alice", text: "rope or no rope?" });
      assert.deepEqual(await noteWith(page, "rope or no rope?"), {
        title: "bob",
        body: "rope or no rope?",
      });
      await page.waitForFunction(() => document.title.startsWith("(1) Chats"));
      // Permission was granted by the test, never asked for on load.
      assert.equal(
        await page.evaluate(() => (globalThis as unknown as { __asked: number }).__asked),
        0,
      );
      await screenshot(page, "notify-unread");
    });

    await t.step("muted: bob's messages raise none and leave the count", async () => {
      await page.locator('[data-chat="bob"] summary[aria-label="Settings for bob"]').click();
      await page.getByRole("button", { name: "Mute bob" }).click();
      await page.waitForURL(/\/chats$/);
      await page.locator('[data-chat="bob"] [data-muted]').waitFor();
      await page.waitForFunction(() => document.title.startsWith("Chats")); // muted: not counted
      await b.node.call("send", { chat: "alice", text: "are you there?" });
      await c.node.call("send", { chat: "alice", text: "carol again" });
      // carol's came after bob's over the same stream: bob's had its chance and made none.
      assert.deepEqual(await noteWith(page, "carol again"), {
        title: "carol",
        body: "carol again",
      });
      assert.ok(!(await notes(page)).some((n) => n.body === "are you there?"));
      await screenshot(page, "notify-muted");
    });

    await t.step("the privacy setting shows only 'New message'", async () => {
      await page.getByRole("link", { name: "Settings" }).click();
      await page.locator("[data-notifications=on]").waitFor();
      await page.getByLabel("only “New message”", { exact: false }).check();
      await page.getByRole("button", { name: "Save" }).click();
      await page.getByText("Saved.").waitFor();
      await screenshot(page, "settings");
      await page.getByRole("link", { name: "Chats" }).click();
      await page.getByText("live", { exact: true }).waitFor();
      await page.waitForFunction(() => document.title.startsWith("("));
      await c.node.call("send", { chat: "alice", text: "secret plans" });
      assert.deepEqual(await noteWith(page, "New message"), { title: "Roj", body: "New message" });
      assert.ok(!(await notes(page)).some((n) => n.body === "secret plans"));
    });
    await t.step(
      "unasked: a link to Settings, whose button asks once; nothing asks on load",
      async () => {
        const fresh = await browser!.newContext();
        fresh.setDefaultTimeout(10_000);
        await fresh.addInitScript(WRAP_NOTIFICATION);
        const p2 = await watchedPage(fresh, problems);
        await p2.goto(admin!.url);
        await p2.getByRole("link", { name: "Turn on notifications" }).click();
        await p2.waitForURL(/\/settings#notifications$/);
        const asked = () =>
          p2.evaluate(() => (globalThis as unknown as { __asked: number }).__asked);
        assert.equal(await asked(), 0);
        await screenshot(p2, "settings-ask");
        await p2.getByRole("button", { name: "Turn on notifications" }).click();
        await p2.waitForFunction(() =>
          (globalThis as unknown as { __asked: number }).__asked === 1
        );
        await fresh.close();
      },
    );
    assert.deepEqual(problems, []);
  } finally {
    await browser?.close();
    await admin?.close();
  }
});
