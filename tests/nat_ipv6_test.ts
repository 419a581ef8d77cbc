/**
 * Global IPv6 as a direct path (scripts/netlab.sh --ipv6, as root): alice in
 * homeA and bob in homeB are behind IPv4 NAT, but each also has a global IPv6
 * address their routers forward. With no --listen option (the default, "::"),
 * each publishes it in its sealed address record beside its IPv4 ones; the
 * anchor passes the records on, and bob dials alice straight over IPv6 (IPv6
 * addresses first): no punch, no relay.
 */
import assert from "node:assert/strict";
import { until } from "../testing/nodes.ts";
import { callNode, type NodeProcess, spawnNode } from "../testing/processes.ts";
import { LAB, LAB6, labTest, makeDataDir, seedContacts, startNetLab } from "../testing/netlab.ts";
import type { PeerView, StatusView } from "../node/api/mod.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** `roj peers --data dir`, as a person would type it. */
async function rojPeers(dir: string): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-all", MAIN, "peers", "--data", dir],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
}

const peer = async (p: NodeProcess, name: string) =>
  ((await callNode(p, "peers", {})) as PeerView[]).find((x) => x.name === name);

labTest(
  "ipv6: NATed peers with global IPv6 addresses reach each other directly over it, by default",
  async () => {
    await using lab = await startNetLab({ ipv6: true });
    const [a, b, anchor] = await Promise.all(["alice", "bob", "anchor"].map((n) => makeDataDir(n)));
    const anchorAt = `${LAB.wan}:7022`;
    await seedContacts(anchor!.dir, [
      { publicKey: a!.publicKey, name: "alice" },
      { publicKey: b!.publicKey, name: "bob" },
    ]);
    for (const [me, other, otherName] of [[a!, b!, "bob"], [b!, a!, "alice"]] as const) {
      await seedContacts(me.dir, [
        { publicKey: anchor!.publicKey, name: "anchor", addresses: [anchorAt], anchor: true },
        { publicKey: other.publicKey, name: otherName },
      ]);
    }
    const started: NodeProcess[] = [];
    try {
      started.push(
        await spawnNode(anchor!.dir, anchorAt, "anchor", {
          netns: lab.ns("wan"),
          args: ["--passive", "--no-relay"],
        }),
      );
      // No UDP: the only paths left are direct ones.
      const args = ["--no-punch", "--no-lan"];
      const [alice, bob] = await Promise.all([
        spawnNode(a!.dir, null, "alice", { netns: lab.ns("homeA"), args }),
        spawnNode(b!.dir, null, "bob", { netns: lab.ns("homeB"), args }),
      ]);
      started.push(alice, bob);
      try {
        await until(
          async () => (await peer(alice, "bob"))?.state === "connected",
          30_000,
          "alice and bob to connect",
        );
        const views = [await peer(alice, "bob"), await peer(bob, "alice")];
        assert.ok(views.every((v) => v?.path === "direct"), JSON.stringify(views));
        const v6 = new RegExp(`^\\[(${LAB6.homeA}|${LAB6.homeB})\\]:\\d+$`);
        assert.ok(views.every((v) => v6.test(v?.address ?? "")), JSON.stringify(views));
        // The default listen is dual-stack, and `roj peers` shows the IPv6 path.
        const status = (await callNode(alice, "status", {})) as StatusView;
        assert.deepEqual(status.listen, ["[::]:7022"]);
        const lines = await rojPeers(bob.dir);
        // The port of a peer that dialled in is a temporary one: the host shows, and that it dialled.
        assert.match(
          lines,
          new RegExp(`alice +connected +direct \\[${LAB6.homeA}\\](:\\d+| \\(dialled in\\))`),
          lines,
        );
        // Alice's record, as bob learnt it: her global IPv6 address beside her IPv4 one.
        await bob.waitForEvent(
          "record-learnt",
          (e) =>
            e.peer === "alice" && e.addresses[0] === `${LAB.homeA}:7022` &&
            e.addresses[1] === `[${LAB6.homeA}]:7022`,
          { timeoutMs: 10_000, what: "alice's record with both her addresses" },
        );
        await callNode(alice, "send", { chat: "bob", text: "over v6" });
        await until(
          async () =>
            ((await callNode(bob, "read", { chat: "alice" })) as Array<{ body: string }>)
              .some((m) => m.body === "over v6"),
          10_000,
          "bob reads alice",
        );
        // No address is shown or told in its IPv4-mapped form.
        for (const p of started) {
          assert.doesNotMatch(p.output(), /::ffff:/i);
          assert.doesNotMatch(JSON.stringify(p.events()), /::ffff:/i);
        }
      } catch (err) {
        for (const p of started) console.log(p.output());
        throw err;
      }
    } finally {
      await Promise.all(started.map((p) => p.stop()));
      for (const x of [a, b, anchor]) {
        await Deno.remove(x!.dir, { recursive: true }).catch(
          () => {},
        );
      }
    }
  },
);
