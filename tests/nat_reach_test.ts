/**
 * Reachability detection behind real NAT (scripts/netlab.sh, as root).
 *
 * Alice in home network A has a contact on the same LAN (bob in homeA2) and
 * the hive's anchor on the wan. Bob could dial her back at her LAN address,
 * but nobody outside her router can: only the anchor's (failing) dial-back
 * counts, so she publishes herself as not reachable, naming the anchor as
 * her relay, instead of as directly reachable.
 *
 * Bob behind a symmetric NAT (natB, `masquerade random`) with two punch
 * coordinators on the wan (the anchor and a friend): the two see his UDP
 * endpoint at different ports, so he knows no punch can work, says so in his
 * log and `roj status`, refuses punch offers, and alice reaches him through a
 * relay without any punch waiting for its timeout.
 */
import assert from "node:assert/strict";
import { until } from "../testing/nodes.ts";
import { callNode, type NodeProcess, peerOf, spawnNode } from "../testing/processes.ts";
import { LAB, labTest, makeDataDir, seedContacts, startNetLab } from "../testing/netlab.ts";
import type { StatusView } from "../node/api/mod.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** `roj status` for a data folder, as a person runs it. */
async function rojStatus(dir: string): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-net",
      MAIN,
      "status",
      "--data",
      dir,
    ],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  if (!out.success) throw new Error(`roj status failed: ${dec.decode(out.stderr)}`);
  return dec.decode(out.stdout);
}

labTest(
  "nat reach: a NATed node whose LAN neighbour could dial it back still publishes itself as unreachable, with relays",
  async () => {
    await using lab = await startNetLab({ lanA: true });
    const [a, b, anchor] = await Promise.all(
      ["alice", "bob", "anchor"].map((n) => makeDataDir(n)),
    );
    const anchorAt = `${LAB.wan}:7022`;
    await seedContacts(anchor!.dir, [
      { publicKey: a!.publicKey, name: "alice" },
      { publicKey: b!.publicKey, name: "bob" },
    ]);
    const theAnchor = {
      publicKey: anchor!.publicKey,
      name: "anchor",
      addresses: [anchorAt],
      anchor: true,
    };
    await seedContacts(a!.dir, [
      theAnchor,
      { publicKey: b!.publicKey, name: "bob", addresses: [`${LAB.homeA2}:7022`] },
    ]);
    await seedContacts(b!.dir, [
      theAnchor,
      { publicKey: a!.publicKey, name: "alice", addresses: [`${LAB.homeA}:7022`] },
    ]);
    const started: NodeProcess[] = [];
    try {
      started.push(
        await spawnNode(anchor!.dir, anchorAt, "anchor", {
          netns: lab.ns("wan"),
          args: ["--passive"],
        }),
      );
      // Bob first, so that he is there when alice looks whether she is reachable.
      const bob = await spawnNode(b!.dir, "0.0.0.0:7022", "bob", { netns: lab.ns("homeA2") });
      started.push(bob);
      const alice = await spawnNode(a!.dir, "0.0.0.0:7022", "alice", { netns: lab.ns("homeA") });
      started.push(alice);
      try {
        await until(
          async () => (await peerOf(alice, "bob"))?.state === "connected",
          20_000,
          "alice meets bob on their LAN",
        );
        // Her first verdict, and the only one: no dial-back from outside got through.
        const verdict = await alice.waitForEvent("reachability", undefined, {
          timeoutMs: 30_000,
          what: "alice finds she is behind NAT",
        });
        assert.deepEqual(verdict, {
          type: "reachability",
          reachable: false,
          how: "dial-back-failed",
        });
        const named = await alice.waitForEvent("relays-named", (e) => e.reachable === false, {
          timeoutMs: 10_000,
          what: "alice's record names her relays",
        });
        assert.ok(
          named.relays.length >= 1 && named.relays.length <= 4,
          `alice names ${named.relays.length} relay(s)`,
        );
        // Bob, on her LAN, was not asked: his dial-back would have got through.
        assert.ok(
          alice.events().some((e) =>
            e.type === "dial-back-skipped" && e.peer === "bob" &&
            (e.code === "own-subnet" || e.code === "lan")
          ),
          "alice did not ask bob to dial her back",
        );
        assert.ok(
          !alice.events().some((e) => e.type === "reachability" && e.reachable),
          "alice never took herself for reachable",
        );
        assert.equal(((await callNode(alice, "status", {})) as StatusView).reachable, false);
        assert.equal((await peerOf(alice, "anchor"))?.state, "connected");
      } catch (err) {
        for (const p of started) console.log(p.output());
        throw err;
      }
    } finally {
      await Promise.all(started.map((p) => p.stop()));
      for (const d of [a!, b!, anchor!]) {
        await Deno.remove(d.dir, { recursive: true }).catch(() => {});
      }
    }
  },
);

labTest(
  "nat reach: behind a symmetric NAT two coordinators' views tell it; no punch is tried and the relay carries the chat",
  async () => {
    await using lab = await startNetLab({ symmetricB: true });
    const [a, b, f, anchor] = await Promise.all(
      ["alice", "bob", "friend", "anchor"].map((n) => makeDataDir(n)),
    );
    const anchorAt = `${LAB.wan}:7022`;
    const friendAt = `${LAB.wan}:7023`;
    for (const hub of [anchor!, f!]) {
      await seedContacts(hub.dir, [
        { publicKey: a!.publicKey, name: "alice" },
        { publicKey: b!.publicKey, name: "bob" },
      ]);
    }
    for (const [me, other, otherName] of [[a!, b!, "bob"], [b!, a!, "alice"]] as const) {
      await seedContacts(me.dir, [
        { publicKey: anchor!.publicKey, name: "anchor", addresses: [anchorAt], anchor: true },
        { publicKey: f!.publicKey, name: "friend", addresses: [friendAt] },
        { publicKey: other.publicKey, name: otherName },
      ]);
    }
    const started: NodeProcess[] = [];
    try {
      started.push(
        await spawnNode(anchor!.dir, anchorAt, "anchor", {
          netns: lab.ns("wan"),
          args: ["--passive"],
        }),
        await spawnNode(f!.dir, friendAt, "friend", { netns: lab.ns("wan") }),
      );
      const [alice, bob] = await Promise.all([
        spawnNode(a!.dir, "0.0.0.0:7022", "alice", { netns: lab.ns("homeA") }),
        spawnNode(b!.dir, "0.0.0.0:7022", "bob", { netns: lab.ns("homeB") }),
      ]);
      started.push(alice, bob);
      try {
        // Two coordinators on the wan saw his UDP endpoint at two ports of his router's address.
        const nat = await bob.waitForEvent("nat-mapping", (e) => e.mapping === "symmetric", {
          timeoutMs: 30_000,
          what: "bob finds he is behind a symmetric NAT",
        });
        const coordinators = [`${LAB.wan}:7022`, `${LAB.wan}:7023`];
        const seen = nat.observations.filter((o) => coordinators.includes(o.observer));
        assert.ok(
          seen.length === 2 && seen[0]!.observer !== seen[1]!.observer &&
            seen[0]!.host === seen[1]!.host && seen[0]!.port !== seen[1]!.port,
          `the coordinators saw bob at different ports: ${JSON.stringify(nat.observations)}`,
        );
        const status = (await callNode(bob, "status", {})) as StatusView;
        assert.equal(status.nat?.mapping, "symmetric");
        assert.match(await rojStatus(b!.dir), /nat: +symmetric NAT/);
        await until(
          async () => ((await callNode(alice, "status", {})) as StatusView).nat !== undefined,
          30_000,
          "alice's NAT seen by both",
        );
        assert.equal(
          ((await callNode(alice, "status", {})) as StatusView).nat?.mapping,
          "endpoint-independent",
        );
        await until(
          async () => (await peerOf(alice, "bob"))?.path === "relayed",
          60_000,
          "alice's relayed session to bob",
        );
        await until(
          async () => (await peerOf(bob, "alice"))?.path === "relayed",
          5000,
          "bob's side",
        );
        await callNode(alice, "send", { chat: "bob", text: "around the symmetric NAT" });
        await until(
          async () =>
            ((await callNode(bob, "read", { chat: "alice" })) as Array<{ body: string }>)
              .some((m) => m.body === "around the symmetric NAT"),
          10_000,
          "bob reads alice",
        );
        // Whoever tried first: bob does not punch, and refuses alice's offers, saying why.
        await until(
          () =>
            bob.events().some((e) =>
              (e.type === "punch" && !e.ok && e.peer === "alice" && e.code === "symmetric-nat") ||
              (e.type === "punch-offer" && !e.accepted && e.from === "alice" &&
                (e.via === "anchor" || e.via === "friend") && e.code === "symmetric-nat")
            ),
          20_000,
          "bob's decision not to punch",
        );
        // Where alice asked, the coordinator passed bob's reason on, and she tried no other.
        for (const e of alice.events()) {
          if (e.type !== "punch" || e.ok || e.peer !== "bob" || e.code !== "coordinators-failed") {
            continue;
          }
          assert.equal(e.attempts.length, 1, JSON.stringify(e));
          assert.ok(
            ["anchor", "friend"].includes(e.attempts[0]!.via) &&
              e.attempts[0]!.code === "target-symmetric-nat",
            JSON.stringify(e),
          );
        }
        // No punch waited for its timeout: none was sent where it could not arrive.
        for (const p of [alice, bob]) {
          for (const e of p.events()) {
            if (e.type !== "punch") continue;
            assert.ok(!e.ok, `a punched path: ${JSON.stringify(e)}`);
            assert.ok(
              e.attempts.every((a) => a.code !== "no-answer" && a.code !== "probe-failed"),
              `a punch that waited for an answer: ${JSON.stringify(e)}`,
            );
          }
        }
      } catch (err) {
        for (const p of started) console.log(p.output());
        throw err;
      }
    } finally {
      await Promise.all(started.map((p) => p.stop()));
      for (const d of [a!, b!, f!, anchor!]) {
        await Deno.remove(d.dir, { recursive: true }).catch(() => {});
      }
    }
  },
);
