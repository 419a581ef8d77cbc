/**
 * Port mapping behind real NAT (scripts/netlab.sh, as root, with Debian's
 * miniupnpd): natA runs miniupnpd (UPnP-IGD and NAT-PMP, nftables backend).
 * alice in homeA asks it to forward her listen port, publishes the mapped
 * address in her sealed record, and her friend on the wan, who learns it from
 * the anchor, dials her there directly. With --no-upnp nothing is mapped.
 * A node that stops removes every mapping it made (TCP and UDP, by UPnP-IGD
 * and by NAT-PMP), renews a short lease for as long as it runs, and
 * `roj status` shows the mapping or why there is none. The NAT-PMP gateway
 * comes from the route table where Deno may read it.
 */
import assert from "node:assert/strict";
import { until } from "../testing/nodes.ts";
import type { NodeEvent, PortMapView, StatusView } from "../node/api/mod.ts";
import { callNode, type NodeProcess, peerOf, spawnNode } from "../testing/processes.ts";
import {
  LAB,
  labTest,
  makeDataDir,
  type NetLab,
  seedContacts,
  startNetLab,
} from "../testing/netlab.ts";

/** natA's public address once `netlab.sh upnp-a` ran (miniupnpd maps on it). */
const MAPPED_IP = "11.99.0.2";
const SCRIPT = new URL("../scripts/netlab.sh", import.meta.url).pathname;
const MAIN = new URL("../main.ts", import.meta.url).pathname;

function miniupnpdMissing(): boolean {
  try {
    return !Deno.statSync("/usr/sbin/miniupnpd").isFile;
  } catch {
    return true;
  }
}

function portmapTest(name: string, fn: () => Promise<void>): void {
  if (miniupnpdMissing()) {
    Deno.test({
      name: `${name} (skipped: needs miniupnpd: apt-get install miniupnpd)`,
      ignore: true,
      fn,
    });
    return;
  }
  labTest(name, fn);
}

/** Turns natA into a mapping router (UPnP-IGD and NAT-PMP, or NAT-PMP only). */
async function upnpRouter(lab: NetLab, pmpOnly = false): Promise<void> {
  const prefix = lab.ns("natA").replace(/-natA$/, "");
  const out = await new Deno.Command("bash", {
    args: [SCRIPT, "upnp-a", ...(pmpOnly ? ["--pmp-only"] : [])],
    env: { NETLAB_PREFIX: prefix },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`netlab.sh upnp-a: ${new TextDecoder().decode(out.stderr)}`);
}

/** The DNAT rules miniupnpd holds on natA. */
function mappings(lab: NetLab): Promise<string> {
  return lab.run("natA", ["nft", "list", "chain", "inet", "roj_upnp", "prerouting_miniupnpd"]);
}

/** Alice's mappings of TCP and UDP on port 7022 removed, in one go. */
const removedBoth = (e: NodeEvent) =>
  e.type === "port-map" && e.state === "removed" &&
  JSON.stringify(e.mappings) ===
    JSON.stringify([{ protocol: "tcp", port: 7022 }, { protocol: "udp", port: 7022 }]);

/** What the node's status API says of its port mapping. */
async function portMapOf(p: NodeProcess): Promise<PortMapView | undefined> {
  return ((await callNode(p, "status", {})) as StatusView).portMap;
}

/** `roj status`'s "port mapping:" line, from the real CLI. */
async function statusLine(p: NodeProcess): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--allow-all", MAIN, "status", "--data", p.dir],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  return text.split("\n").find((l) => l.startsWith("port mapping:")) ?? `(none in: ${text})`;
}

interface Pair extends AsyncDisposable {
  readonly alice: NodeProcess;
  readonly friend: NodeProcess;
}

/**
 * alice in homeA and her friend on the wan. She has no address for him, so
 * she cannot dial out; he has her router's public address with her usual port
 * (as a person types in a port forward), so only an inbound mapping joins them.
 */
async function startPair(lab: NetLab, aliceArgs: string[]): Promise<Pair> {
  const [a, f] = await Promise.all(["alice", "friend"].map((n) => makeDataDir(n)));
  await seedContacts(a!.dir, [{ publicKey: f!.publicKey, name: "friend" }]);
  await seedContacts(f!.dir, [
    { publicKey: a!.publicKey, name: "alice", addresses: [`${MAPPED_IP}:7022`] },
  ]);
  const started: NodeProcess[] = [];
  const stopAll = async () => {
    await Promise.all(started.map((p) => p.stop()));
    for (const d of [a!, f!]) await Deno.remove(d.dir, { recursive: true }).catch(() => {});
  };
  try {
    const alice = await spawnNode(a!.dir, "0.0.0.0:7022", "alice", {
      netns: lab.ns("homeA"),
      args: aliceArgs,
    });
    started.push(alice);
    const friend = await spawnNode(f!.dir, `${LAB.wan}:7022`, "friend", {
      netns: lab.ns("wan"),
      args: ["--no-upnp"],
    });
    started.push(friend);
    return { alice, friend, [Symbol.asyncDispose]: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

portmapTest(
  "nat portmap: the router maps alice's port, she publishes it, and her friend on the wan dials her there",
  async () => {
    await using lab = await startNetLab();
    await upnpRouter(lab);
    await using pair = await startPair(lab, []);
    const { alice, friend } = pair;
    try {
      const mapped = await alice.waitForEvent("port-map", (e) => e.state === "mapped", {
        timeoutMs: 10_000,
        what: "alice's router maps her port",
      });
      assert.deepEqual(mapped, {
        type: "port-map",
        state: "mapped",
        method: "upnp",
        gateway: "192.168.50.1",
        external: "11.99.0.2:7022",
        internal: "192.168.50.2:7022",
        protocols: ["tcp", "udp"],
        leaseSeconds: 3600,
      });
      const rules = await mappings(lab);
      assert.match(rules, /0x6 th dport 7022 dnat ip to 192\.168\.50\.2:7022/, "TCP mapped");
      assert.match(rules, /0x11 th dport 7022 dnat ip to 192\.168\.50\.2:7022/, "UDP mapped");
      // He dialled her: she knows no address of his.
      await until(
        async () => {
          const v = await peerOf(friend, "alice");
          return v?.path === "direct" && v.address === `${MAPPED_IP}:7022`;
        },
        30_000,
        "the friend reaches alice at her mapped address",
      );
      await friend.waitForEvent(
        "session",
        (e) =>
          e.state === "up" && e.peer === "alice" && e.remote === `${MAPPED_IP}:7022` &&
          e.direction === "out" && e.path === "direct",
        { timeoutMs: 5000, what: "the friend dialled alice at her mapped address" },
      );
      // The mapped address goes first in her record (what a peer sees comes last), and the
      // friend gets it from her.
      await friend.waitForEvent(
        "record-learnt",
        (e) =>
          e.peer === "alice" && e.addresses[0] === `${MAPPED_IP}:7022` &&
          e.addresses[1] === "192.168.50.2:7022",
        { timeoutMs: 10_000, what: "alice's record with the mapped address first" },
      );
      // The friend's session is the evidence; with it first, no dial-back is asked for.
      const reachable = await alice.waitForEvent("reachability", (e) => e.reachable, {
        timeoutMs: 30_000,
        what: "alice finds she is reachable",
      });
      assert.ok(
        reachable.how === "dialled-back" ||
          (reachable.how === "inbound" && reachable.peer === "friend"),
        JSON.stringify(reachable),
      );
      const status = await portMapOf(alice);
      assert.equal(status?.state, "mapped");
      assert.equal(status?.method, "upnp");
      assert.equal(status?.gateway, "192.168.50.1");
      assert.equal(status?.external, "11.99.0.2:7022");
      assert.equal(status?.internal, "192.168.50.2:7022");
      assert.deepEqual(status?.protocols, ["tcp", "udp"]);
      assert.equal(status?.leaseSeconds, 3600);
      // Mapped when she started (a 1 h lease is not renewed yet), minutes ago at most under load.
      assert.ok(Date.now() - status!.renewedAt! < 5 * 60_000, "mapped a moment ago");
      assert.match(
        await statusLine(alice),
        /^port mapping: +UPnP-IGD 11\.99\.0\.2:7022 \(TCP, UDP\) -> 192\.168\.50\.2:7022, gateway 192\.168\.50\.1, renewed (just now|\d min ago), lease 1 h$/,
      );
      // Stopping removes both mappings from the router, UDP (QUIC) as well as TCP.
      await alice.stop();
      const after = await mappings(lab);
      assert.doesNotMatch(after, /0x6 th dport 7022/, "TCP unmapped");
      assert.doesNotMatch(after, /0x11 th dport 7022/, "UDP unmapped");
      assert.ok(alice.events().some(removedBoth), "alice says both mappings are removed");
    } catch (err) {
      for (const p of [alice, friend]) console.log(p.output());
      throw err;
    }
  },
);

portmapTest(
  "nat portmap: with --no-upnp alice asks for no mapping and her friend cannot dial in",
  async () => {
    await using lab = await startNetLab();
    await upnpRouter(lab);
    await using pair = await startPair(lab, ["--no-upnp"]);
    const { alice, friend } = pair;
    try {
      await friend.waitForEvent(
        "dial-failed",
        (e) => e.peer === "alice" && e.address === `${MAPPED_IP}:7022`,
        { timeoutMs: 20_000, what: "the friend's dial to alice's router fails" },
      );
      assert.doesNotMatch(await mappings(lab), /dnat/);
      assert.ok(!alice.events().some((e) => e.type === "port-map"), "alice asked for a mapping");
      assert.notEqual((await peerOf(friend, "alice"))?.state, "connected");
      assert.deepEqual(await portMapOf(alice), { state: "off", reason: "--no-upnp" });
      assert.match(await statusLine(alice), /^port mapping: +off \(--no-upnp\)$/);
    } catch (err) {
      for (const p of [alice, friend]) console.log(p.output());
      throw err;
    }
  },
);

portmapTest(
  "nat portmap: a router with NAT-PMP only maps alice's port after the UPnP search times out",
  async () => {
    await using lab = await startNetLab();
    await upnpRouter(lab, true);
    await using pair = await startPair(lab, []);
    const { alice, friend } = pair;
    try {
      const mapped = await alice.waitForEvent("port-map", (e) => e.state === "mapped", {
        timeoutMs: 15_000,
        what: "alice's router maps her port by NAT-PMP",
      });
      assert.ok(
        mapped.state === "mapped" && mapped.method === "nat-pmp" &&
          mapped.gateway === "192.168.50.1" && mapped.external === "11.99.0.2:7022" &&
          mapped.internal === "192.168.50.2:7022",
        JSON.stringify(mapped),
      );
      const rules = await mappings(lab);
      assert.match(rules, /0x6 th dport 7022 dnat ip to 192\.168\.50\.2:7022/, "TCP mapped");
      assert.match(rules, /0x11 th dport 7022 dnat ip to 192\.168\.50\.2:7022/, "UDP mapped");
      const status = await portMapOf(alice);
      assert.equal(status?.method, "nat-pmp");
      assert.equal(status?.external, "11.99.0.2:7022");
      assert.match(
        await statusLine(alice),
        /^port mapping: +NAT-PMP 11\.99\.0\.2:7022 \(TCP, UDP\)/,
      );
      await until(
        async () => {
          const v = await peerOf(friend, "alice");
          return v?.path === "direct" && v.address === `${MAPPED_IP}:7022`;
        },
        30_000,
        "the friend reaches alice at her mapped address",
      );
      // NAT-PMP removes by a "lifetime 0" request per protocol.
      await alice.stop();
      const after = await mappings(lab);
      assert.doesNotMatch(after, /0x6 th dport 7022/, "TCP unmapped");
      assert.doesNotMatch(after, /0x11 th dport 7022/, "UDP unmapped");
      assert.ok(alice.events().some(removedBoth), "alice says both mappings are removed");
    } catch (err) {
      for (const p of [alice, friend]) console.log(p.output());
      throw err;
    }
  },
);

/** A lease short enough to watch it renewed (seconds). */
const SHORT_LEASE_S = 5;

for (const pmpOnly of [false, true]) {
  const method = pmpOnly ? "NAT-PMP" : "UPnP-IGD";
  portmapTest(
    `nat portmap: a ${SHORT_LEASE_S} s ${method} lease is renewed while alice runs and ends when she dies`,
    async () => {
      await using lab = await startNetLab();
      await upnpRouter(lab, pmpOnly);
      const a = await makeDataDir("alice");
      const alice = await spawnNode(a.dir, "0.0.0.0:7022", "alice", {
        netns: lab.ns("homeA"),
        env: { ROJ_TEST_PORTMAP_LEASE_MS: String(SHORT_LEASE_S * 1000) },
      });
      try {
        const mapped = await alice.waitForEvent("port-map", (e) => e.state === "mapped", {
          timeoutMs: 15_000,
          what: `alice's router maps her port by ${method}`,
        });
        assert.ok(
          mapped.state === "mapped" && mapped.method === (pmpOnly ? "nat-pmp" : "upnp") &&
            mapped.leaseSeconds === SHORT_LEASE_S,
          JSON.stringify(mapped),
        );
        const first = (await portMapOf(alice))!;
        assert.equal(first.leaseSeconds, SHORT_LEASE_S);
        // Renewed at half the lease: three leases later the router still forwards both protocols.
        await until(
          async () =>
            ((await portMapOf(alice))?.renewedAt ?? 0) >=
              first.renewedAt! + 3 * SHORT_LEASE_S * 1000,
          3 * SHORT_LEASE_S * 1000 + 15_000,
          "a renewal three leases after the mapping",
        );
        const rules = await mappings(lab);
        assert.match(rules, /0x6 th dport 7022 dnat ip to 192\.168\.50\.2:7022/, "TCP kept");
        assert.match(rules, /0x11 th dport 7022 dnat ip to 192\.168\.50\.2:7022/, "UDP kept");
        const later = (await portMapOf(alice))!;
        assert.equal(later.state, "mapped");
        assert.equal(later.reason, undefined, "no renewal failed");
        const told = alice.events().filter((e) => e.type === "port-map");
        assert.ok(!told.some((e) => e.state === "renewal-failed"), "no renewal failed");
        assert.ok(
          told.filter((e) => e.state === "renewed").length >= 3,
          `renewed since: ${JSON.stringify(told)}`,
        );
        // The control: killed without a word, the router drops the mappings when the lease
        // ends, so it was the renewals that kept them.
        await alice.kill9();
        await until(
          async () => !/dport 7022/.test(await mappings(lab)),
          (SHORT_LEASE_S + 5) * 1000,
          "the router to drop the mappings when the lease ends",
        );
      } catch (err) {
        console.log(alice.output());
        throw err;
      } finally {
        await alice.stop();
        await Deno.remove(a.dir, { recursive: true }).catch(() => {});
      }
    },
  );
}

portmapTest(
  "nat portmap: with no mapping router alice's status says why there is no mapping",
  async () => {
    await using lab = await startNetLab();
    const a = await makeDataDir("alice");
    const alice = await spawnNode(a.dir, "0.0.0.0:7022", "alice", { netns: lab.ns("homeA") });
    try {
      await until(
        async () => (await portMapOf(alice))?.state === "none",
        20_000,
        "alice gives up looking for a mapping router",
      );
      const none = await alice.waitForEvent("port-map", (e) => e.state === "none");
      assert.deepEqual(none, {
        type: "port-map",
        state: "none",
        tried: [
          { method: "upnp", code: "no-gateway" },
          { method: "nat-pmp", code: "no-answer", gateway: "192.168.50.1" },
        ],
      });
      assert.match(await statusLine(alice), /^port mapping: +none \(no UPnP-IGD gateway answered;/);
    } catch (err) {
      console.log(alice.output());
      throw err;
    } finally {
      await alice.stop();
      await Deno.remove(a.dir, { recursive: true }).catch(() => {});
    }
  },
);

labTest(
  "nat portmap: the default gateway comes from the route table where Deno may read it, else it is guessed",
  async () => {
    await using lab = await startNetLab();
    // A router that is not the subnet's first host, so that a guess would be wrong.
    await lab.run("homeA", ["ip", "route", "replace", "default", "via", "192.168.50.254"]);
    const dir = await Deno.makeTempDir({ prefix: "roj-gateway-" });
    try {
      const script = `${dir}/gateway.ts`;
      const module = new URL("../node/portmap/gateway_address.ts", import.meta.url).href;
      await Deno.writeTextFile(
        script,
        `import { defaultGateway } from ${JSON.stringify(module)};\n` +
          "console.log(JSON.stringify(defaultGateway()));\n",
      );
      const gatewayWith = async (flags: string[]) => {
        const out = await lab.command("homeA", [
          Deno.execPath(),
          "run",
          "--quiet",
          "--no-config",
          ...flags,
          script,
        ], { stdout: "piped", stderr: "piped" }).output();
        const text = new TextDecoder().decode(out.stdout).trim();
        assert.ok(out.success, `${flags.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
        return JSON.parse(text);
      };
      // Deno 2.9 reads /proc only with --allow-all.
      assert.deepEqual(await gatewayWith(["--allow-all"]), {
        host: "192.168.50.254",
        source: "route table",
      });
      // Allowed to run `ip` (never prompted for): its route table.
      assert.deepEqual(await gatewayWith(["--allow-read", "--allow-sys", "--allow-run=ip"]), {
        host: "192.168.50.254",
        source: "route table",
      });
      // What the tasks grant: neither, so the subnet's first host is guessed.
      assert.deepEqual(await gatewayWith(["--allow-read", "--allow-sys"]), {
        host: "192.168.50.1",
        source: "guess",
      });
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
);
