/** Groups between test nodes (testing/nodes.ts). */
import { type TestNode, until } from "./nodes.ts";

/** `founder` founds group `name` with `others` (its contacts, online); resolves with its id once they are all in. */
export async function foundGroup(
  founder: TestNode,
  others: readonly TestNode[],
  name = "climbers",
): Promise<string> {
  const g = await founder.node.call("group.create", { name });
  await founder.node.call("group.add", { group: name, members: others.map((o) => o.node.name) });
  for (const o of others) {
    await until(
      async () =>
        (await o.node.call("chats", {})).some((c) => c.name === name) &&
        (await o.node.call("group.members", { group: name })).length === others.length + 1,
      20_000,
      `${o.node.name} joins ${name}`,
    );
  }
  return g.id;
}
