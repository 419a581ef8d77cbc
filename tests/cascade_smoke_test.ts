import assert from "node:assert/strict";
import { befriend, startTestNode, until } from "../node/_testing/nodes.ts";

Deno.test("cascade: two friends who both moved find each other through a stable third", async () => {
  const a = await startTestNode("alice", { host: "127.0.0.2" });
  await using b = await startTestNode("bob", { host: "127.0.0.3" });
  const c = await startTestNode("carol", { host: "127.0.0.4" });
  await befriend(a, b);
  await befriend(b, c);
  await befriend(a, c);
  await a.stop();
  await c.stop();
  await using a2 = await startTestNode("alice", { host: "127.0.0.12", dir: a.dir });
  await using c2 = await startTestNode("carol", { host: "127.0.0.14", dir: c.dir });
  await until(
    async () => (await a2.node.call("peers", {})).every((p) => p.state === "connected"),
    10_000,
    "alice reaches all",
  );
  await until(
    async () => (await c2.node.call("peers", {})).every((p) => p.state === "connected"),
    10_000,
    "carol reaches all",
  );
  const peers = await a2.node.call("peers", {});
  const carol = peers.find((p) => p.name === "carol")!;
  assert.ok(/via bob|direct/.test(carol.learnt), carol.learnt);
  await Deno.remove(a.dir, { recursive: true });
  await Deno.remove(c.dir, { recursive: true });
});
