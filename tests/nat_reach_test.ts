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
        await until(
          () => /not reachable from outside \(dial-back failed\)/.test(alice.output()),
          30_000,
          "alice finds she is behind NAT",
        );
        await until(
          () =>
            /published address record \d+: .*\(not reachable from outside; [1-4] relay\(s\) named\)/
              .test(alice.output()),
          10_000,
          "alice's record names her relays",
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
        await until(
          () => /behind a symmetric NAT: /.test(bob.output()),
          30_000,
          "bob finds he is behind a symmetric NAT",
        );
        assert.match(
          bob.output(),
          /behind a symmetric NAT: 10\.99\.0\.1:702[23] saw our UDP endpoint at port \d+, 10\.99\.0\.1:702[23] at port \d+: the NAT maps each destination to a new port/,
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
            /not punching to alice: behind a symmetric NAT|alice asks for a punched path, via (anchor|friend): refused, we are behind a symmetric NAT/
              .test(bob.output()),
          20_000,
          "bob's decision not to punch",
        );
        // Where alice asked, the coordinator passed bob's reason on, and she tried no other.
        for (const m of alice.output().matchAll(/cannot punch to bob: (.*)/g)) {
          assert.match(
            m[1]!,
            /^via (anchor|friend): the target is behind a symmetric NAT: no punched path; a relay is the way$/,
          );
        }
        // No punch waited for its timeout: none was sent where it could not arrive.
        assert.doesNotMatch(
          alice.output() + bob.output(),
          /no QUIC answer|may map each destination to a new port|punched a UDP path/,
        );
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
