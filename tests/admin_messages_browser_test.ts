/**
 * Reply, edit, delete for everyone and react from the admin's conversation
 * page (issue 18, item 2), in real Chromium against two real nodes: each is
 * done on alice's page and bob's page shows it live, without a reload; the
 * edit's history is one click away; the same forms work with JavaScript off;
 * the strict CSP holds (a violation is a console error, which fails the
 * test); read receipts turned off and on again from the receipts page.
 * Screenshots go to test-artifacts/admin/messages-*.png and receipts-*.png.
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { befriend, startTestNode } from "../testing/nodes.ts";
import {
  adminPage,
  HAVE_CHROMIUM,
  launchChromium,
  screenshot,
  watchedPage,
} from "../testing/browser.ts";
import { type AdminServer, startAdmin } from "../routes/mod.ts";

async function live(page: Page): Promise<void> {
  await page.getByText("live", { exact: true }).waitFor({ timeout: 10_000 });
}

/** Opens the actions of the message on `page` whose text is `text`. */
async function actionsOf(page: Page, text: string) {
  const msg = page.locator(".msg", { has: page.locator(".body", { hasText: text }) }).first();
  await msg.locator(".actions > summary").click();
  return msg.locator(".actions");
}

Deno.test({
  name: "admin: reply, edit, delete and react from the page; the other node sees each live",
  ignore: !HAVE_CHROMIUM,
}, async () => {
  await using alice = await startTestNode("alice", { host: "127.0.0.2" });
  await using bob = await startTestNode("bob", { host: "127.0.0.3" });
  await befriend(alice, bob);
  const admins: AdminServer[] = [
    await startAdmin({ api: alice.node, host: "127.0.0.2", port: 0 }),
    await startAdmin({ api: bob.node, host: "127.0.0.3", port: 0 }),
  ];
  const [adminA, adminB] = admins as [AdminServer, AdminServer];
  let browser: Browser | undefined;
  const problems: string[] = [];
  try {
    browser = await launchChromium();
    const ctxA = await browser.newContext({ viewport: { width: 1000, height: 800 } });
    const ctxB = await browser.newContext({ viewport: { width: 390, height: 844 } });
    for (const ctx of [ctxA, ctxB]) ctx.setDefaultTimeout(10_000);
    const pageA = await watchedPage(ctxA, problems);
    const pageB = await watchedPage(ctxB, problems);
    await bob.node.call("send", { chat: "alice", text: "rope at 9?" });
    await pageA.goto(adminA.url);
    await pageA.goto(new URL("/chats/bob", adminA.origin).href);
    await live(pageA);
    await pageB.goto(adminB.url);
    await pageB.goto(new URL("/chats/alice", adminB.origin).href);
    await live(pageB);
    await pageA.evaluate(() => ((globalThis as unknown as { same: number }).same = 42));
    await pageB.evaluate(() => ((globalThis as unknown as { same: number }).same = 42));
    const bobsMsg = (text: string) =>
      pageB.locator(".msg", { has: pageB.locator(".body", { hasText: text }) }).first();

    // React to bob's message: bob sees 👍 1 appear.
    let actions = await actionsOf(pageA, "rope at 9?");
    await actions.getByRole("button", { name: "React 👍" }).click();
    await bobsMsg("rope at 9?").locator(".reactions li", { hasText: "👍 1" }).waitFor();
    await pageA.locator(".msg .reactions li.mine", { hasText: "👍" }).waitFor();

    // Reply to it: bob sees the reply, quoting his message.
    actions = await actionsOf(pageA, "rope at 9?");
    await actions.getByRole("textbox", { name: "Reply" }).fill("yes, at the crag");
    await actions.getByRole("button", { name: "Send reply" }).click();
    const reply = bobsMsg("yes, at the crag");
    await reply.locator(".quote", { hasText: "rope at 9?" }).waitFor();

    // Edit alice's own message: bob sees the new text, marked edited, history one click away.
    await pageA.getByRole("textbox", { name: "Message" }).fill("bring the red rope");
    await pageA.getByRole("textbox", { name: "Message" }).press("Enter");
    await bobsMsg("bring the red rope").waitFor();
    actions = await actionsOf(pageA, "bring the red rope");
    await actions.getByRole("textbox", { name: "New text" }).fill("bring the blue rope");
    await actions.getByRole("button", { name: "Save edit" }).click();
    const edited = bobsMsg("bring the blue rope");
    await edited.locator(".edited summary", { hasText: "edited" }).waitFor();
    await edited.locator(".edited summary").click();
    await edited.locator(".edited li", { hasText: "bring the red rope" }).waitFor();
    await screenshot(pageB, "messages-edited-reacted-bob");
    await screenshot(pageA, "messages-actions-alice");

    // Bob may not edit or delete alice's message: his page offers neither.
    await bobsMsg("bring the blue rope").locator(".actions > summary").click();
    assert.equal(
      await bobsMsg("bring the blue rope").getByRole("button", { name: "Save edit" }).count(),
      0,
    );

    // Delete for everyone: bob's page hides the text and says copies may remain.
    actions = await actionsOf(pageA, "bring the blue rope");
    await actions.getByRole("button", { name: "Delete for everyone" }).click();
    await pageB.locator(".msg [data-deleted]", { hasText: "Deleted for everyone" }).waitFor();
    await pageB.getByText("Copies made before it (an export, a backup) may remain.").first()
      .waitFor();
    assert.equal(await pageB.locator(".body", { hasText: "bring the blue rope" }).count(), 0);
    await screenshot(pageB, "messages-deleted-bob");
    for (const p of [pageA, pageB]) {
      assert.equal(await p.evaluate(() => (globalThis as unknown as { same?: number }).same), 42);
    }

    // Without JavaScript the same forms post to the page and come back to the conversation.
    const noJs = await browser.newContext({ javaScriptEnabled: false });
    const plain = await watchedPage(noJs, problems);
    await plain.goto(adminA.url);
    await plain.goto(new URL("/chats/bob", adminA.origin).href);
    const msg = plain.locator(".msg", { has: plain.locator(".body", { hasText: "rope at 9?" }) })
      .first();
    await msg.locator(".actions > summary").click();
    await msg.getByRole("button", { name: "React 🎉" }).click();
    await plain.waitForURL(/\/chats\/bob$/);
    await bobsMsg("rope at 9?").locator(".reactions li", { hasText: "🎉 1" }).waitFor();
    await plain.locator(".msg .reactions li.mine", { hasText: "🎉" }).waitFor();
    // The chat list says the last message was deleted, rather than an empty "You:".
    assert.equal(
      (await plain.locator('[data-chat="bob"] .last').textContent())?.trim(),
      "You: message deleted",
    );
    await screenshot(plain, "messages-no-js-alice");
    await noJs.close();
    assert.deepEqual(problems, []);
  } finally {
    await browser?.close();
    for (const a of admins) await a.close();
  }
});

Deno.test({
  name: "admin: read receipts off from the page stops them both ways; on again shows them",
  ignore: !HAVE_CHROMIUM,
}, async () => {
  await using alice = await startTestNode("alice", { host: "127.0.0.2" });
  await using bob = await startTestNode("bob", { host: "127.0.0.3" });
  await befriend(alice, bob);
  const admin = await startAdmin({ api: bob.node, host: "127.0.0.3", port: 0 });
  let browser: Browser | undefined;
  const problems: string[] = [];
  try {
    browser = await launchChromium();
    const page = await adminPage(browser, problems);
    await page.goto(admin.url);
    await page.goto(new URL("/identity", admin.origin).href);
    await page.getByRole("link", { name: "Read receipts" }).click();
    await page.locator('[data-receipts="on"]').waitFor();
    await page.locator('[data-receipts-for="alice"][data-on="true"]').waitFor();
    await page.getByRole("button", { name: "Turn off for everyone" }).click();
    await page.locator('[data-receipts="off"]').waitFor();
    await screenshot(page, "receipts-off");

    // Bob opens the chat (which reads it): alice gets no receipt ...
    const m = await alice.node.call("send", { chat: "bob", text: "did you read this?" });
    await bob.waitFor((e) => e.type === "message" && e.message.hash === m.hash);
    await page.goto(new URL("/chats/alice", admin.origin).href);
    await live(page);
    let at = alice.events.length;
    const ping = await bob.node.call("send", { chat: "alice", text: "ping" });
    await alice.waitFor((e) => e.type === "message" && e.message.body === "ping", 10_000, at);
    const stateAtAlice = async () =>
      (await alice.node.call("read", { chat: "bob" })).find((x) => x.hash === m.hash)!.state;
    assert.equal(await stateAtAlice(), "delivered");
    assert.ok(!alice.events.slice(at).some((e) => e.type === "read"));
    // ... and alice's receipt for ping (she read it just now) is not shown on bob's page.
    await alice.node.call("send", { chat: "bob", text: "pong" });
    await page.locator(".msg", { hasText: "pong" }).waitFor();
    assert.equal(
      await page.locator(`.msg[data-id="${ping.id}"]`).getAttribute("data-state"),
      "delivered",
    );

    // On again from the page: alice sees hers read, and bob's page shows ping read.
    at = alice.events.length;
    await page.goto(new URL("/receipts", admin.origin).href);
    await page.getByRole("button", { name: "Turn on" }).click();
    await page.locator('[data-receipts="on"]').waitFor();
    await alice.waitFor((e) => e.type === "read" && e.seq >= m.seq, 10_000, at);
    assert.equal(await stateAtAlice(), "read");
    await page.goto(new URL("/chats/alice", admin.origin).href);
    await page.locator(`.msg[data-id="${ping.id}"][data-state="read"]`).waitFor();
    await screenshot(page, "receipts-on-read");
    assert.deepEqual(problems, []);
  } finally {
    await browser?.close();
    await admin.close();
  }
});
