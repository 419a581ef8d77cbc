/**
 * Reachability detection behind real NAT (scripts/netlab.sh, as root).
 *
 * Alice in home network A has a contact on the same LAN (bob in homeA2) and
 * the hive's anchor on the wan. Bob could dial her back at her LAN address,
 * but nobody outside her router can: only the anchor's (failing) dial-back
 * counts, so she publishes herself as not reachable, naming the anchor as
 * her relay, instead of as directly reachable.
 */
import assert from "node:assert/strict";
import { until } from "../node/_testing/nodes.ts";
import { callNode, type NodeProcess, peerOf, spawnNode } from "../node/_testing/processes.ts";
import { LAB, labTest, makeDataDir, seedContacts, startNetLab } from "../node/_testing/netlab.ts";
import type { StatusView } from "../node/api/mod.ts";

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
        await until(
          () => /not reachable from outside \(dial-back failed\)/.test(alice.output()),
          30_000,
          "alice finds she is behind NAT",
        );
        await until(
          () =>
            /published address record \d+: .*\(not reachable from outside; 1 relay\(s\) named\)/
              .test(alice.output()),
          10_000,
          "alice's record names the anchor as her relay",
        );
        assert.match(
          alice.output(),
          /not asking bob to dial us back: the peer (\(192\.168\.50\.3\) is on a subnet of ours|is on our LAN)/,
        );
        assert.doesNotMatch(alice.output(), /(^|[^t] )reachable from outside \(/m);
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
