/** The islands' pure parts: merging live messages, the path of a peer, chat order. */
import assert from "node:assert/strict";
import type { ChatView, MessageView, PeerView } from "../node/api/mod.ts";
import { mergeMessages } from "../islands/conversation.tsx";
import { frameOf, pathOf } from "../islands/hive_map.tsx";
import { sortChats } from "../islands/chat_list.tsx";
import { portMapLine, pubFileName } from "../routes/pages/identity.tsx";

const msg = (seq: number, lamport: number, extra: Partial<MessageView> = {}): MessageView => ({
  chat: "bob",
  seq,
  author: "bob",
  authorFingerprint: "SHA256:bob",
  mine: false,
  ts: 1000 + lamport,
  lamport,
  type: "msg",
  body: `m${seq}`,
  state: "received",
  hash: `h${seq}`,
  id: `h${seq}`,
  ...extra,
});

Deno.test("mergeMessages: appends, keeps order, dedupes, never un-delivers", () => {
  const mine = (seq: number, lamport: number, state: MessageView["state"]) =>
    msg(seq, lamport, { mine: true, author: "alice", authorFingerprint: "SHA256:alice", state });
  let list = [msg(1, 1), mine(1, 2, "stored")];
  list = mergeMessages(list, [msg(2, 3)]);
  assert.deepEqual(list.map((m) => m.body), ["m1", "m1", "m2"]);
  // A late arrival with an older clock goes into place.
  list = mergeMessages(list, [msg(3, 2.5)]);
  assert.deepEqual(list.map((m) => m.lamport), [1, 2, 2.5, 3]);
  // The same message again (SSE and the send answer both bring it) is kept once.
  assert.equal(mergeMessages(list, [msg(2, 3)]).length, 4);
  const delivered = mergeMessages(list, [mine(1, 2, "delivered")]);
  assert.equal(delivered.find((m) => m.mine)!.state, "delivered");
  // A stale copy (the send answer after the delivered event) does not take it back.
  assert.equal(
    mergeMessages(delivered, [mine(1, 2, "stored")]).find((m) => m.mine)!.state,
    "delivered",
  );
  // At an anchor (1:1 mail) is further than stored and not as far as delivered.
  const anchored = mergeMessages(list, [mine(1, 2, "at-anchor")]);
  assert.equal(
    mergeMessages(anchored, [mine(1, 2, "stored")]).find((m) => m.mine)!.state,
    "at-anchor",
  );
  assert.equal(
    mergeMessages(anchored, [mine(1, 2, "delivered")]).find((m) => m.mine)!.state,
    "delivered",
  );
});

Deno.test("pathOf: connected is direct unless relayed; else dialing or unreachable", () => {
  const peer = (p: Partial<PeerView>): PeerView => ({
    name: "bob",
    fingerprint: "SHA256:bob",
    kind: "person",
    state: "connected",
    address: "127.0.0.3:7022",
    learnt: "invite",
    lastSeen: null,
    since: null,
    path: null,
    ...p,
  });
  assert.equal(pathOf(peer({})), "direct");
  assert.equal(pathOf(peer({ address: "via hive" })), "relayed");
  assert.equal(pathOf({ ...peer({}), path: "relayed" } as PeerView), "relayed");
  assert.equal(pathOf(peer({ state: "dialing" })), "dialing");
  assert.equal(pathOf(peer({ state: "unreachable", address: "via hive" })), "unreachable");
});

Deno.test("sortChats: newest activity first, empty chats by name", () => {
  const chat = (name: string, ts: number | null): ChatView => ({
    name,
    id: name,
    kind: name === "notes" ? "notes" : "direct",
    unread: 0,
    last: ts === null ? null : msg(1, 1, { ts }),
  });
  assert.deepEqual(
    sortChats([chat("notes", null), chat("bob", 5), chat("carol", 9), chat("amy", null)])
      .map((c) => c.name),
    ["carol", "bob", "amy", "notes"],
  );
});

Deno.test("pubFileName: the node's name, made safe", () => {
  assert.equal(pubFileName("alice"), "alice.pub");
  assert.equal(pubFileName("Bob Smith"), "Bob_Smith.pub");
  assert.equal(pubFileName("../.."), "roj.pub");
  assert.equal(pubFileName('a"b'), "a_b.pub");
});

Deno.test("portMapLine: the router's mapping on the identity page, or why there is none", () => {
  const renewedAt = Date.now();
  const line = portMapLine({
    state: "mapped",
    method: "upnp",
    gateway: "192.168.1.1",
    external: "203.0.113.5:7022",
    internal: "192.168.1.20:7022",
    protocols: ["tcp", "udp"],
    leaseSeconds: 3600,
    renewedAt,
  });
  assert.match(
    line,
    /^UPnP-IGD 203\.0\.113\.5:7022 \(TCP, UDP\) → 192\.168\.1\.20:7022 by 192\.168\.1\.1, renewed \d\d:\d\d$/,
  );
  assert.equal(
    portMapLine({ state: "none", reason: "no UPnP-IGD gateway answered" }),
    "none (no UPnP-IGD gateway answered)",
  );
  assert.equal(portMapLine(undefined), "not reported by this node");
});

Deno.test("hive map: the picture is cropped to what is drawn, never past its square", () => {
  // One contact straight above: no empty band below "you" and its label.
  assert.equal(frameOf([{ y: 55 }]), "0 25 400 225");
  // Nobody yet: just "you" and its label.
  assert.equal(frameOf([]), "0 170 400 80");
  // Contacts all around: the whole square.
  assert.equal(frameOf([{ y: 55 }, { y: 345 }]), "0 25 400 370");
  assert.equal(frameOf([{ y: 5 }, { y: 395 }]), "0 0 400 400");
});
