/**
 * A headless Chromium for admin tests (Debian's chromium via playwright-core),
 * launched the way tests/admin_browser_test.ts does, and a folder for the
 * screenshots a person looks at (test-artifacts/admin/).
 */
import fs from "node:fs";
import type { Browser, Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = new URL("../test-artifacts/admin/", import.meta.url);

/** Whether Chromium is installed (tests skip without it, saying so). */
export const haveChromium = await Deno.stat(CHROMIUM).then(() => true, () => false);

// playwright-core probes /proc/sys/fs/binfmt_misc/WSLInterop when it loads; Deno answers
// even an existence check there with NotCapable unless run with -A. A refused probe means
// "not WSL", so the test task keeps its narrower permissions.
const existsSync = fs.existsSync;
fs.existsSync = ((path: fs.PathLike) => {
  try {
    return existsSync(path);
  } catch {
    return false;
  }
}) as typeof fs.existsSync;
const { chromium } = await import("playwright-core");

/** Launches headless Chromium. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
  });
}

/** Collects the page's script errors and console errors into `problems`. */
export function watchProblems(page: Page, problems: string[]): void {
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
}

/** Saves a full-page screenshot as test-artifacts/admin/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await Deno.mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: new URL(`${name}.png`, ARTIFACTS).pathname, fullPage: true });
}
