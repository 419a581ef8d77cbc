/**
 * A group as its members see it with OpenSSH `sftp`: `/chats/<group>.log`,
 * one export line per entry (the same fields, `signed` and `sig` as a direct
 * chat's) plus `text`, the message decrypted — only for epochs whose key was
 * sealed to the reader, so a member who joined later reads no more over sftp
 * than the group gave them (for a reply, edit, retraction or reaction, the
 * decrypted body: messages/message_body.ts). Membership changes carry their
 * sentence.
 *
 * Appending: a line must be a message (type "msg", or a reply, edit,
 * retraction or reaction, which messages/fold then judges like any other)
 * signed by the reader, in this group, encrypted to the group's current key
 * (the epoch sealed to exactly the current members, which the reader holds).
 * Anything else is refused with a reason, and the node stores none of the
 * lines.
 */
import { RojError } from "../errors.ts";
import { fingerprint } from "../identity/mod.ts";
import { type Entry, entryFromLine, entryToJson, toHex } from "../log/mod.ts";
import { CONTENT_TYPES } from "../messages/mod.ts";
import { decryptGroupMessage, messageEpoch } from "./group_crypto.ts";
import type { GroupBook } from "./group_book.ts";
import { isGroupOp, writeEpoch } from "./membership.ts";

/** The export lines of group `id`'s `entries` (all of them, in order) for member `reader`. */
export async function groupExportLines(
  book: GroupBook,
  id: string,
  entries: readonly Entry[],
  reader: Uint8Array,
  name: (hex: string) => string,
): Promise<string[]> {
  const hex = toHex(reader);
  const lines = await book.lines(id, entries, name, { all: entries });
  return lines.map(({ entry, text }) => {
    const json: Record<string, unknown> = { ...entryToJson(entry) };
    if (isGroupOp(entry.type)) json.text = text;
    else if (CONTENT_TYPES.has(entry.type)) {
      const epoch = messageEpoch(entry.body);
      if (epoch && book.sealedTo(id, epoch, hex)) json.text = text;
    }
    return JSON.stringify(json) + "\n";
  });
}

/**
 * Checks one line `author` appends to group `id` over sftp.
 * @throws {RojError} refused, wrong_chat or bad_input with a one-line reason.
 */
export async function checkGroupAppend(
  book: GroupBook,
  id: string,
  author: Uint8Array,
  line: string,
): Promise<Entry> {
  const e = await entryFromLine(line);
  const hex = toHex(author);
  if (toHex(e.author) !== hex) {
    throw new RojError("refused", `entry is signed by ${fingerprint(e.author)}, not by you`);
  }
  if (e.chat !== id) throw new RojError("wrong_chat", "entry belongs to another chat");
  const g = book.get(id);
  if (!g?.membership.members.has(hex)) {
    throw new RojError("refused", "you are not a member of this group");
  }
  if (!CONTENT_TYPES.has(e.type)) {
    throw new RojError(
      "refused",
      "only messages (msg, reply) and edits, retractions and reactions may be appended to a group",
    );
  }
  const epoch = messageEpoch(e.body);
  if (!epoch) throw new RojError("bad_input", "the body is not an encrypted group message");
  const current = writeEpoch(g.membership, hex);
  if (!current || current.id !== epoch) {
    throw new RojError(
      "refused",
      "the message is not encrypted to the group's current key (members changed since?)",
    );
  }
  const key = await book.epochKey(id, epoch);
  if (!key || decryptGroupMessage(key, id, e.author, e.body) === null) {
    throw new RojError("bad_input", "the message does not decrypt with the group's key");
  }
  return e;
}
