import assert from "node:assert/strict";
import { FakeClock } from "../clock/mod.ts";
import { EventBus } from "../events.ts";
import type { ChatLog } from "../log/mod.ts";
import { CatchUpProgress } from "./catch_up_progress.ts";

Deno.test("a catch-up's start is told once, before its first page (the node starts its verifiers then)", () => {
  const clock = new FakeClock();
  let starts = 0;
  const progress = new CatchUpProgress(
    new EventBus(() => {}),
    clock,
    {} as ChatLog,
    () => "bob",
    () => starts++,
  );
  progress.report({ chat: "c", from: "bob", done: 0, total: 5000 });
  assert.equal(starts, 1);
  progress.report({ chat: "c", from: "bob", done: 1000, total: 5000 });
  progress.report({ chat: "c", from: "bob", done: 5000, total: 5000 });
  assert.equal(starts, 1, "not again while it runs or at its end");
  progress.report({ chat: "c", from: "bob", done: 0, total: 10 });
  assert.equal(starts, 2, "a later catch-up starts them again");
});
