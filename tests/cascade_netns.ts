/**
 * Run by cascade_address_change_test.ts inside a fresh network namespace
 * (`unshare -rn`), where it may change the interface addresses for real:
 *
 * 1. alice listens on 0.0.0.0 with 10.77.0.1 on lo; bob (127.0.0.9) adds her
 *    from an invite. Then 10.77.0.2 is added: alice's poll of
 *    Deno.networkInterfaces sees it, she publishes a new record and bob
 *    learns 10.77.0.2 without any session having dropped.
 * 2. carol, erin and dave (contacts of alice, raw sessions from here) tell
 *    alice in their hellos where they see her: carol (from 127.0.0.10) and
 *    dave (from 10.88.0.1, another network) at 203.0.113.7, erin at a host
 *    name. Confirmed by two networks, alice publishes 203.0.113.7 and hands
 *    it to every live session; the host name never appears.
 *
 * Prints one line per step; exits non-zero on failure. Not a test file by
 * itself: outside a namespace it would listen on every interface.
 */
import { initProfile } from "../node/home/mod.ts";
import { generateKeyPair } from "../node/identity/mod.ts";
import { type NodeOptions, RojNode } from "../node/node.ts";
import { openRecord } from "../node/discovery/mod.ts";
import { decodeB64, FEATURES, RpcSession } from "../node/protocol/mod.ts";
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
): Promise<{ node: RojNode; dir: string; events: NodeEvent[] }> {
  const dir = await Deno.makeTempDir({ prefix: `roj-netns-${name}-` });
  (await initProfile(dir, { name })).store.close();
  const node = await RojNode.open({ dataDir: dir, log: logger(name), ...options });
  const events: NodeEvent[] = [];
  node.subscribe((e) => events.push(e));
  return { node, dir, events };
}

await ip("link", "set", "lo", "up");
await ip("addr", "add", "10.77.0.1/32", "dev", "lo");

const alice = await open("alice", {
  listen: { host: "0.0.0.0", port: 0 },
  interfacePollMs: 100,
  dialTimeoutMs: 2000,
});
const bob = await open("bob", { listen: { host: "127.0.0.9", port: 0 }, dialTimeoutMs: 2000 });
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
  const noticed = alice.events.some((e) =>
    e.type === "local-addresses" && e.addresses.includes("10.77.0.2")
  );
  if (!noticed) throw new Error("alice published without noticing the change");
  console.log(`step 2: alice noticed 10.77.0.2 and bob learnt it: ${bobSees().join(", ")}`);

  // Peers report seeing alice at an address she does not have (NAT, a VPS's public IP).
  // One contact's word is not enough (it could name anyone's address, or a host name):
  // the address is published once contacts on two networks report it.
  await ip("addr", "add", "10.88.0.1/32", "dev", "lo");
  await ip("addr", "add", "10.99.0.1/32", "dev", "lo");
  const records: string[][] = [];
  const reporter = async (name: string, from: string, sees: string) => {
    const key = await generateKeyPair(name);
    await alice.node.contacts.add(key.publicKey, name, [], Date.now(), ["notes"]);
    const client = await dialSsh({
      keyPair: key,
      to: { host: "10.77.0.1", port },
      expectedKey: alice.node.publicKey,
      expectedName: "alice",
      localAddress: from,
    });
    const rpc = new RpcSession(await client.openRoj(), {
      hello: { features: [...FEATURES], name, sees },
    });
    rpc.handle("addr.mine", async (params) => {
      records.push((await openRecord(decodeB64(params.record), alice.node.publicKey)).addresses);
      return {};
    });
    rpc.handle("addr.put", () => Promise.resolve({ stored: 0 }));
    await rpc.ready;
    return () => (rpc.close(), client.close());
  };
  const sessionUp = (name: string) =>
    new Promise<void>((resolve) => {
      const off = alice.node.subscribe((e) => {
        if (e.type === "session" && e.state === "up" && e.peer === name) {
          off();
          resolve();
        }
      });
    });
  const seen = `203.0.113.7:${port}`;
  const upCarol = sessionUp("carol");
  const closeCarol = await reporter("carol", "127.0.0.10", "203.0.113.7:40000");
  await upCarol;
  const closeErin = await reporter("erin", "10.99.0.1", "evil.example:40000");
  const closeDave = await reporter("dave", "10.88.0.1", "203.0.113.7:51000");
  await until(
    () => records.some((r) => r.includes(seen)),
    5000,
    "the reporters get the new record",
  );
  await until(() => bobSees().includes(seen), 5000, "bob gets the new record");
  if (records.some((r) => r.some((a) => a.includes("evil")))) {
    throw new Error("alice published a host name a peer reported");
  }
  console.log(
    `step 3: alice published what carol and dave (two networks) see; bob holds ${
      bobSees().join(", ")
    }`,
  );
  for (const close of [closeCarol, closeErin, closeDave]) close();
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
