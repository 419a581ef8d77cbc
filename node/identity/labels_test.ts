/**
 * Golden bytes of every domain-separation label: a rename or a stray edit of
 * one fails here, before it can break stored signatures or old peers.
 */
import assert from "node:assert/strict";
import * as labels from "./labels.ts";
import {
  ADDR_RECORD_MAGIC,
  ADDR_RECORD_RELAYS_MAGIC,
  AGENT_AGREEMENT_LABEL,
  ALPN_PROBE,
  ALPN_SSH,
  BACKUP_FORMAT,
  CARD_MAGIC,
  CARD_TEXT_PREFIX,
  CARD_V2_MAGIC,
  CARD_V2_TEXT_PREFIX,
  DEVICE_AGREE_CONTEXT,
  DEVICE_LINK_MAGIC,
  DEVICE_LINK_PROOF_LABEL,
  DEVICE_LINK_TEXT_PREFIX,
  DEVICE_REVOCATION_MAGIC,
  DIRECT_ACK_SALT,
  DIRECT_CHAT_LABEL,
  DIRECT_MAIL_SALT,
  DIRECT_RECEIPT_MAGIC,
  ENTRY_MAGIC,
  FILE_ROOT_LABEL,
  GROUP_FILE_CHUNK_LABEL,
  GROUP_ID_LABEL,
  GROUP_KEY_SEAL_CONTEXT,
  GROUP_MSG_AAD_LABEL,
  INVITE_MAGIC,
  INVITE_TEXT_PREFIX,
  LAN_ANNOUNCEMENT_MAGIC,
  LAN_TAG_SALT,
  MAILBOX_ID_INFO,
  MAILBOX_KEY_INFO,
  MAILBOX_POINTER_ID_SALT,
  MAILBOX_POINTER_KEY_SALT,
  MAILBOX_POINTER_TAG_SALT,
  MAILBOX_SALT,
  MAILBOX_TAG_INFO,
  NAMESPACES,
  NOTES_CHAT_LABEL,
  OWN_MAIL_CONTACTS_MAGIC,
  OWN_MAIL_INVITES_MAGIC,
  OWN_MAIL_PREFS_MAGIC,
  OWN_MAIL_SALT,
  PAIRWISE_SEAL_SALT,
  PAIRWISE_TAG_SALT,
  PERSON_AGREEMENT_LABEL,
  PERSON_INVITE_MAGIC,
  PUNCH_VOUCH_MAGIC,
  RELAY_SUBSYSTEM_PREFIX,
  ROJ_SUBSYSTEM,
  SAFETY_NUMBER_LABEL,
  SEAL_INFO,
  SSHSIG_ADDR_NAMESPACE,
  SSHSIG_DEVICE_NAMESPACE,
  SSHSIG_ENTRY_NAMESPACE,
  SSHSIG_INTRO_NAMESPACE,
  SSHSIG_INVITE_NAMESPACE,
  SSHSIG_PUNCH_NAMESPACE,
} from "./labels.ts";

const hex = (s: string) =>
  [...new TextEncoder().encode(s)].map((b) => b.toString(16).padStart(2, "0")).join("");

/** Each label and the hex of its exact UTF-8 bytes. */
const GOLDEN: readonly (readonly [string, string])[] = [
  [SSHSIG_ENTRY_NAMESPACE, "726f6a2d656e747279"], // "roj-entry"
  [SSHSIG_ADDR_NAMESPACE, "726f6a2d61646472"], // "roj-addr"
  [SSHSIG_INVITE_NAMESPACE, "726f6a2d696e76697465"], // "roj-invite"
  [SSHSIG_PUNCH_NAMESPACE, "726f6a2d70756e6368"], // "roj-punch"
  [ENTRY_MAGIC, "726f6a2d656e7472792d7631"], // "roj-entry-v1"
  [ADDR_RECORD_MAGIC, "726f6a2d616464722d7631"], // "roj-addr-v1"
  [ADDR_RECORD_RELAYS_MAGIC, "726f6a2d616464722d7632"], // "roj-addr-v2"
  [INVITE_MAGIC, "726f6a2d696e766974652d7631"], // "roj-invite-v1"
  [INVITE_TEXT_PREFIX, "726f6a313a"], // "roj1:"
  [PERSON_INVITE_MAGIC, "726f6a2d696e766974652d7632"], // "roj-invite-v2"
  [PERSON_AGREEMENT_LABEL, "726f6a2d706572736f6e2d61677265656d656e742d763100"], // "roj-person-agreement-v1\0"
  [DEVICE_AGREE_CONTEXT, "726f6a2d64657661677265652d7631"], // "roj-devagree-v1"
  [SSHSIG_DEVICE_NAMESPACE, "726f6a2d646576696365"], // "roj-device"
  [DEVICE_LINK_MAGIC, "726f6a2d6465766c696e6b2d7631"], // "roj-devlink-v1"
  [DEVICE_LINK_TEXT_PREFIX, "726f6a646576313a"], // "rojdev1:"
  [DEVICE_REVOCATION_MAGIC, "726f6a2d6465767265766f6b652d7631"], // "roj-devrevoke-v1"
  [DEVICE_LINK_PROOF_LABEL, "726f6a2d6465766c696e6b2d70726f6f662d763100"], // "roj-devlink-proof-v1\0"
  [PUNCH_VOUCH_MAGIC, "726f6a2d70756e63682d766f7563682d7631"], // "roj-punch-vouch-v1"
  [BACKUP_FORMAT, "726f6a2d6261636b75702d7631"], // "roj-backup-v1"
  [SSHSIG_INTRO_NAMESPACE, "726f6a2d696e74726f"], // "roj-intro"
  [CARD_MAGIC, "726f6a2d636172642d7631"], // "roj-card-v1"
  [CARD_TEXT_PREFIX, "726f6a63617264313a"], // "rojcard1:"
  [CARD_V2_MAGIC, "726f6a2d636172642d7632"], // "roj-card-v2"
  [CARD_V2_TEXT_PREFIX, "726f6a63617264323a"], // "rojcard2:"
  [SEAL_INFO, "726f6a2d7365616c2d7631"], // "roj-seal-v1"
  [GROUP_KEY_SEAL_CONTEXT, "726f6a2d67726f75702d6b6579"], // "roj-group-key"
  [PAIRWISE_TAG_SALT, "726f6a2d7461672d7631"], // "roj-tag-v1"
  [PAIRWISE_SEAL_SALT, "726f6a2d7365616c2d7631"], // "roj-seal-v1"
  [LAN_TAG_SALT, "726f6a2d6c616e2d7631"], // "roj-lan-v1"
  [AGENT_AGREEMENT_LABEL, "726f6a2d6167656e742d61677265656d656e742d763100"], // "roj-agent-agreement-v1\0"
  [MAILBOX_SALT, "726f6a2d6d61696c626f782d7632"], // "roj-mailbox-v2"
  [MAILBOX_TAG_INFO, "746167"], // "tag"
  [MAILBOX_KEY_INFO, "6b6579"], // "key"
  [MAILBOX_ID_INFO, "6964"], // "id"
  [MAILBOX_POINTER_TAG_SALT, "726f6a2d6d626f782d706f696e7465722d7631"], // "roj-mbox-pointer-v1"
  [MAILBOX_POINTER_KEY_SALT, "726f6a2d6d626f782d706f696e7465722d6b65792d7631"], // "roj-mbox-pointer-key-v1"
  [MAILBOX_POINTER_ID_SALT, "726f6a2d6d626f782d706f696e7465722d69642d7631"], // "roj-mbox-pointer-id-v1"
  [DIRECT_MAIL_SALT, "726f6a2d646d61696c2d7631"], // "roj-dmail-v1"
  [DIRECT_RECEIPT_MAGIC, "726f6a2d646d61696c2d726563656970742d7631"], // "roj-dmail-receipt-v1"
  [NOTES_CHAT_LABEL, "726f6a2d636861742d6e6f74657300"], // "roj-chat-notes\0"
  [DIRECT_CHAT_LABEL, "726f6a2d636861742d64697265637400"], // "roj-chat-direct\0"
  [GROUP_ID_LABEL, "726f6a2d67726f75702d69642d763100"], // "roj-group-id-v1\0"
  [GROUP_MSG_AAD_LABEL, "726f6a2d67726f75702d6d73672d763100"], // "roj-group-msg-v1\0"
  [SAFETY_NUMBER_LABEL, "726f6a2d7361666574792d6e756d6265722d763100"], // "roj-safety-number-v1\0"
  [FILE_ROOT_LABEL, "726f6a2d66696c652d763100"], // "roj-file-v1\0"
  [GROUP_FILE_CHUNK_LABEL, "726f6a2d67726f75702d66696c652d6368756e6b2d763100"], // "roj-group-file-chunk-v1\0"
  [ROJ_SUBSYSTEM, "726f6a"], // "roj"
  [RELAY_SUBSYSTEM_PREFIX, "726f6a2d72656c61792d"], // "roj-relay-"
  [ALPN_SSH, "726f6a2d7373682f31"], // "roj-ssh/1"
  [ALPN_PROBE, "726f6a2d70726f62652f31"], // "roj-probe/1"
  [LAN_ANNOUNCEMENT_MAGIC, "524a4c32"], // "RJL2"
  [DIRECT_ACK_SALT, "726f6a2d646d61696c2d61636b2d7631"], // "roj-dmail-ack-v1"
  [OWN_MAIL_SALT, "726f6a2d6f776e6d61696c2d7631"], // "roj-ownmail-v1"
  [OWN_MAIL_CONTACTS_MAGIC, "726f6a2d6f776e6d61696c2d636f6e74616374732d763100"], // "roj-ownmail-contacts-v1\0"
  [OWN_MAIL_PREFS_MAGIC, "726f6a2d6f776e6d61696c2d70726566732d763100"], // "roj-ownmail-prefs-v1\0"
  [OWN_MAIL_INVITES_MAGIC, "726f6a2d6f776e6d61696c2d696e76697465732d763100"], // "roj-ownmail-invites-v1\0"
];

Deno.test("every label has exactly its pinned bytes", () => {
  for (const [label, bytes] of GOLDEN) assert.equal(hex(label), bytes, JSON.stringify(label));
});

Deno.test("every label labels.ts exports is pinned here", () => {
  const exported = Object.entries(labels).filter(([, v]) => typeof v === "string");
  assert.equal(exported.length, GOLDEN.length, "a new label needs a golden row");
  const pinned = new Set(GOLDEN.map(([label]) => label));
  for (const [name, value] of exported) assert.ok(pinned.has(value as string), name);
});

Deno.test("the SSHSIG namespaces are the ones ssh-keygen -Y verify -n is given", () => {
  assert.deepEqual(NAMESPACES, {
    entry: "roj-entry",
    addr: "roj-addr",
    invite: "roj-invite",
    device: "roj-device",
    punch: "roj-punch",
    intro: "roj-intro",
  });
  assert.deepEqual(NAMESPACES, {
    entry: SSHSIG_ENTRY_NAMESPACE,
    addr: SSHSIG_ADDR_NAMESPACE,
    invite: SSHSIG_INVITE_NAMESPACE,
    device: SSHSIG_DEVICE_NAMESPACE,
    punch: SSHSIG_PUNCH_NAMESPACE,
    intro: SSHSIG_INTRO_NAMESPACE,
  });
});

Deno.test("labels that prefix hashed input end in NUL; the LAN magic is the old byte array", () => {
  for (
    const l of [
      NOTES_CHAT_LABEL,
      DIRECT_CHAT_LABEL,
      GROUP_ID_LABEL,
      GROUP_MSG_AAD_LABEL,
      AGENT_AGREEMENT_LABEL,
      SAFETY_NUMBER_LABEL,
      FILE_ROOT_LABEL,
      GROUP_FILE_CHUNK_LABEL,
    ]
  ) {
    assert.ok(l.endsWith("\0"), JSON.stringify(l));
  }
  assert.deepEqual([...new TextEncoder().encode(LAN_ANNOUNCEMENT_MAGIC)], [0x52, 0x4a, 0x4c, 0x32]);
});

Deno.test("no other production file under node/ spells a roj- label", async () => {
  const root = new URL("../", import.meta.url);
  // Not labels: the name of the signature-checking worker thread.
  const allowed = [/name: "roj-verify"/];
  const found: string[] = [];
  async function walk(dir: URL): Promise<void> {
    for await (const e of Deno.readDir(dir)) {
      if (e.isDirectory) await walk(new URL(`${e.name}/`, dir));
      else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts") && e.name !== "labels.ts") {
        const text = await Deno.readTextFile(new URL(e.name, dir));
        text.split("\n").forEach((line, i) => {
          if (/^\s*(\*|\/\/)/.test(line)) return; // comments may name the labels they use
          if (!/(["'`]|\/\^?)(roj-|roj1:|RJL)/.test(line) || allowed.some((a) => a.test(line))) {
            return;
          }
          found.push(`${new URL(e.name, dir).pathname}:${i + 1}: ${line.trim()}`);
        });
      }
    }
  }
  await walk(root);
  assert.deepEqual(found, [], "import the label from identity/mod.ts instead");
});
