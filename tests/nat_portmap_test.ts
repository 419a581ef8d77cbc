/**
 * Port mapping behind real NAT (scripts/netlab.sh, as root, with Debian's
 * miniupnpd): natA runs miniupnpd (UPnP-IGD and NAT-PMP, nftables backend).
 * alice in homeA asks it to forward her listen port, publishes the mapped
 * address in her sealed record, and her friend on the wan, who learns it from
 * the anchor, dials her there directly. With --no-upnp nothing is mapped.
 */
import assert from "node:assert/strict";
import { until } from "../node/_testing/nodes.ts";
import { type NodeProcess, peerOf, spawnNode } from "../node/_testing/processes.ts";
import {
  LAB,
  labTest,
  makeDataDir,
  type NetLab,
  seedContacts,
  startNetLab,
} from "../node/_testing/netlab.ts";

/** natA's public address once `netlab.sh upnp-a` ran (miniupnpd maps on it). */
const MAPPED_IP = "11.99.0.2";
const SCRIPT = new URL("../scripts/netlab.sh", import.meta.url).pathname;

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
      // Closing removes the TCP mapping from the router (the library leaves UDP to its lease, see portmap/).
      await alice.stop();
      assert.doesNotMatch(await mappings(lab), /0x6 th dport 7022/);
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
      assert.match(await mappings(lab), /0x6 th dport 7022 dnat ip to 192\.168\.50\.2:7022/);
      await until(
        async () => {
          const v = await peerOf(friend, "alice");
          return v?.path === "direct" && v.address === `${MAPPED_IP}:7022`;
        },
        30_000,
        "the friend reaches alice at her mapped address",
      );
    } catch (err) {
      for (const p of [alice, friend]) console.log(p.output());
      throw err;
    }
  },
);
