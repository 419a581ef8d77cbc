/**
 * Relaying behind real NAT (scripts/netlab.sh, as root). The hive's anchor is
 * down; alice (homeA) and bob (homeB, a symmetric NAT, so no punched path)
 * both reach their friend on the wan directly, find by dial-back that nobody
 * can dial them, name the friend as their relay, and chat through it. A
 * friend started with --no-relay is not named as a relay, so they stay apart.
 * And what a relay sees of a chat it splices: ciphertext only.
 */
import assert from "node:assert/strict";
import { until } from "../testing/nodes.ts";
import { callNode, type NodeProcess, peerOf, spawnNode } from "../testing/processes.ts";
import {
  LAB,
  labTest,
  makeDataDir,
  type NetLab,
  seedContacts,
  startLabHive,
  startNetLab,
} from "../testing/netlab.ts";
import type { NodeEvent, StatusView } from "../node/api/mod.ts";
import { TAP_FILE } from "../testing/tapped_anchor.ts";

const TAPPED_ANCHOR = new URL("../testing/tapped_anchor.ts", import.meta.url).pathname;

/** A relay's splice between alice and bob, either way. */
const spliced = (e: NodeEvent) =>
  e.type === "relay" && e.state === "spliced" &&
  ((e.from === "alice" && e.to === "bob") || (e.from === "bob" && e.to === "alice"));

async function reads(p: NodeProcess, chat: string, text: string): Promise<boolean> {
  return ((await callNode(p, "read", { chat })) as Array<{ body: string }>).some((m) =>
    m.body === text
  );
}

interface Friends extends AsyncDisposable {
  readonly alice: NodeProcess;
  readonly bob: NodeProcess;
  readonly friend: NodeProcess;
}

/** alice and bob behind NAT, their friend on the wan; the anchor they share is known to all but never runs. */
async function startFriends(lab: NetLab, friendArgs: string[] = []): Promise<Friends> {
  const [a, b, f, anchor] = await Promise.all(
    ["alice", "bob", "friend", "anchor"].map((n) => makeDataDir(n)),
  );
  const friendAt = `${LAB.wan}:7023`;
  await seedContacts(f!.dir, [
    { publicKey: a!.publicKey, name: "alice" },
    { publicKey: b!.publicKey, name: "bob" },
  ]);
  for (const [me, other, otherName] of [[a!, b!, "bob"], [b!, a!, "alice"]] as const) {
    await seedContacts(me.dir, [
      {
        publicKey: anchor!.publicKey,
        name: "anchor",
        addresses: [`${LAB.wan}:7022`],
        anchor: true,
      },
      { publicKey: f!.publicKey, name: "friend", addresses: [friendAt] },
      { publicKey: other.publicKey, name: otherName },
    ]);
  }
  const started: NodeProcess[] = [];
  const stopAll = async () => {
    await Promise.all(started.map((p) => p.stop()));
    for (const d of [a!, b!, f!, anchor!]) {
      await Deno.remove(d.dir, { recursive: true }).catch(() => {});
    }
  };
  try {
    const friend = await spawnNode(f!.dir, friendAt, "friend", {
      netns: lab.ns("wan"),
      args: friendArgs,
    });
    started.push(friend);
    const [alice, bob] = await Promise.all([
      spawnNode(a!.dir, "0.0.0.0:7022", "alice", { netns: lab.ns("homeA") }),
      spawnNode(b!.dir, "0.0.0.0:7022", "bob", { netns: lab.ns("homeB") }),
    ]);
    started.push(alice!, bob!);
    return { alice: alice!, bob: bob!, friend, [Symbol.asyncDispose]: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

labTest(
  "nat relay: with the anchor down, NATed peers reach a public friend directly and it relays",
  async () => {
    await using lab = await startNetLab({ symmetricB: true });
    await using hive = await startFriends(lab);
    const { alice, bob, friend } = hive;
    try {
      await until(
        async () => (await peerOf(alice, "friend"))?.path === "direct",
        20_000,
        "alice reaches her friend directly",
      );
      assert.equal((await peerOf(alice, "friend"))?.address, `${LAB.wan}:7023`);
      assert.notEqual((await peerOf(alice, "anchor"))?.state, "connected");
      await until(
        async () => (await peerOf(alice, "bob"))?.path === "relayed",
        60_000,
        "alice's session with bob through the friend",
      );
      const view = (await peerOf(alice, "bob"))!;
      assert.equal(view.via, "friend");
      assert.equal((await peerOf(bob, "alice"))?.path, "relayed");
      await until(
        () =>
          [alice, bob].some((p) =>
            p.events().some((e) =>
              e.type === "reachability" && !e.reachable && e.how === "dial-back-failed"
            )
          ),
        5000,
        "a dial-back that failed",
      );
      await callNode(alice, "send", { chat: "bob", text: "via our friend" });
      await until(() => reads(bob, "alice", "via our friend"), 10_000, "bob reads alice");
      await callNode(bob, "send", { chat: "alice", text: "and back via our friend" });
      await until(() => reads(alice, "bob", "and back via our friend"), 10_000, "alice reads bob");
      await until(
        () => friend.events().some(spliced),
        5000,
        "the friend's splice of their session",
      );
    } catch (err) {
      for (const p of [friend, alice, bob]) console.log(p.output());
      throw err;
    }
  },
);

labTest(
  "nat relay: a friend running --no-relay is not named as a relay, and the two stay apart",
  async () => {
    await using lab = await startNetLab({ symmetricB: true });
    await using hive = await startFriends(lab, ["--no-relay"]);
    const { alice, bob, friend } = hive;
    try {
      // Nobody names a friend that does not relay: alice and bob find no relay for each other.
      await alice.waitForEvent("reachability", (e) => !e.reachable, {
        timeoutMs: 30_000,
        what: "alice finds she is behind NAT",
      });
      const named = await alice.waitForEvent("relays-named", (e) => e.reachable === false, {
        timeoutMs: 10_000,
        what: "what alice's record names once she knows",
      });
      assert.deepEqual(named.relays, [], "a --no-relay friend is not named");
      // The cascade's pass that published it ran to its end without reaching bob.
      await alice.waitForEvent("cascade", (e) => e.state === "done", {
        after: alice.events().indexOf(named),
        timeoutMs: 60_000,
        what: "alice's cascade run with her verdict to end",
      });
      assert.notEqual((await peerOf(alice, "bob"))?.state, "connected");
      assert.ok(!friend.events().some(spliced), "the friend spliced nothing");
      for (const p of [alice, bob]) {
        assert.ok(
          p.events().every((e) => e.type !== "relays-named" || e.relays.length === 0),
          "nobody names a relay",
        );
      }
    } catch (err) {
      for (const p of [friend, alice, bob]) console.log(p.output());
      throw err;
    }
  },
);

labTest(
  "nat relay: the anchor relaying a chat between NATed peers sees no plaintext of it",
  async () => {
    await using lab = await startNetLab({ symmetricB: true });
    // The anchor writes every byte it splices to a file in its data folder.
    await using hive = await startLabHive(lab, { anchorMain: TAPPED_ANCHOR });
    const { alice, bob, anchor } = hive;
    try {
      await until(
        async () => (await peerOf(alice, "bob"))?.path === "relayed",
        60_000,
        "alice's relayed session with bob",
      );
      await until(async () => (await peerOf(bob, "alice"))?.path === "relayed", 5000, "bob's side");
      const nonce = crypto.randomUUID();
      const texts = [`secret from alice ${nonce}`, `secret from bob ${nonce}`];
      await callNode(alice, "send", { chat: "bob", text: texts[0] });
      await callNode(bob, "send", { chat: "alice", text: texts[1] });
      await until(() => reads(bob, "alice", texts[0]!), 10_000, "bob reads alice");
      await until(() => reads(alice, "bob", texts[1]!), 10_000, "alice reads bob");
      const seen = new TextDecoder("latin1").decode(
        await Deno.readFile(`${anchor.dir}/${TAP_FILE}`),
      );
      const status = await callNode(anchor, "status", {}) as StatusView;
      // The tap sees the spliced stream: the inner SSH version lines are the only clear text in it.
      assert.match(seen, /^SSH-2\.0-/m);
      assert.ok(seen.length > 2000, `the relay spliced ${seen.length} bytes`);
      assert.ok((status.relay?.bytes ?? 0) >= seen.length, "the relay's accounting counts them");
      for (const t of [...texts, nonce]) {
        assert.ok(!seen.includes(t), `the relay saw "${t}" in the clear`);
      }
    } catch (err) {
      for (const p of [anchor, alice, bob]) console.log(p.output());
      throw err;
    }
  },
);
