/**
 * Run by cascade_address_change_test.ts inside a fresh network namespace
 * (`unshare -rn`), where it may change the interface addresses for real:
 *
 * 1. alice listens on 0.0.0.0 with 10.77.0.1 on lo; bob (127.0.0.9) adds her
 *    from an invite. Then 10.77.0.2 is added: alice's poll of
 *    Deno.networkInterfaces sees it, she publishes a new record and bob
 *    learns 10.77.0.2 without any session having dropped.
 * 2. carol (a contact of alice, a raw session from here) tells alice in her
 *    hello that she sees her at 203.0.113.7: alice publishes a record with
 *    that address too, and hands it to every live session.
 *
 * Prints one line per step; exits non-zero on failure. Not a test file by
 * itself: outside a namespace it would listen on every interface.
 */
import { initProfile } from "../node/home/mod.ts";
import { generateKeyPair } from "../node/identity/mod.ts";
import { type NodeOptions, RojNode } from "../node/node.ts";
import { openRecord } from "../node/discovery/mod.ts";
import { check, decodeB64, FEATURES, RpcSession } from "../node/protocol/mod.ts";
import { dialSsh } from "../node/transport/mod.ts";
import { until } from "../testing/nodes.ts";
import type { NodeEvent } from "../node/api/mod.ts";

if (!Deno.env.get("ROJ_IN_NETNS")) {
  console.error("cascade_netns.ts runs only inside the namespace its test makes");
  Deno.exit(2);
}

async function ip(...args: string[]): Promise<void> {
  const out = await new Deno.Command("ip", { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`ip ${args.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
}

const logs: string[] = [];
const start = performance.now();
const logger = (who: string) => (line: string) =>
  logs.push(`${(performance.now() - start).toFixed(0).padStart(5)} ms [${who}] ${line}`);

async function open(
  name: string,
  options: Omit<NodeOptions, "dataDir">,
): Promise<{ node: RojNode; dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: `roj-netns-${name}-` });
  (await initProfile(dir, { name })).store.close();
  return { node: await RojNode.open({ dataDir: dir, log: logger(name), ...options }), dir };
}

await ip("link", "set", "lo", "up");
await ip("addr", "add", "10.77.0.1/32", "dev", "lo");

const alice = await open("alice", {
  listen: { host: "0.0.0.0", port: 0 },
  interfacePollMs: 100,
  dialTimeoutMs: 2000,
});
const bob = await open("bob", { listen: { host: "127.0.0.9", port: 0 }, dialTimeoutMs: 2000 });
const told: NodeEvent[] = [];
alice.node.subscribe((e) => told.push(e));
let failed = false;
try {
  await alice.node.start();
  const port = alice.node.address!.port;
  await bob.node.start();

  const invite = await alice.node.call("invite", {});
  if (invite.addresses.join() !== `10.77.0.1:${port}`) {
    throw new Error(`alice's invite names ${invite.addresses.join()}, not 10.77.0.1:${port}`);
  }
  await bob.node.call("add", { invite: invite.text });
  const bobSees = () => bob.node.contacts.byName("alice")?.addresses ?? [];
  await until(() => bobSees().includes(`10.77.0.1:${port}`), 5000, "bob has alice's record");
  console.log(`step 1: bob reached alice at 10.77.0.1:${port}`);

  // A new interface address: the poll must notice it; no session drops, so nothing else would.
  await ip("addr", "add", "10.77.0.2/32", "dev", "lo");
  await until(
    () => bobSees().includes(`10.77.0.2:${port}`),
    5000,
    "bob learns alice's new interface address",
  );
  if (
    !told.some((e) => e.type === "local-addresses" && e.addresses.includes("10.77.0.2"))
  ) {
    throw new Error("alice published without noticing the change");
  }
  console.log(`step 2: alice noticed 10.77.0.2 and bob learnt it: ${bobSees().join(", ")}`);

  // A peer reports seeing alice at an address she does not have (NAT, a VPS's public IP).
  const carol = await generateKeyPair("carol");
  await alice.node.contacts.add(carol.publicKey, "carol", [], Date.now(), ["notes"]);
  const client = await dialSsh({
    keyPair: carol,
    to: { host: "10.77.0.1", port },
    expectedKey: alice.node.publicKey,
    expectedName: "alice",
    localAddress: "127.0.0.10",
  });
  const rpc = new RpcSession(await client.openRoj(), {
    hello: { features: [...FEATURES], name: "carol", sees: "203.0.113.7:40000" },
  });
  const records: string[][] = [];
  rpc.handle("addr.mine", async (p) => {
    const params = check("addr.mine", "params", p);
    records.push((await openRecord(decodeB64(params.record), alice.node.publicKey)).addresses);
    return {};
  });
  rpc.handle("addr.put", () => Promise.resolve({ stored: 0 }));
  await rpc.ready;
  const seen = `203.0.113.7:${port}`;
  await until(() => records.some((r) => r.includes(seen)), 5000, "carol gets the new record");
  await until(() => bobSees().includes(seen), 5000, "bob gets the new record");
  console.log(
    `step 3: alice published what carol sees; carol and bob hold ${bobSees().join(", ")}`,
  );
  rpc.close();
  client.close();
} catch (err) {
  failed = true;
  console.log(`FAILED: ${(err as Error).message}`);
  console.log(logs.join("\n"));
} finally {
  await alice.node.close();
  await bob.node.close();
  for (const d of [alice.dir, bob.dir]) await Deno.remove(d, { recursive: true }).catch(() => {});
}
Deno.exit(failed ? 1 : 0);
