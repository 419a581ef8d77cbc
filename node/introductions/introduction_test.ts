import assert from "node:assert/strict";
import { FakeClock } from "../clock/mod.ts";
import { seededRandom } from "../../testing/temp.ts";
import {
  ACCEPTED_GRACE_MS,
  type Got,
  type GotEvent,
  type Made,
  type MadeEvent,
  stepGot,
  stepMade,
  TOMBSTONE_MS,
} from "./introduction.ts";

const HOUR = 3_600_000;
const key = (n: number) => new Uint8Array(32).fill(n);

function made(now: number): Made {
  return {
    id: "0".repeat(32),
    a: key(1),
    b: key(2),
    expires: now + 24 * HOUR,
    phase: "pending",
    accepted: [],
    toOffer: [],
    toTell: [],
    at: now,
  };
}

function got(now: number): Got {
  return {
    id: "0".repeat(32),
    introducer: key(9),
    person: key(2),
    name: "carol",
    card: new Uint8Array([1, 2, 3]),
    expires: now + 24 * HOUR,
    phase: "pending",
    unsent: false,
    at: now,
  };
}

/** Runs events through the introducer's machine, with the clock moved between them. */
async function runMade(clock: FakeClock, m: Made, events: (MadeEvent | number)[]) {
  const tells: string[] = [];
  for (const e of events) {
    if (typeof e === "number") {
      await clock.advance(e);
      continue;
    }
    const step = stepMade(m, e, clock.now());
    m = step.state;
    tells.push(...step.tell.map((t) => `${t.side}:${t.outcome}`));
  }
  return { m, tells };
}

Deno.test("introducer: both accept → both told done → contacts, keys dropped", async () => {
  const clock = new FakeClock({ start: 1_000_000 });
  const { m, tells } = await runMade(clock, made(clock.now()), [
    { type: "answer", side: "a", accept: true },
    HOUR,
    { type: "answer", side: "a", accept: true },
    { type: "answer", side: "b", accept: true },
  ]);
  assert.equal(m.phase, "both");
  assert.deepEqual(tells, ["a:done", "b:done"]);
  const told =
    (await runMade(clock, m, [{ type: "told", side: "a" }, { type: "told", side: "b" }])).m;
  assert.equal(told.phase, "contacts");
  assert.equal(told.a, null);
  assert.equal(told.b, null);
});

Deno.test("introducer: one accepts, the other declines → only the first is told", async () => {
  const clock = new FakeClock({ start: 1_000_000 });
  const { m, tells } = await runMade(clock, made(clock.now()), [
    { type: "answer", side: "a", accept: true },
    { type: "answer", side: "b", accept: false },
    { type: "answer", side: "b", accept: true }, // too late: ended
  ]);
  assert.equal(m.phase, "declined");
  assert.deepEqual(tells, ["a:declined"]);
  assert.deepEqual(m.toTell, ["a"]);
  const told = stepMade(m, { type: "told", side: "a" }, clock.now()).state;
  assert.deepEqual([told.a, told.b, told.phase], [null, null, "declined"]);
});

Deno.test("introducer: expiry by the clock; who accepted is told; the bare fact is forgotten later", async () => {
  const clock = new FakeClock({ start: 1_000_000 });
  let { m } = await runMade(clock, made(clock.now()), [{
    type: "answer",
    side: "b",
    accept: true,
  }]);
  assert.equal(stepMade(m, { type: "tick" }, clock.now()).state.phase, "accepted-by-one");
  await clock.advance(24 * HOUR);
  const step = stepMade(m, { type: "tick" }, clock.now());
  assert.equal(step.state.phase, "expired");
  assert.deepEqual(step.tell, [{ side: "b", outcome: "expired" }]);
  // An answer after expiry changes nothing but the expiry itself.
  const late = stepMade(m, { type: "answer", side: "a", accept: true }, clock.now());
  assert.equal(late.state.phase, "expired");
  m = stepMade(step.state, { type: "told", side: "b" }, clock.now()).state;
  assert.equal(m.a, null);
  assert.equal(stepMade(m, { type: "tick" }, clock.now()).forget, false);
  await clock.advance(TOMBSTONE_MS);
  assert.equal(stepMade(m, { type: "tick" }, clock.now()).forget, true);
});

async function runGot(clock: FakeClock, g: Got, events: (GotEvent | number)[]) {
  const did: string[] = [];
  for (const e of events) {
    if (typeof e === "number") {
      await clock.advance(e);
      continue;
    }
    const step = stepGot(g, e, clock.now());
    g = step.state;
    if (step.send) did.push("send");
    if (step.addContact) did.push("add");
    if (step.refused) did.push("refused");
  }
  return { g, did };
}

Deno.test("person: accept → send; done → add the contact; the card is dropped", async () => {
  const clock = new FakeClock({ start: 1_000_000 });
  const { g, did } = await runGot(clock, got(clock.now()), [
    { type: "done" }, // not accepted yet: refused
    { type: "accept" },
    { type: "sent" },
    { type: "accept" }, // again: nothing
    { type: "done" },
    { type: "done" }, // again: nothing
  ]);
  assert.deepEqual(did, ["refused", "send", "add"]);
  assert.deepEqual([g.phase, g.person, g.name, g.card, g.unsent], [
    "contacts",
    null,
    null,
    null,
    false,
  ]);
});

Deno.test("person: decline leaves only the fact, and is sent", async () => {
  const clock = new FakeClock({ start: 1_000_000 });
  const { g, did } = await runGot(clock, got(clock.now()), [{ type: "decline" }, {
    type: "accept",
  }]);
  assert.deepEqual(did, ["send", "refused"]);
  assert.deepEqual([g.phase, g.person, g.name, g.card, g.unsent], [
    "declined",
    null,
    null,
    null,
    true,
  ]);
});

Deno.test("person: a pending card expires; an accepted one waits out the grace", async () => {
  const clock = new FakeClock({ start: 1_000_000 });
  const pending = await runGot(clock, got(clock.now()), [24 * HOUR, { type: "accept" }]);
  assert.deepEqual(pending.did, ["refused"]);
  assert.equal(pending.g.phase, "expired");
  assert.equal(pending.g.person, null);

  const accepted = await runGot(clock, got(clock.now()), [{ type: "accept" }, 24 * HOUR, {
    type: "tick",
  }]);
  assert.equal(accepted.g.phase, "accepted");
  const over = await runGot(clock, accepted.g, [ACCEPTED_GRACE_MS, { type: "done" }]);
  assert.equal(over.g.phase, "expired");
  assert.deepEqual(over.did, ["refused"]);
});

Deno.test("person: the introducer's word that it ended drops the card", async () => {
  const clock = new FakeClock({ start: 1_000_000 });
  const { g } = await runGot(clock, got(clock.now()), [
    { type: "accept" },
    { type: "ended", reason: "declined" },
  ]);
  assert.deepEqual([g.phase, g.person], ["declined", null]);
});

Deno.test("person: met another way (a sibling took it): ended as contacts, a yes sent if none was", () => {
  const now = 1_000_000;
  const pending = stepGot(got(now), { type: "met" }, now);
  assert.deepEqual([pending.state.phase, pending.state.unsent, pending.send, pending.addContact], [
    "contacts",
    true,
    true,
    false,
  ]);
  assert.equal(pending.state.card, null);
  const sent = { ...got(now), phase: "accepted" as const, unsent: false };
  const answered = stepGot(sent, { type: "met" }, now);
  assert.deepEqual([answered.state.phase, answered.send], ["contacts", false]);
  const declined = stepGot({ ...got(now), phase: "declined" as const }, { type: "met" }, now);
  assert.equal(declined.state.phase, "declined");
});

Deno.test("introducer: a side never handed its card is not told that it ended", async () => {
  const clock = new FakeClock({ start: 1_000_000 });
  // carol asked with a card (accepted already); bob was not reached yet, then declines once reached.
  const asked: Made = {
    ...made(clock.now()),
    accepted: ["b"],
    phase: "accepted-by-one",
    toOffer: ["a"],
  };
  const { m, tells } = await runMade(clock, asked, [
    { type: "offered", side: "a" },
    { type: "answer", side: "a", accept: false },
  ]);
  assert.deepEqual([m.phase, tells], ["declined", ["b:declined"]]);
  const never = stepMade(asked, { type: "answer", side: "b", accept: false }, clock.now());
  assert.deepEqual([never.state.phase, never.tell, never.state.toOffer], ["declined", [], []]);
});

Deno.test("random runs keep the invariants: no contact without both, nothing kept once ended", () => {
  const random = seededRandom(14_23);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const sides = ["a", "b"] as const;
  for (let run = 0; run < 2000; run++) {
    let now = 1_000_000;
    let m: Made = { ...made(now), ...(random() < 0.3 ? { accepted: ["b"], toOffer: ["a"] } : {}) };
    if (m.accepted.length > 0) m = { ...m, phase: "accepted-by-one" };
    let g = got(now);
    const ended = new Set<string>();
    let answered = false;
    for (let i = 0; i < 12; i++) {
      now += pick([0, 1000, 6 * HOUR, 30 * HOUR, ACCEPTED_GRACE_MS]);
      const e: MadeEvent = pick<MadeEvent>([
        { type: "answer", side: pick(sides), accept: random() < 0.7 },
        { type: "offered", side: pick(sides) },
        { type: "told", side: pick(sides) },
        { type: "tick" },
      ]);
      const step = stepMade(m, e, now);
      for (const t of step.tell) {
        if (t.outcome === "done") assert.deepEqual([...step.state.accepted].sort(), ["a", "b"]);
      }
      if (step.forget) break;
      m = step.state;
      if (["both", "contacts"].includes(m.phase)) assert.equal(m.accepted.length, 2);
      if (["declined", "expired", "contacts"].includes(m.phase)) {
        ended.add(m.phase);
        if (m.toTell.length === 0) assert.deepEqual([m.a, m.b], [null, null]);
        assert.deepEqual(m.toOffer, []);
      }
      if (ended.size > 0) assert.ok(!["pending", "accepted-by-one"].includes(m.phase));

      const ge: GotEvent = pick<GotEvent>([
        { type: "accept" },
        { type: "decline" },
        { type: "done" },
        { type: "ended", reason: pick(["declined", "expired"] as const) },
        { type: "sent" },
        { type: "tick" },
      ]);
      const before = g;
      const gs = stepGot(g, ge, now);
      if (gs.addContact) {
        assert.equal(before.phase, "accepted");
        assert.ok(answered, "a contact only after we accepted");
      }
      if (gs.send) assert.ok(ge.type === "accept" || ge.type === "decline");
      if (gs.forget) break;
      g = gs.state;
      if (g.phase === "accepted") answered = true;
      if (!["pending", "accepted"].includes(g.phase)) {
        assert.deepEqual([g.person, g.name, g.card], [null, null, null]);
      }
    }
  }
});
