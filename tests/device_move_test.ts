/**
 * Discovery per device (issue 13 item 5, its test "both of alice's devices
 * move to new addresses at once: the cascade restores every pair"): alice on
 * a laptop (the person key) and a phone (a certified device key), with bob
 * and carol as contacts who are each other's too. Both of alice's devices
 * restart on new loopback addresses at once; nobody can dial them at what
 * they knew. Each device reaches bob and carol (who did not move) at their
 * addresses and leaves its new sealed copies with them, one for each contact
 * and one for each of its own other devices; bob and carol find the phone's
 * new address there, and so do the laptop and the phone each other's.
 */
import assert from "node:assert/strict";
import { befriend, startTestNode, type TestNode, until } from "../testing/nodes.ts";
import { joinPerson } from "../node/linking/mod.ts";
import type { NodeEvent } from "../node/mod.ts";
import { tempDir } from "../testing/temp.ts";

/** Unusual loopback bases, so that no other test's nodes sit at these addresses. */
const BEFORE = "127.77.13";
const AFTER = "127.77.14";

const sessionUp = (peer: string, device?: string) => (e: NodeEvent) =>
  e.type === "session" && e.state === "up" && e.peer === peer && e.device === device;
const ownUp = (e: NodeEvent) => e.type === "own-device" && e.op === "up";

/** Whether `n` has a live session with each of these contacts (by name). */
async function onlineWith(n: TestNode, names: string[]): Promise<boolean> {
  const contacts = await n.node.call("contacts", {});
  return names.every((name) => contacts.some((c) => c.name === name && c.online));
}

Deno.test("both of alice's devices move to new addresses at once: the cascade restores every pair", async () => {
  await using tmp = await tempDir();
  const phoneDir = `${tmp.path}/phone`;
  await using bob = await startTestNode("bob", { host: `${BEFORE}.4` });
  await using carol = await startTestNode("carol", { host: `${BEFORE}.5` });
  const laptop1 = await startTestNode("alice", { host: `${BEFORE}.2` });
  let phoneFp: string;
  try {
    await befriend(laptop1, bob);
    await befriend(laptop1, carol);
    await befriend(bob, carol);
    phoneFp = (await joinPerson(phoneDir, (await laptop1.node.call("device.link", {})).text, {
      name: "phone",
    })).fingerprint;
    await using phone1 = await startTestNode("phone", { host: `${BEFORE}.3`, dir: phoneDir });
    // The phone learns alice's contacts from the laptop and meets each of them as alice.
    await laptop1.waitFor(ownUp, 15_000);
    await bob.waitFor(sessionUp("alice", phoneFp), 20_000);
    await carol.waitFor(sessionUp("alice", phoneFp), 20_000);
    await until(() => onlineWith(phone1, ["bob", "carol"]), 15_000, "the phone's sessions");
  } finally {
    await laptop1.stop();
  }
  // Both devices are down now; they come back at once, elsewhere.
  const fromBob = bob.events.length, fromCarol = carol.events.length;
  const [laptop, phone] = await Promise.all([
    startTestNode("alice", { host: `${AFTER}.2`, dir: laptop1.dir }),
    startTestNode("phone", { host: `${AFTER}.3`, dir: phoneDir }),
  ]);
  try {
    await Promise.all([
      // The laptop and the phone, each other's sibling.
      laptop.waitFor(ownUp, 30_000),
      phone.waitFor(ownUp, 30_000),
      // Each device with each contact (seen from the contact, which tells them apart).
      bob.waitFor(sessionUp("alice"), 30_000, fromBob),
      bob.waitFor(sessionUp("alice", phoneFp), 30_000, fromBob),
      carol.waitFor(sessionUp("alice"), 30_000, fromCarol),
      carol.waitFor(sessionUp("alice", phoneFp), 30_000, fromCarol),
    ]);
    await until(() => onlineWith(laptop, ["bob", "carol"]), 10_000, "the laptop's sessions");
    await until(() => onlineWith(phone, ["bob", "carol"]), 10_000, "the phone's sessions");
    await until(() => onlineWith(bob, ["carol"]), 10_000, "bob and carol");
    // The sibling session carries the chat: what bob writes now reaches both, and what the phone
    // writes reaches the laptop.
    await bob.node.call("send", { chat: "alice", text: "after the move" });
    const bodies = async (n: TestNode) =>
      (await n.node.call("read", { chat: "bob" })).map((m) => m.body);
    await until(async () => (await bodies(laptop)).includes("after the move"), 10_000);
    await until(async () => (await bodies(phone)).includes("after the move"), 10_000);
    await phone.node.call("send", { chat: "bob", text: "phone, moved" });
    await until(async () => (await bodies(laptop)).includes("phone, moved"), 10_000);
    // Nobody was told an address by hand: each device came back at one it had never used.
    const status = await phone.node.call("status", {});
    assert.ok(status.listen.every((a) => a.startsWith(`${AFTER}.3:`)), status.listen.join());
  } finally {
    await laptop.stop();
    await phone.stop();
    await Deno.remove(laptop1.dir, { recursive: true }).catch(() => {});
  }
});
