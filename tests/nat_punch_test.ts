/**
 * Behind real NAT (scripts/netlab.sh, as root): alice in homeA and bob in
 * homeB, each behind its own masquerading router that drops new inbound
 * connections, and their anchor on the wan. Neither can dial the other; the
 * anchor coordinates a UDP hole punch and they chat over SSH inside QUIC.
 * With bob's router symmetric (a new port per destination) the punch fails
 * and says why (the relay is the way then).
 */
import assert from "node:assert/strict";
import { until } from "../testing/nodes.ts";
import { callNode, peerOf } from "../testing/processes.ts";
import { LAB, labTest, startLabHive, startNetLab } from "../testing/netlab.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** Whether `endpoint` is "host:port" at `host`. */
const atHost = (endpoint: string, host: string) =>
  endpoint.startsWith(`${host}:`) && /^\d+$/.test(endpoint.slice(host.length + 1));

/** `roj peers --data dir`, as a person would run it. */
async function rojPeers(dir: string): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-net",
      MAIN,
      "peers",
      "--data",
      dir,
    ],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  if (!out.success) throw new Error(`roj peers failed: ${dec.decode(out.stderr)}`);
  return dec.decode(out.stdout);
}

labTest("nat: two peers behind different NATs chat over a punched UDP path", async () => {
  await using lab = await startNetLab();
  await using hive = await startLabHive(lab);
  const { alice, bob } = hive;
  try {
    await until(
      async () => (await peerOf(alice, "bob"))?.path === "punched",
      40_000,
      "alice's punched session to bob",
    );
    await until(async () => (await peerOf(bob, "alice"))?.path === "punched", 5000, "bob's side");
    const seen = await peerOf(alice, "bob");
    // Bob's router's public address and the port it mapped bob's UDP endpoint to.
    assert.match(seen?.address ?? "", new RegExp(`^${LAB.natB.replaceAll(".", "\\.")}:\\d+$`));
    assert.match(await rojPeers(alice.dir), /bob +connected +punched \(udp\) 10\.99\.0\.3:\d+/);
    await callNode(alice, "send", { chat: "bob", text: "hello through two NATs" });
    await until(
      async () =>
        ((await callNode(bob, "read", { chat: "alice" })) as Array<{ body: string }>)
          .some((m) => m.body === "hello through two NATs"),
      10_000,
      "bob reads alice",
    );
    await callNode(bob, "send", { chat: "alice", text: "and back" });
    await until(
      async () =>
        ((await callNode(alice, "read", { chat: "bob" })) as Array<{ body: string }>)
          .some((m) => m.body === "and back"),
      10_000,
      "alice reads bob",
    );
    // Whoever asked (the smaller key goes first) told the path it punched.
    await until(
      () =>
        [...alice.events(), ...bob.events()].some((e) =>
          e.type === "punch" && e.ok && e.via === "anchor" &&
          ((e.peer === "bob" && atHost(e.endpoint, LAB.natB)) ||
            (e.peer === "alice" && atHost(e.endpoint, LAB.natA)))
        ),
      5000,
      "a punched path to the other's router, coordinated by the anchor",
    );
  } catch (err) {
    for (const p of [hive.anchor, alice, bob]) console.log(p.output());
    throw err;
  }
});

labTest(
  "nat: behind a symmetric NAT the punch fails and says why; they chat via the anchor's relay",
  async () => {
    await using lab = await startNetLab({ symmetricB: true });
    await using hive = await startLabHive(lab);
    const { alice, bob } = hive;
    try {
      // Its QUIC handshake to the endpoint the anchor saw gets no answer: the NAT on the way
      // maps each destination to a new port.
      await until(
        () =>
          [alice, bob].some((p) =>
            p.events().some((e) =>
              e.type === "punch" && !e.ok && ["alice", "bob"].includes(e.peer) &&
              e.attempts.some((a) => a.via === "anchor" && a.code === "no-answer")
            )
          ),
        40_000,
        "a punch attempt that fails",
      );
      // The relay is the way then: the anchor splices an SSH session between them.
      await until(
        async () => (await peerOf(alice, "bob"))?.path === "relayed",
        60_000,
        "alice's relayed session to bob",
      );
      // Bob keeps his side once the spliced session's hello arrives, a moment later.
      await until(async () => (await peerOf(bob, "alice"))?.path === "relayed", 5000, "bob's side");
      assert.match(await rojPeers(alice.dir), /bob +connected +relayed via anchor /);
      await callNode(alice, "send", { chat: "bob", text: "through the relay" });
      await until(
        async () =>
          ((await callNode(bob, "read", { chat: "alice" })) as Array<{ body: string }>)
            .some((m) => m.body === "through the relay"),
        10_000,
        "bob reads alice",
      );
      await callNode(bob, "send", { chat: "alice", text: "relayed back" });
      await until(
        async () =>
          ((await callNode(alice, "read", { chat: "bob" })) as Array<{ body: string }>)
            .some((m) => m.body === "relayed back"),
        10_000,
        "alice reads bob",
      );
      await hive.anchor.waitForEvent(
        "relay",
        // An anchor names its members by tags of its own (it keeps no name: issue 14).
        (e) => e.state === "spliced" && e.from !== e.to,
        { timeoutMs: 5000, what: "the anchor's splice of their session" },
      );
    } catch (err) {
      for (const p of [hive.anchor, alice, bob]) console.log(p.output());
      throw err;
    }
  },
);
