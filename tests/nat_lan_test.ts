/**
 * Contacts on the same LAN (scripts/netlab.sh --lan-a, as root): alice in
 * homeA and bob in homeA2 publish only dead addresses and have no anchor, so
 * the only way they meet is a multicast announcement on their home network.
 * Carol in homeA3 is on the same LAN but no contact of theirs: a capture of
 * what she receives holds no key, fingerprint or name of theirs.
 */
import assert from "node:assert/strict";
import { fingerprint, generateKeyPair } from "../node/identity/mod.ts";
import { decodeAnnouncement, LAN_GROUP, LAN_PORT, TAG_BUCKET } from "../node/lan/mod.ts";
import { toHex } from "../node/log/mod.ts";
import { until } from "../testing/nodes.ts";
import { callNode, type NodeProcess, spawnNode } from "../testing/processes.ts";
import {
  LAB,
  labTest,
  makeDataDir,
  seedContacts,
  SIDE,
  SIDE6,
  startNetLab,
} from "../testing/netlab.ts";
import type { PeerView } from "../node/api/mod.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

const peer = async (p: NodeProcess, name: string) =>
  ((await callNode(p, "peers", {})) as PeerView[]).find((x) => x.name === name);

/** Every datagram to the LAN group that reaches a host, as "source hex" lines on stdout. */
const CAPTURE = `
const s = Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: ${LAN_PORT}, reuseAddress: true });
await s.joinMulticastV4("${LAN_GROUP}", Deno.args[0]);
console.log("ready");
for await (const [d, from] of s) {
  console.log(from.hostname + " " + Array.from(d, (b) => b.toString(16).padStart(2, "0")).join(""));
}`;

labTest(
  "lan: contacts on one LAN find each other by multicast; a stranger there learns nothing",
  async () => {
    await using lab = await startNetLab({ lanA: true });
    const [a, b, c, d] = await Promise.all(
      ["alice", "bob", "carol", "dave"].map((n) => makeDataDir(n)),
    );
    await seedContacts(a!.dir, [{ publicKey: b!.publicKey, name: "bob" }]);
    // Bob has five contacts, alice one: their announcements must not tell.
    const more = await Promise.all([1, 2, 3, 4].map((i) => generateKeyPair(`friend${i}`)));
    await seedContacts(b!.dir, [
      { publicKey: a!.publicKey, name: "alice" },
      ...more.map((k, i) => ({ publicKey: k.publicKey, name: `friend${i + 1}` })),
    ]);
    // Carol announces too (to dave, who is elsewhere), and is nobody's contact here.
    await seedContacts(c!.dir, [{ publicKey: d!.publicKey, name: "dave" }]);

    const capture = lab.command("homeA3", [
      Deno.execPath(),
      "eval",
      "--unstable-net",
      CAPTURE,
      LAB.homeA3,
    ], { stdout: "piped", stderr: "piped" }).spawn();
    const lines: string[] = [];
    const reading = (async () => {
      const dec = new TextDecoder();
      let buf = "";
      for await (const chunk of capture.stdout) {
        buf += dec.decode(chunk);
        const parts = buf.split("\n");
        buf = parts.pop()!;
        lines.push(...parts);
      }
    })();
    const started: NodeProcess[] = [];
    try {
      await until(() => lines.includes("ready"), 15_000, "the capture to listen");
      // Published addresses where nothing listens: only the LAN can bring them together.
      const dead = ["--advertise", "192.168.50.254:9"];
      const spawn = async (dir: string, name: string, host: "homeA" | "homeA2" | "homeA3") => {
        const p = await spawnNode(dir, "0.0.0.0:7022", name, { netns: lab.ns(host), args: dead });
        started.push(p);
        return p;
      };
      const carol = await spawn(c!.dir, "carol", "homeA3");
      const [alice, bob] = await Promise.all([
        spawn(a!.dir, "alice", "homeA"),
        spawn(b!.dir, "bob", "homeA2"),
      ]);
      try {
        await until(
          async () => (await peer(alice, "bob"))?.path === "lan",
          20_000,
          "alice meets bob",
        );
        await until(async () => (await peer(bob, "alice"))?.path === "lan", 5000, "bob's side");
        // Whoever dialled, alice's session runs to bob's LAN address.
        assert.match((await peer(alice, "bob"))?.address ?? "", /^192\.168\.50\.3:\d+$/);
        await callNode(alice, "send", { chat: "bob", text: "hello across the room" });
        await until(
          async () =>
            ((await callNode(bob, "read", { chat: "alice" })) as Array<{ body: string }>)
              .some((m) => m.body === "hello across the room"),
          10_000,
          "bob reads alice",
        );
        await callNode(bob, "send", { chat: "alice", text: "hi back" });
        await until(
          async () =>
            ((await callNode(alice, "read", { chat: "bob" })) as Array<{ body: string }>)
              .some((m) => m.body === "hi back"),
          10_000,
          "alice reads bob",
        );
        const peers = await new Deno.Command(Deno.execPath(), {
          args: ["run", "--quiet", "--allow-all", MAIN, "peers", "--data", alice.dir],
          env: { NO_COLOR: "1" },
          stdout: "piped",
        }).output();
        assert.match(
          new TextDecoder().decode(peers.stdout),
          // Whoever dialled first: bob's listening port, or his host when he dialled in.
          /bob +connected +lan 192\.168\.50\.3(:\d+| \(dialled in\))/,
        );
        // Carol got the announcements and reached nobody.
        await until(
          () => [LAB.homeA, LAB.homeA2].every((ip) => lines.some((l) => l.startsWith(`${ip} `))),
          10_000,
          "the capture to hear alice and bob",
        );
        assert.equal((await peer(carol, "dave"))?.state === "connected", false);
        // She recognised nobody, met nobody, and nothing she told names them.
        assert.ok(
          !carol.events().some((e) =>
            e.type === "lan-heard" || e.type === "session" || e.type === "dial-failed"
          ),
          JSON.stringify(carol.events()),
        );
        const told = JSON.stringify(carol.events());
        for (const x of [a!, b!]) {
          for (const s of [toHex(x.publicKey), fingerprint(x.publicKey)]) {
            assert.ok(!told.includes(s), `carol told ${s}`);
          }
        }
        assert.doesNotMatch(told, /alice|bob/);
      } catch (err) {
        for (const p of started) console.log(p.output());
        throw err;
      }

      // What carol's host received: well-formed announcements with nothing of theirs in the clear.
      const secrets = [a!, b!].flatMap((x) => [
        toHex(x.publicKey),
        toHex(x.publicKey.subarray(0, 8)),
        toHex(x.publicKey.subarray(24)),
        toHex(new TextEncoder().encode(fingerprint(x.publicKey))),
      ]).concat(["alice", "bob"].map((n) => toHex(new TextEncoder().encode(n))));
      const fromThem = lines.filter((l) => /^192\.168\.50\.[23] /.test(l));
      assert.ok(fromThem.length >= 2, `captured ${fromThem.length} announcements`);
      for (const l of fromThem) {
        const hex = l.split(" ")[1]!;
        for (const s of secrets) assert.ok(!hex.includes(s), `announcement ${hex} holds ${s}`);
        const bytes = Uint8Array.from(hex.match(/../g)!, (x) => parseInt(x, 16));
        const ann = decodeAnnouncement(bytes);
        assert.ok(ann, `a well-formed announcement: ${hex}`);
        assert.equal(ann.port, 7022);
        assert.equal(ann.tags.length, TAG_BUCKET); // padded: one contact or five
      }
      assert.ok(fromThem.some((l) => l.startsWith(`${LAB.homeA} `)));
      assert.ok(fromThem.some((l) => l.startsWith(`${LAB.homeA2} `)));
    } finally {
      await Promise.all(started.map((p) => p.stop()));
      capture.kill("SIGTERM");
      await capture.status;
      await reading.catch(() => {});
      for (const x of [a, b, c, d]) await Deno.remove(x!.dir, { recursive: true }).catch(() => {});
    }
  },
);

/**
 * Alice (homeA) and bob (homeB) sit behind different NATs, with no anchor and
 * only dead addresses published; they also share a second network (eth1) that
 * is neither's default route. Only announcements sent on that interface, not
 * just the default route's, bring them together. Over IPv4, bob's eth1 is
 * plugged in only after he started, as a laptop's cable is.
 */
for (const family of ["ipv4", "ipv6"] as const) {
  labTest(
    `lan: contacts sharing only a second network (${family}${
      family === "ipv6" ? " only" : ""
    }, not the default route) find each other over it`,
    async () => {
      await using lab = await startNetLab({ sideAB: family });
      const [a, b] = await Promise.all(["alice", "bob"].map((n) => makeDataDir(n)));
      await seedContacts(a!.dir, [{ publicKey: b!.publicKey, name: "bob" }]);
      await seedContacts(b!.dir, [{ publicKey: a!.publicKey, name: "alice" }]);
      const side = family === "ipv4" ? SIDE : SIDE6;
      // IPv6 announcements only go out from a server that takes IPv6.
      const listen = family === "ipv4" ? "0.0.0.0:7022" : "[::]:7022";
      const dead = ["--advertise", "192.168.50.254:9"];
      const started: NodeProcess[] = [];
      const late = family === "ipv4";
      if (late) {
        // Without IPv6 there, its interface list does not change when it comes up.
        await lab.run("homeB", ["sysctl", "-qw", "net.ipv6.conf.eth1.disable_ipv6=1"]);
        await lab.run("homeB", ["ip", "link", "set", "eth1", "down"]);
      }
      try {
        const [alice, bob] = await Promise.all([
          spawnNode(a!.dir, listen, "alice", { netns: lab.ns("homeA"), args: dead }),
          spawnNode(b!.dir, listen, "bob", { netns: lab.ns("homeB"), args: dead }),
        ]);
        started.push(alice, bob);
        try {
          if (late) {
            // Announcements fail there while it is down: alice cannot hear bob yet.
            await bob.waitForEvent("lan-announce", (e) => e.interface === "eth1" && !e.ok, {
              timeoutMs: 15_000,
              what: "bob's announcement on eth1 failing while it is down",
            });
            assert.notEqual((await peer(alice, "bob"))?.state, "connected");
            assert.ok(!alice.events().some((e) => e.type === "lan-heard"), "alice heard bob");
            await lab.run("homeB", ["ip", "link", "set", "eth1", "up"]);
          }
          // Once the cable is in, within a few polls (5 s), not at the next 30 s announcement.
          await until(
            async () => (await peer(alice, "bob"))?.path === "lan",
            late ? 15_000 : 20_000,
            "alice meets bob",
          );
          await until(async () => (await peer(bob, "alice"))?.path === "lan", 5000, "bob's side");
          const at = (await peer(alice, "bob"))?.address ?? "";
          const expected = family === "ipv4" ? `${side.homeB}:` : `[${side.homeB}]:`;
          assert.ok(at.startsWith(expected), `alice reaches bob at ${at}`);
          await callNode(alice, "send", { chat: "bob", text: "over the side network" });
          await until(
            async () =>
              ((await callNode(bob, "read", { chat: "alice" })) as Array<{ body: string }>)
                .some((m) => m.body === "over the side network"),
            10_000,
            "bob reads alice",
          );
        } catch (err) {
          for (const p of started) console.log(p.output());
          throw err;
        }
      } finally {
        await Promise.all(started.map((p) => p.stop()));
        for (const x of [a, b]) await Deno.remove(x!.dir, { recursive: true }).catch(() => {});
      }
    },
  );
}
