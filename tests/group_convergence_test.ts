/**
 * A group of 8 real nodes under random partitions (nodes stopped and
 * restarted), with concurrent messages and membership changes. At the end
 * every member holds the same history and member list, everyone removed knows
 * it, and no message was readable by anyone outside the members its writer
 * saw when writing it (so nobody removed reads what was written after the
 * writer saw the removal). Replay a failure with ROJ_SEED=<seed>.
 */
import assert from "node:assert/strict";
import { befriend, startTestNode, type TestNode, until } from "../testing/nodes.ts";
import { seededRandom, testSeed } from "../testing/temp.ts";
import { carriedKeys, epochId, messageEpoch } from "../node/groups/mod.ts";
import { toHex } from "../node/log/mod.ts";
import { isRojError } from "../node/errors.ts";

const N = 8;
const ROUNDS = 10;
const ACTIONS = 8;
const GROUP = "hive";
const NOT_IN_GROUP = "(written by someone not in the group)";

interface Slot {
  readonly name: string;
  readonly host: string;
  port: number;
  dir: string;
  t: TestNode | null;
  fingerprint: string;
}

interface Sent {
  readonly text: string;
  readonly hash: string;
  /** Fingerprints of the members the writer saw when writing. */
  readonly members: Set<string>;
  readonly writer: string;
}

Deno.test("group convergence: 8 nodes, random partitions, concurrent changes", async () => {
  const seed = testSeed("group convergence");
  const rand = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const slots: Slot[] = [];
  try {
    for (let i = 0; i < N; i++) {
      const host = `127.0.0.${60 + i}`;
      const t = await startTestNode(`n${i}`, { host });
      slots.push({
        name: `n${i}`,
        host,
        port: t.node.address!.port,
        dir: t.dir,
        t,
        fingerprint: t.node.fingerprint,
      });
    }
    const node = (i: number) => slots[i]!.t!;
    const slotOf = (key: Uint8Array) =>
      slots.find((s) => s.t && toHex(s.t.node.publicKey) === toHex(key))?.name ?? "?";
    // n0 knows everyone; the others form a ring: messages often travel through others.
    for (let i = 1; i < N; i++) await befriend(node(0), node(i));
    for (let i = 1; i < N; i++) await befriend(node(i), node(i === N - 1 ? 1 : i + 1));

    const g = await node(0).node.call("group.create", { name: GROUP });
    await node(0).node.call("group.add", {
      group: GROUP,
      members: slots.slice(1).map((s) => s.name),
    });
    for (const n of ["n1", "n2"]) {
      await node(0).node.call("group.promote", { group: GROUP, member: n });
    }
    for (let i = 1; i < N; i++) {
      await until(
        async () =>
          (await node(i).node.call("group.members", { group: GROUP })
            .catch(() => [])).length === N,
        15_000,
        `n${i} joined`,
      );
    }

    const sent: Sent[] = [];
    let counter = 0;
    const membersOf = async (t: TestNode) =>
      new Set((await t.node.call("group.members", { group: GROUP })).map((m) => m.fingerprint));

    const act = async (i: number): Promise<void> => {
      const t = node(i);
      const r = rand();
      const view = await t.node.call("group.members", { group: GROUP });
      const me = view.find((m) => m.me);
      if (!me) return; // not a member (as far as it knows)
      const message = async () => {
        const text = `m${counter++} from n${i}`;
        const before = await membersOf(t);
        const m = await t.node.call("send", { chat: GROUP, text });
        const after = await membersOf(t);
        // Membership moved under the send: its recipients are not known for sure, skip it.
        if ([...before].every((f) => after.has(f)) && before.size === after.size) {
          sent.push({ text, hash: m.hash, members: before, writer: slots[i]!.fingerprint });
        }
      };
      if (!me.admin) {
        // Now and then someone leaves (never the founder: see below).
        if (r < 0.04 && i !== 0) await t.node.call("group.leave", { group: GROUP });
        else await message();
        return;
      }
      if (r < 0.5) return await message();
      const contacts = (await t.node.call("contacts", {})).map((c) => c.name);
      if (r < 0.65) {
        // Remove someone (never the founder, so every node keeps a member among its contacts).
        const victims = view.filter((m) => !m.me && m.fingerprint !== slots[0]!.fingerprint);
        if (victims.length === 0) return;
        await t.node.call("group.remove", { group: GROUP, member: pick(victims).fingerprint });
      } else if (r < 0.95) {
        const inView = new Set(view.map((m) => m.name));
        const outside = contacts.filter((c) => !inView.has(c));
        if (outside.length === 0) return;
        await t.node.call("group.add", { group: GROUP, members: [pick(outside)] });
      } else {
        const plain = view.filter((m) => !m.admin);
        if (plain.length === 0) return;
        await t.node.call("group.promote", { group: GROUP, member: pick(plain).fingerprint });
      }
    };

    for (let round = 0; round < ROUNDS; round++) {
      // A new partition: each node is down with probability 0.3.
      for (const s of slots) {
        const down = rand() < 0.3;
        if (down && s.t) {
          await s.t.stop();
          s.t = null;
        } else if (!down && !s.t) {
          s.t = await startTestNode(s.name, { host: s.host, port: s.port, dir: s.dir });
        }
      }
      const up = slots.map((s, i) => (s.t ? i : -1)).filter((i) => i >= 0);
      if (up.length === 0) continue;
      await Promise.all(
        Array.from({ length: ACTIONS }, () => pick(up)).map((i) =>
          act(i).catch((err) => {
            // Concurrent changes may refuse an action; anything else is a failure.
            if (!["refused", "not_found", "exists"].some((c) => isRojError(err, c as "refused"))) {
              throw err;
            }
          })
        ),
      );
      await new Promise((r) => setTimeout(r, 50 + rand() * 250));
    }

    // Everyone back: the group converges.
    for (const s of slots) {
      if (!s.t) s.t = await startTestNode(s.name, { host: s.host, port: s.port, dir: s.dir });
    }
    const state = async (i: number) => {
      const t = node(i);
      const members = await t.node.call("group.members", { group: GROUP });
      const entries = await t.node.log.read(g.id);
      return {
        member: members.some((m) => m.me),
        members: members.map((m) => `${m.fingerprint}${m.admin ? "*" : ""}`).sort().join(","),
        history: entries.map((e) => toHex(e.hash)).join(","),
      };
    };
    let last = "";
    let before = "";
    await until(
      async () => {
        const states = await Promise.all(slots.map((_, i) => state(i)));
        // Settled: nothing changed anywhere over the last poll (those out may
        // still be telling the others of their leaving, for instance).
        const now = JSON.stringify(states);
        const settled = now === before;
        before = now;
        await new Promise((r) => setTimeout(r, 200));
        const inside = states.filter((s) => s.member);
        const ok = settled && inside.length > 0 &&
          inside.every((s) =>
            s.history === inside[0]!.history && s.members === inside[0]!.members
          ) &&
          // Exactly the nodes that count themselves in are the members everyone in sees.
          inside[0]!.members.split(",").length === inside.length;
        const nameOf = (f: string) => slots.find((x) => f.startsWith(x.fingerprint))?.name ?? "?";
        last = states.map((s, i) =>
          `n${i}:${s.member ? "in" : "out"}:${s.history.length / 65}:[${
            s.members.split(",").filter(Boolean).map(nameOf).join(" ")
          }]`
        ).join(" ");
        return ok;
      },
      60_000,
      "the group converging",
    ).catch(async (err) => {
      // Name the entries some node lacks, to debug with the seed.
      const logs = await Promise.all(slots.map((s) => s.t!.node.log.read(g.id)));
      const seen = new Map<string, string>();
      logs.forEach((l, i) =>
        l.forEach((e) =>
          seen.set(toHex(e.hash), `${e.type} by ${slotOf(e.author)} #${e.seq} (at n${i})`)
        )
      );
      const missing = logs.map((l, i) => {
        const have = new Set(l.map((e) => toHex(e.hash)));
        return `n${i} lacks [${
          [...seen].filter(([h]) => !have.has(h)).map(([, d]) => d).join("; ")
        }]`;
      });
      throw new Error(`${(err as Error).message}; seed ${seed}; ${last}\n${missing.join("\n")}`);
    });

    const finalMembers = (await node(0).node.call("group.members", { group: GROUP }))
      .map((m) => m.fingerprint);
    const changes = (await node(0).node.log.read(g.id)).filter((e) => e.type.startsWith("group."));
    console.log(
      `group convergence: ${sent.length} messages checked, ${changes.length} membership entries, ${finalMembers.length} members at the end`,
    );

    // Confidentiality: each message was sealed to exactly the members its writer saw,
    // and nobody else can read it; every one of them still in the group can.
    const reads = await Promise.all(slots.map(async (s) => {
      const all = await s.t!.node.call("read", { chat: GROUP, markRead: false });
      return new Map(all.map((m) => [m.hash, m.body]));
    }));
    const entries0 = await node(0).node.log.read(g.id);
    let lost = 0;
    for (const m of sent) {
      const e = entries0.find((x) => toHex(x.hash) === m.hash);
      if (!e) {
        // Written by someone removed concurrently: nobody syncs it with them any more.
        assert.ok(!finalMembers.includes(m.writer), `${m.text} never reached n0`);
        lost++;
        continue;
      }
      // The entry that carried its key (it may not count any more: a concurrent change).
      const carrier = entries0.find((x) => epochId(x) === messageEpoch(e.body));
      const keys = carrier && carriedKeys(carrier);
      assert.ok(keys, `${m.text} names a key carried in the log`);
      const recipients = new Set(
        [...keys.keys()].map((hex) =>
          slots.find((s) => toHex(s.t!.node.publicKey) === hex)!.fingerprint
        ),
      );
      assert.deepEqual([...recipients].sort(), [...m.members].sort(), `${m.text}: recipients`);
      slots.forEach((s, i) => {
        const body = reads[i]!.get(m.hash);
        if (!m.members.has(s.fingerprint)) {
          assert.notEqual(body, m.text, `n${i} was not a member for ${m.text} yet reads it`);
        } else if (finalMembers.includes(s.fingerprint)) {
          // Unless the writer's removal, made concurrently, sorts before the message.
          if (body !== NOT_IN_GROUP) assert.equal(body, m.text, `n${i} cannot read ${m.text}`);
        }
      });
    }
    console.log(`group convergence: ${lost} messages by members removed meanwhile never spread`);
  } finally {
    for (const s of slots) {
      await s.t?.stop();
      await Deno.remove(s.dir, { recursive: true }).catch(() => {});
    }
  }
});
