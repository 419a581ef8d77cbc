/**
 * Debian's chromium through playwright-core, for the admin's browser tests.
 * (admin_browser_test.ts and admin_groups_test.ts carry the same lines; new
 * tests take them from here.)
 */
import fs from "node:fs";

export const CHROMIUM = "/usr/bin/chromium";
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
export const { chromium } = await import("playwright-core");
