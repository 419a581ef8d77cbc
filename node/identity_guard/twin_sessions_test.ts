import assert from "node:assert/strict";
import { TWIN_WINDOW_MS, TwinSessions } from "./twin_sessions.ts";

Deno.test("a restart replaces the old session and is no twin; two nodes taking turns are", () => {
  const t = new TwinSessions();
  assert.equal(t.judge("a", "x", undefined, 0), false);
  assert.equal(t.judge("a", "y", "x", 10), false, "y replaces x: a restart looks the same");
  assert.equal(
    t.judge("a", "y", "y", 20),
    false,
    "a second session of one node (a race, an upgrade)",
  );
  assert.equal(t.judge("a", "x", "y", 30), true, "x is back while y is up");
  assert.equal(t.judge("a", "x", "y", 40), true, "and again, each time it redials");
  assert.equal(t.judge("b", "x", "y", 40), false, "per peer key");
});

Deno.test("past the window an instance is forgotten; without an instance (older peers) never a twin", () => {
  const t = new TwinSessions();
  t.judge("a", "x", undefined, 0);
  t.judge("a", "y", "x", 10);
  assert.equal(t.judge("a", "x", "y", 10 + TWIN_WINDOW_MS), false);
  assert.equal(t.judge("a", undefined, "y", 20 + TWIN_WINDOW_MS), false);
  assert.equal(t.judge("a", "z", undefined, 30 + TWIN_WINDOW_MS), false, "nothing up: not a twin");
});
