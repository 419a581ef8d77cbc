/**
 * The real discovery shell (records signed and sealed, an in-memory store,
 * addr.* over RpcSession) for a hive of 20 people and 2 anchors over the
 * memory transport, every timer on one FakeClock: everyone moves at once and
 * every pair comes back, each new record taken in once. cascade_sim_test.ts
 * runs the same decisions for 100 people without the shell.
 */
import assert from "node:assert/strict";
import { startMemoryHive } from "../../testing/memory_hive.ts";
import { testSeed } from "../../testing/temp.ts";

Deno.test("discovery over the memory transport: 20 people and 2 anchors move at once; every pair is back", async () => {
  const seed = testSeed("discovery hive");
  await using hive = await startMemoryHive({ seed, nodes: 20, anchors: 2, degree: 8, delayMs: 5 });
  await hive.settle();
  assert.deepEqual(hive.missing(), [], "connected before the move");

  hive.resetCounts();
  const t0 = performance.now();
  await hive.move("all");
  const fakeMs = await hive.settle();
  const wallMs = performance.now() - t0;
  assert.deepEqual(hive.missing(), [], "every contact pair has a session again");

  const rounds = (n: (typeof hive.persons)[number]) =>
    Math.max(0, ...n.notes.flatMap((x) => (x.type === "all_reached" ? [x.rounds] : [])));
  for (const n of hive.persons) {
    const contacts = [...n.contacts.values()];
    const people = contacts.filter((c) => !c.anchor).length;
    assert.equal(n.counts.learnt, people, `${n.name}: each moved contact's record once`);
    assert.ok(n.notes.some((x) => x.type === "all_reached"), `${n.name} noted all reached`);
    assert.ok(rounds(n) <= 3, `${n.name}: ${rounds(n)} rounds`);
    const backoffs = n.notes.filter((x) => x.type === "backing_off").length;
    assert.ok(backoffs <= 1, `${n.name} backed off ${backoffs} times`);
    assert.ok(n.counts.dials <= 3 * contacts.length, `${n.name}: ${n.counts.dials} dials`);
    const gets = n.counts.requests["addr.get"] ?? 0;
    assert.ok(gets <= 4 * contacts.length, `${n.name}: ${gets} asks`);
    assert.equal(n.counts.sessions, contacts.length, `${n.name}: one session per contact`);
  }
  const max = (f: (n: (typeof hive.persons)[number]) => number) => Math.max(...hive.persons.map(f));
  console.log(
    `  ${wallMs.toFixed(0)} ms wall, ${fakeMs} ms fake until idle; per person at most ` +
      `${max(rounds)} rounds, ${max((n) => n.counts.dials)} dials, ` +
      `${
        max((n) => n.counts.requests["addr.get"] ?? 0)
      } asks; ${hive.net.stats.dials} dials in all`,
  );
});
