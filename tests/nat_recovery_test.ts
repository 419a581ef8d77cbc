/**
 * Recovery behind real NAT (scripts/netlab.sh, as root): what happens to a
 * chat when the routers forget their NAT state, and when a peer moves to
 * another network. Messages must arrive exactly once and in order, and the
 * session must come back by itself within a bounded time.
 */
import assert from "node:assert/strict";
import { until } from "../testing/nodes.ts";
import { callNode, type NodeProcess, peerOf } from "../testing/processes.ts";
import { LAB, labTest, startLabHive, startNetLab } from "../testing/netlab.ts";
import type { MessageView } from "../node/api/mod.ts";

async function read(p: NodeProcess, chat: string): Promise<MessageView[]> {
  return await callNode(p, "read", { chat, last: 10_000, markRead: false }) as MessageView[];
}

/** Sends `prefix-0`, `prefix-1`, … every `everyMs` until `stop()` says so; returns what was sent. */
function chatter(p: NodeProcess, chat: string, prefix: string, everyMs: number) {
  const sent: string[] = [];
  let stopped = false;
  const done = (async () => {
    const c = await p.control();
    try {
      for (let i = 0; !stopped; i++) {
        const text = `${prefix}-${i}`;
        await c.call("send", { chat, text });
        sent.push(text);
        await new Promise((r) => setTimeout(r, everyMs));
      }
    } finally {
      await c.close();
    }
  })();
  return {
    sent,
    stop: async () => {
      stopped = true;
      await done;
      return sent;
    },
  };
}

/** The bodies from `prefix` in the order the reader shows them. */
async function received(p: NodeProcess, chat: string, prefix: string): Promise<string[]> {
  return (await read(p, chat)).map((m) => m.body).filter((b) => b.startsWith(`${prefix}-`));
}

/** Drops every NAT mapping and connection the router tracks, as a router reboot or a NAT timeout does. */
async function flushNat(run: (cmd: string[]) => Promise<string>): Promise<void> {
  await run(["conntrack", "-F"]);
}

/**
 * Alice and bob chat both ways every 200 ms; 10 messages each (2 s) in, both
 * routers forget all their NAT state; 20 messages each (4 s) later they stop. Everything must arrive once, in order.
 * Punched: the routers keep the ports they mapped, so the next packets out
 * open the same path again. Relayed (bob's router symmetric): bob's
 * connection to the anchor gets a new port, the anchor answers it with a
 * reset, and the session is dialled again through the anchor.
 */
async function flushMidChat(path: "punched" | "relayed"): Promise<void> {
  {
    await using lab = await startNetLab({ symmetricB: path === "relayed" });
    await using hive = await startLabHive(lab);
    const { alice, bob, anchor } = hive;
    try {
      await until(
        async () => (await peerOf(alice, "bob"))?.state === "connected",
        60_000,
        "alice's session with bob",
      );
      await until(
        async () => (await peerOf(bob, "alice"))?.state === "connected",
        5000,
        "bob's side",
      );
      assert.equal((await peerOf(alice, "bob"))?.path, path);
      for (const r of ["natA", "natB"] as const) {
        const tracked = Number((await lab.run(r, ["conntrack", "-C"])).trim());
        assert.ok(tracked > 0, `${r} tracks ${tracked} connections before the flush`);
      }
      const fromAlice = chatter(alice, "bob", "a", 200);
      const fromBob = chatter(bob, "alice", "b", 200);
      // About 2 s of chat before the flush, and 4 s after it (counted in messages, not slept).
      await until(() => fromAlice.sent.length >= 10 && fromBob.sent.length >= 10, 30_000, "chat");
      await Promise.all([flushNat((c) => lab.run("natA", c)), flushNat((c) => lab.run("natB", c))]);
      const flushedAt = Date.now();
      const bobBefore = bob.events().length;
      // How long alice's first message after the flush takes to reach bob.
      const firstAfter = fromAlice.sent.length + 1;
      const firstDelivered = (async () => {
        while ((await received(bob, "alice", "a")).length < firstAfter) {
          if (Date.now() - flushedAt > 30_000) throw new Error("no message after the flush");
          await new Promise((r) => setTimeout(r, 100));
        }
        return Date.now() - flushedAt;
      })().catch((err: Error) => err);
      const more = [fromAlice.sent.length + 20, fromBob.sent.length + 20];
      await until(
        () => fromAlice.sent.length >= more[0]! && fromBob.sent.length >= more[1]!,
        30_000,
        "chat after the flush",
      );
      const [sentA, sentB] = await Promise.all([fromAlice.stop(), fromBob.stop()]);
      await until(
        async () => (await received(bob, "alice", "a")).length >= sentA.length,
        30_000,
        "bob receives all of alice's messages",
      );
      await until(
        async () => (await received(alice, "bob", "b")).length >= sentB.length,
        30_000,
        "alice receives all of bob's messages",
      );
      const recovered = Date.now() - flushedAt;
      const firstMs = await firstDelivered;
      if (firstMs instanceof Error) throw firstMs;
      // The flush did break the session (bob's router gave his connection a
      // new port, which the anchor answers with a reset), and it came back.
      if (path === "relayed") {
        const after = bob.events().slice(bobBefore);
        assert.ok(
          after.some((e) =>
            e.type === "session" && e.state === "down" && ["anchor", "alice"].includes(e.peer)
          ),
          "the flush broke bob's session",
        );
        assert.ok(
          after.some((e) =>
            e.type === "session" && e.state === "up" && e.peer === "alice" && e.via === "anchor"
          ),
          "bob's session with alice came back through the anchor",
        );
      }
      assert.equal((await peerOf(alice, "bob"))?.path, path);
      // 4 s of chatting after the flush, then everything delivered well within the bound.
      assert.ok(recovered < 25_000, `recovered ${recovered} ms after the flush`);
      assert.deepEqual(await received(bob, "alice", "a"), sentA);
      assert.deepEqual(await received(alice, "bob", "b"), sentB);
      // Each side's own view has its messages once, in order, too.
      assert.deepEqual(await received(alice, "bob", "a"), sentA);
      assert.deepEqual(await received(bob, "alice", "b"), sentB);
      assert.equal((await peerOf(alice, "bob"))?.state, "connected");
      assert.equal((await peerOf(bob, "alice"))?.state, "connected");
      console.log(
        `${path}: flushed after ${sentA.length}+${sentB.length} messages; the first one after it arrived in ${firstMs} ms, all ${recovered} ms after it`,
      );
      if (Deno.env.get("NAT_DEBUG")) {
        for (const p of [anchor, alice, bob]) console.log(p.output());
      }
    } catch (err) {
      for (const p of [anchor, alice, bob]) console.log(p.output());
      throw err;
    }
  }
}

labTest(
  "nat recovery: NAT state flushed mid-chat on a punched path; nothing is lost or doubled",
  () => flushMidChat("punched"),
  { tools: ["conntrack"] },
);

labTest(
  "nat recovery: NAT state flushed mid-chat on a relayed path; the session is dialled again, nothing lost or doubled",
  () => flushMidChat("relayed"),
  { tools: ["conntrack"] },
);

labTest(
  "nat recovery: a NATed peer moving to the other home network is found again by the cascade",
  async () => {
    await using lab = await startNetLab();
    await using hive = await startLabHive(lab);
    const { bob, anchor } = hive;
    let alice = hive.alice;
    try {
      await until(
        async () => (await peerOf(bob, "alice"))?.state === "connected",
        40_000,
        "bob's session with alice in homeA",
      );
      assert.match((await peerOf(bob, "alice"))?.address ?? "", new RegExp(`^${LAB.natA}:`));
      await alice.stop();
      // While alice is away, bob writes; she reads it after the move.
      const c = await bob.control();
      await c.call("send", { chat: "alice", text: "while you were moving" });
      await c.close();
      const movedAt = Date.now();
      // Same data folder, now behind bob's router (another port: bob holds 7022 there).
      alice = await hive.restart("alice", "homeB", "0.0.0.0:7024");
      await until(
        async () => {
          const v = await peerOf(bob, "alice");
          return v?.state === "connected" && !v.address?.startsWith(`${LAB.natA}:`);
        },
        40_000,
        "bob finds alice in homeB",
      );
      await until(
        async () => (await peerOf(alice, "bob"))?.state === "connected",
        5000,
        "her side",
      );
      const found = Date.now() - movedAt;
      assert.ok(found < 30_000, `found again ${found} ms after the move`);
      // Bob holds her new address now, learnt from her sealed record (the cascade), not typed in.
      await bob.waitForEvent(
        "record-learnt",
        (e) => e.peer === "alice" && e.addresses.includes(`${LAB.homeB}:7024`),
        { timeoutMs: 10_000, what: "bob learns alice's new address" },
      );
      await until(
        async () => (await read(alice, "bob")).some((m) => m.body === "while you were moving"),
        10_000,
        "alice reads what bob wrote while she moved",
      );
      const a = await alice.control();
      await a.call("send", { chat: "bob", text: "moved-0" });
      await a.close();
      await until(
        async () => (await received(bob, "alice", "moved")).length === 1,
        10_000,
        "bob reads alice from her new network",
      );
      console.log(
        `found again ${found} ms after the move: ${JSON.stringify(await peerOf(bob, "alice"))}`,
      );
      if (Deno.env.get("NAT_DEBUG")) {
        for (const p of [anchor, alice, bob]) console.log(p.output());
      }
    } catch (err) {
      for (const p of [anchor, alice, bob]) console.log(p.output());
      throw err;
    }
  },
);
