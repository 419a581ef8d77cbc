/**
 * The messenger layout (issue 18, item 1) in real Chromium against real
 * nodes: two panes at 1280×800, one pane with back navigation at 390×844,
 * nothing wider than the window; a chat with many messages opens at the
 * newest and stays pinned as messages arrive, above the composer; "Jump to
 * latest" when scrolled up; an anchor is not in the chat list; identicons and
 * online dots; the keyboard (↑ edits, Esc closes, Ctrl+K searches); emoji in
 * the bundled font; dark mode; and without JavaScript the page still opens at
 * the newest message. Screenshots go to test-artifacts/admin/layout-*.png.
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { befriend, joinAnchor, startTestNode, until } from "../testing/nodes.ts";
import {
  adminPage,
  HAVE_CHROMIUM,
  launchChromium,
  screenshot,
  watchedPage,
} from "../testing/browser.ts";
import { type AdminServer, startAdmin } from "../routes/mod.ts";
import { identiconSvg } from "../islands/_avatar.tsx";

/** A screenshot once the page's fonts (the emoji's, fetched as text needs them) are in. */
async function shot(page: Page, name: string, scripts = true): Promise<void> {
  if (scripts) await page.evaluate(() => document.fonts.ready.then(() => undefined));
  await screenshot(page, name);
}

async function live(page: Page): Promise<void> {
  await page.getByText("live", { exact: true }).waitFor({ timeout: 10_000 });
}

/** Nothing on the page is wider than the window. */
async function noSideways(page: Page, what: string): Promise<void> {
  const [scroll, inner] = await page.evaluate(() => [
    document.scrollingElement!.scrollWidth,
    globalThis.innerWidth,
  ]);
  assert.ok(scroll <= inner, `${what}: the page is ${scroll}px wide in a ${inner}px window`);
}

/**
 * The message whose text is `text` is inside the message pane's visible part
 * and ends above the composer.
 */
async function inView(page: Page, text: string, scripts = true): Promise<void> {
  const msg = page.locator(".msg", { has: page.locator(".body", { hasText: text }) }).last();
  await msg.waitFor();
  // Scrolling is done in a frame after the message is added.
  if (scripts) {
    await page.waitForFunction(() => new Promise((r) => requestAnimationFrame(() => r(true))));
  }
  const box = (await msg.boundingBox())!;
  const pane = (await page.locator(".scroller").boundingBox())!;
  const composer = (await page.locator(".composer").boundingBox())!;
  assert.ok(box.y >= pane.y - 1, `"${text}" starts below the pane's top`);
  assert.ok(box.y + box.height <= pane.y + pane.height + 1, `"${text}" ends inside the pane`);
  assert.ok(box.y + box.height <= composer.y + 1, `"${text}" ends above the composer`);
}

Deno.test({
  name: "admin layout: two panes wide, one on a phone, pinned to the newest, keyboard, dark",
  ignore: !HAVE_CHROMIUM,
}, async (t) => {
  await using alice = await startTestNode("alice", { host: "127.0.0.2" });
  await using bob = await startTestNode("bob", { host: "127.0.0.3" });
  await using hive = await startTestNode("hive", { host: "127.0.0.4", passive: true });
  await befriend(alice, bob);
  await joinAnchor(alice, hive);
  const MANY = 60;
  for (let i = 1; i <= MANY; i++) {
    await bob.node.call("send", { chat: "alice", text: `message ${i} of ${MANY}` });
  }
  await until(
    async () =>
      (await alice.node.call("read", { chat: "bob", last: 1 }))[0]?.body === "message 60 of 60",
    15_000,
    "alice has bob's messages",
  );
  await alice.node.call("group.create", { name: "climbers" });
  await alice.node.call("group.add", { group: "climbers", members: ["bob"] });
  const admin: AdminServer = await startAdmin({ api: alice.node, host: "127.0.0.2", port: 0 });
  let browser: Browser | undefined;
  const problems: string[] = [];
  try {
    browser = await launchChromium();
    const wide = await adminPage(browser, problems, { width: 1280, height: 800 });
    await wide.goto(admin.url);

    await t.step("wide: the list and the conversation side by side, at the newest", async () => {
      await wide.goto(new URL("/chats/bob", admin.origin).href);
      await live(wide);
      const list = (await wide.locator(".pane-list").boundingBox())!;
      const conv = (await wide.locator(".pane-conv").boundingBox())!;
      assert.ok(
        list.width > 200 && conv.width > 600,
        `both panes have room: ${list.width}, ${conv.width}`,
      );
      assert.ok(list.x + list.width <= conv.x + 1, "the list is left of the conversation");
      await inView(wide, `message ${MANY} of ${MANY}`);
      assert.equal(await wide.locator('[data-chat="bob"][class="current"]').count(), 1);
      // An anchor is not a chat; the group and notes are.
      const chats = await wide.locator(".chats [data-chat]").evaluateAll((els) =>
        els.map((e) => (e as HTMLElement).dataset.chat)
      );
      assert.ok(!chats.includes("hive"), `no anchor among ${chats.join(", ")}`);
      assert.ok(chats.includes("climbers") && chats.includes("bob"));
      // bob's picture is drawn from his fingerprint; he is online.
      assert.equal(
        (await wide.locator('[data-chat="bob"] .avatar .pic').innerHTML()).replaceAll(
          "></rect>",
          "/>",
        ),
        identiconSvg(bob.node.fingerprint),
      );
      await wide.locator('[data-chat="bob"] [data-online="true"]').waitFor();
      await noSideways(wide, "wide");
      await shot(wide, "layout-wide");
    });

    await t.step("a message arriving live keeps the newest in view", async () => {
      await bob.node.call("send", { chat: "alice", text: "arrived live 👍 🎉" });
      await inView(wide, "arrived live");
      // Scrolled up: it stays where it is, and offers to jump back.
      await wide.locator(".scroller").evaluate((el) => el.scrollBy({ top: -3000 }));
      await wide.locator("[data-jump]").waitFor();
      await bob.node.call("send", { chat: "alice", text: "while you read old ones" });
      await wide.locator("[data-jump]", { hasText: "1 new" }).waitFor();
      await shot(wide, "layout-wide-scrolled-up");
      await wide.locator("[data-jump]").click();
      await inView(wide, "while you read old ones");
      assert.equal(await wide.locator("[data-jump]").count(), 0);
    });

    await t.step("emoji render in the bundled colour font", async () => {
      const loaded = await wide.evaluate(async () => {
        const faces = await document.fonts.load('16px "Noto Color Emoji"', "👍");
        return faces.map((f) => f.status);
      });
      assert.deepEqual(loaded, ["loaded"]);
      // Each run of emoji is its own span, the emoji font first (see islands/_emoji.tsx).
      const emoji = wide.locator(".msg .body .emoji");
      assert.deepEqual(await emoji.allTextContents(), ["👍", "🎉"]);
      assert.match(
        await emoji.first().evaluate((el) => getComputedStyle(el).fontFamily),
        /"Noto Color Emoji"/,
      );
      // An emoji alone is shown large.
      await bob.node.call("send", { chat: "alice", text: "🧗" });
      await wide.locator(".msg .body.jumbo", { hasText: "🧗" }).waitFor();
      // Bare, without a bubble behind it.
      assert.equal(
        await wide.locator(".msg", { has: wide.locator(".body.jumbo") }).evaluate((el) =>
          getComputedStyle(el).backgroundColor
        ),
        "rgba(0, 0, 0, 0)",
      );
      await inView(wide, "🧗");
    });

    await t.step(
      "keyboard: Enter sends, ↑ edits the last, Esc closes, Ctrl+K searches",
      async () => {
        const box = wide.getByRole("textbox", { name: "Message" });
        // The box empties as a message is sent; a refusal puts the text back, with the reason.
        await wide.route("**/api/send", (r) =>
          r.fulfill({
            status: 503,
            contentType: "application/json",
            body: JSON.stringify({
              error: { code: "unavailable", message: "refused for the test" },
            }),
          }), { times: 1 });
        await box.fill("not this time");
        await box.press("Enter");
        await wide.getByText("refused for the test").waitFor();
        assert.equal(await box.inputValue(), "not this time");
        await box.fill("on my way");
        await box.press("Enter");
        await inView(wide, "on my way");
        assert.equal(await box.inputValue(), "");
        await box.press("ArrowUp");
        const edit = wide.locator(".msg.mine", { hasText: "on my way" }).getByRole("textbox", {
          name: "New text",
        });
        await edit.waitFor();
        assert.ok(await edit.evaluate((el) => el === document.activeElement), "edit box focused");
        await edit.fill("on my way, 10 min");
        await edit.press("Enter");
        await wide.locator(".msg.mine", { hasText: "on my way, 10 min" }).locator(".edited")
          .waitFor();
        await box.press("ArrowUp");
        await edit.waitFor();
        await wide.keyboard.press("Escape");
        await edit.waitFor({ state: "hidden" });
        assert.ok(
          await box.evaluate((el) => el === document.activeElement),
          "back in the composer",
        );
        await wide.keyboard.press("Control+k");
        assert.equal(await wide.evaluate(() => document.activeElement?.id), "search-q");
        // Esc in the search box leaves the box, not the chat.
        await wide.keyboard.press("Escape");
        await wide.waitForFunction(() => document.activeElement === document.body);
        assert.match(wide.url(), /\/chats\/bob$/);
        await box.focus();
        await wide.keyboard.press("Escape");
        await wide.waitForURL(/\/chats$/);
        await wide.locator(".pane-conv.placeholder").waitFor();
      },
    );

    await t.step("a group shows who wrote each run of messages", async () => {
      await until(
        async () => (await bob.node.call("chats", {})).some((c) => c.name === "climbers"),
        10_000,
        "bob has the group",
      );
      await bob.node.call("send", { chat: "climbers", text: "rope at 9?" });
      await bob.node.call("send", { chat: "climbers", text: "or 10" });
      await wide.locator('[data-chat="climbers"]', { hasText: "or 10" }).waitFor();
      await wide.locator('[data-chat="climbers"] a').click();
      await inView(wide, "or 10");
      // One run: the author named once, the time on its last bubble.
      assert.deepEqual(await wide.locator(".msg .author").allTextContents(), ["bob"]);
      // Under the group's name, who is in it.
      assert.equal(await wide.locator(".conv-head .sub").textContent(), "2 members · you, bob");
      // bob's picture beside the run's last bubble, left of it, the same as in the chat list.
      const pic = wide.locator(".msg.last .avatar");
      assert.equal(await pic.count(), 1);
      assert.equal(
        (await pic.locator(".pic").innerHTML()).replaceAll("></rect>", "/>"),
        identiconSvg(bob.node.fingerprint),
      );
      const picBox = (await pic.boundingBox())!;
      const bubble =
        (await wide.locator(".msg.last", { has: wide.locator(".avatar") }).boundingBox())!;
      assert.ok(picBox.x + picBox.width <= bubble.x, "the picture is left of the bubble");
      // The founding notes of one minute share one time, not a time per line.
      const notes = await wide.locator(".msg.note").count();
      const times = await wide.locator(".msg.note .meta time").count();
      assert.ok(notes >= 3 && times < notes, `${times} times under ${notes} notes`);
      await shot(wide, "layout-wide-group");
    });

    await t.step("dark mode follows the system", async () => {
      await wide.goto(new URL("/chats/bob", admin.origin).href);
      await wide.emulateMedia({ colorScheme: "dark" });
      const bg = await wide.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert.equal(bg, "rgb(13, 17, 23)");
      // The identicons are lit up to stand out from the dark avatar circle.
      assert.equal(
        await wide.locator(".pane-list .avatar .pic svg").first().evaluate((el) =>
          getComputedStyle(el).filter
        ),
        "brightness(1.5)",
      );
      await inView(wide, "on my way, 10 min");
      await shot(wide, "layout-wide-dark");
      await wide.emulateMedia({ colorScheme: "light" });
    });

    await t.step("phone: one pane, into a chat and back", async () => {
      const phone = await adminPage(browser!, problems, { width: 390, height: 844 });
      await phone.goto(admin.url);
      await live(phone);
      // (No other page has bob's chat open, which would read it at once.)
      await wide.close();
      await bob.node.call("send", { chat: "alice", text: "unread on the phone" });
      await phone.locator('[data-chat="bob"] [data-unread="1"]').waitFor();
      assert.ok(await phone.locator(".pane-list").isVisible());
      assert.ok(!(await phone.locator(".pane-conv").isVisible()), "no second pane");
      await noSideways(phone, "phone list");
      await shot(phone, "layout-phone-list");
      await phone.locator('[data-chat="bob"] a').click();
      await phone.waitForURL(/\/chats\/bob$/);
      await live(phone);
      assert.ok(!(await phone.locator(".pane-list").isVisible()), "the list stepped aside");
      await inView(phone, "unread on the phone");
      await bob.node.call("send", { chat: "alice", text: "seen on the phone" });
      await inView(phone, "seen on the phone");
      const box = phone.getByRole("textbox", { name: "Message" });
      await box.fill("typed on the phone");
      // The focused composer shows the accent edge, not the keyboard stops' thick pink ring.
      assert.deepEqual(
        await box.evaluate((
          el,
        ) => [getComputedStyle(el).outlineColor, getComputedStyle(el).outlineWidth]),
        ["rgb(9, 105, 218)", "2px"],
      );
      await box.press("Enter");
      await inView(phone, "typed on the phone");
      await noSideways(phone, "phone chat");
      await shot(phone, "layout-phone-chat");
      await phone.emulateMedia({ colorScheme: "dark" });
      await shot(phone, "layout-phone-chat-dark");
      await phone.getByRole("link", { name: "Back to all chats" }).click();
      await phone.waitForURL(/\/chats$/);
      assert.ok(await phone.locator(".pane-list").isVisible());
      await phone.goBack();
      await phone.waitForURL(/\/chats\/bob$/);
      await phone.getByRole("heading", { name: "bob" }).waitFor();
      // bob's node goes away: the title says so, without a reload.
      await phone.locator('.conv-head [data-presence="online"]').waitFor();
      await bob.stop();
      await phone.locator('.conv-head [data-presence="offline"]').waitFor({ timeout: 15_000 });
      await phone.locator(".conv-head .avatar [data-online]").waitFor({ state: "detached" });
    });

    await t.step("without JavaScript a chat still opens at its newest message", async () => {
      const ctx = await browser!.newContext({
        javaScriptEnabled: false,
        viewport: { width: 1280, height: 800 },
      });
      const plain = await watchedPage(ctx, problems);
      await plain.goto(admin.url);
      await plain.goto(new URL("/chats/bob", admin.origin).href);
      await inView(plain, "typed on the phone", false);
      // The markup as parsed (no script rebuilt it): each run's time is in its bubble's footer.
      assert.equal(
        await plain.locator(".msg.last .meta time").count(),
        await plain.locator(".msg.last").count(),
      );
      await noSideways(plain, "no JavaScript");
      await shot(plain, "layout-no-js", false);
      await ctx.close();
    });
    assert.deepEqual(problems, []);
  } finally {
    await browser?.close();
    await admin.close();
  }
});
