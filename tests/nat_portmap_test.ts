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
import type { PortMapView, StatusView } from "../node/api/mod.ts";
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
      await until(
        () =>
          /port mapped by UPnP-IGD gateway 192\.168\.50\.1: 11\.99\.0\.2:7022 -> 192\.168\.50\.2:7022/
            .test(alice.output()),
        10_000,
        "alice's router maps her port",
      );
      const rules = await mappings(lab);
      assert.match(rules, /0x6 th dport 7022 dnat ip to 192\.168\.50\.2:7022/, "TCP mapped");
      assert.match(rules, /0x11 th dport 7022 dnat ip to 192\.168\.50\.2:7022/, "UDP mapped");
      // The mapped address goes first in her record (what a peer sees comes last).
      await until(
        () =>
          /published address record \d+: 11\.99\.0\.2:7022, 192\.168\.50\.2:7022/.test(
            alice.output(),
          ),
        10_000,
        "alice publishes the mapped address",
      );
      // He dialled her: she knows no address of his.
      await until(
        async () => {
          const v = await peerOf(friend, "alice");
          return v?.path === "direct" && v.address === `${MAPPED_IP}:7022`;
        },
        30_000,
        "the friend reaches alice at her mapped address",
      );
      assert.match(friend.output(), /connected to alice \(11\.99\.0\.2:7022, we dialled\)/);
      await until(
        // The friend's session is the evidence; with it first, no dial-back is asked for.
        () =>
          /reachable from outside \((a peer dialled us back|friend dialled us from outside our networks)\)/
            .test(alice.output()),
        30_000,
        "alice finds she is reachable",
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
        /^port mapping: {2}UPnP-IGD 11\.99\.0\.2:7022 \(TCP, UDP\) -> 192\.168\.50\.2:7022, gateway 192\.168\.50\.1, renewed (just now|\d min ago), lease 1 h$/,
      );
      // Stopping removes both mappings from the router, UDP (QUIC) as well as TCP.
      await alice.stop();
      const after = await mappings(lab);
      assert.doesNotMatch(after, /0x6 th dport 7022/, "TCP unmapped");
      assert.doesNotMatch(after, /0x11 th dport 7022/, "UDP unmapped");
      assert.match(alice.output(), /port mapping: removed TCP 7022, UDP 7022/);
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
      await until(
        () => /cannot reach alice at 11\.99\.0\.2:7022/.test(friend.output()),
        20_000,
        "the friend's dial to alice's router fails",
      );
      assert.doesNotMatch(await mappings(lab), /dnat/);
      assert.doesNotMatch(alice.output(), /port mapp/);
      assert.notEqual((await peerOf(friend, "alice"))?.state, "connected");
      assert.deepEqual(await portMapOf(alice), { state: "off", reason: "--no-upnp" });
      assert.equal(await statusLine(alice), "port mapping:  off (--no-upnp)");
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
      await until(
        () =>
          /port mapped by NAT-PMP gateway 192\.168\.50\.1: 11\.99\.0\.2:7022 -> 192\.168\.50\.2:7022/
            .test(alice.output()),
        15_000,
        "alice's router maps her port by NAT-PMP",
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
      assert.match(alice.output(), /port mapping: removed TCP 7022, UDP 7022/);
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
        await until(
          () =>
            new RegExp(`port mapped by ${method}.*lease ${SHORT_LEASE_S} s`).test(alice.output()),
          15_000,
          `alice's router maps her port by ${method}`,
        );
        const first = (await portMapOf(alice))!;
        assert.equal(first.leaseSeconds, SHORT_LEASE_S);
        // Three leases later the router still forwards both protocols, renewed meanwhile.
        await new Promise((r) => setTimeout(r, 3 * SHORT_LEASE_S * 1000 + 1000));
        const rules = await mappings(lab);
        assert.match(rules, /0x6 th dport 7022 dnat ip to 192\.168\.50\.2:7022/, "TCP kept");
        assert.match(rules, /0x11 th dport 7022 dnat ip to 192\.168\.50\.2:7022/, "UDP kept");
        const later = (await portMapOf(alice))!;
        assert.equal(later.state, "mapped");
        assert.equal(later.reason, undefined, "no renewal failed");
        assert.ok(
          later.renewedAt! >= first.renewedAt! + 2 * SHORT_LEASE_S * 1000,
          `renewed since (${first.renewedAt} then ${later.renewedAt})`,
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
      const status = (await portMapOf(alice))!;
      assert.match(
        status.reason ?? "",
        /no UPnP-IGD gateway answered; NAT-PMP: NAT-PMP gateway 192\.168\.50\.1 did not answer/,
      );
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
