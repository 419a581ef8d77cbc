/**
 * What a contact sees with plain OpenSSH `sftp`: the chats they are a member
 * of (our direct chat, the groups in which both of us are members), as export
 * lines, and appends of entries they signed (groups/group_sftp.ts).
 */
import type { Contact, ContactBook } from "../contacts/mod.ts";
import { RojError } from "../errors.ts";
import type { EventBus } from "../events.ts";
import { checkGroupAppend, type GroupBook, groupExportLines } from "../groups/mod.ts";
import { fingerprint } from "../identity/mod.ts";
import {
  type ChatLog,
  directChatId,
  type Entry,
  entryFromLine,
  entryToJson,
  toHex,
} from "../log/mod.ts";
import type { SftpView } from "../transport/mod.ts";
import type { ChatDirectory } from "./chat_directory.ts";
import type { ChatService } from "./chat_service.ts";

export interface SftpViewDeps {
  readonly me: Uint8Array;
  readonly log: ChatLog;
  readonly contacts: ContactBook;
  readonly groups: GroupBook;
  readonly directory: ChatDirectory;
  readonly chats: ChatService;
  readonly bus: EventBus;
  /** Group entries appended over sftp, taken in like a push (group_service.stored). */
  groupStored(id: string, entries: Entry[]): Promise<void>;
  /** Direct-chat entries appended over sftp: push them on the session, if one is up. */
  pushDirect(chat: string, peer: Uint8Array): void;
}

/** The chats `contact` sees over sftp. */
export function sftpViewFor(d: SftpViewDeps, contact: Contact): SftpView {
  const chatId = directChatId(d.me, contact.publicKey);
  const sharedGroup = (chat: string) =>
    d.groups.sharedWith(contact.publicKey).find((g) => g.id === chat);
  const mustBeShared = (chat: string) => {
    if (chat !== chatId && !sharedGroup(chat)) throw new RojError("not_found", "no such chat");
  };
  const checkLine = async (chat: string, line: string): Promise<Entry> => {
    mustBeShared(chat);
    if (chat !== chatId) return await checkGroupAppend(d.groups, chat, contact.publicKey, line);
    const e = await entryFromLine(line);
    if (toHex(e.author) !== toHex(contact.publicKey)) {
      throw new RojError("refused", `entry is signed by ${fingerprint(e.author)}, not by you`);
    }
    if (e.chat !== chat) throw new RojError("wrong_chat", "entry belongs to another chat");
    return e;
  };
  return {
    list: () =>
      Promise.resolve([
        { name: d.contacts.get(contact.publicKey)?.name ?? contact.name, chat: chatId },
        ...d.groups.sharedWith(contact.publicKey).map((g) => ({ name: g.name, chat: g.id })),
      ]),
    read: async (chat) => {
      mustBeShared(chat);
      const entries = await d.log.read(chat);
      const g = sharedGroup(chat);
      const lines = g
        ? await groupExportLines(d.groups, chat, entries, contact.publicKey, d.chats.memberName(g))
        : entries.map((e) => JSON.stringify(entryToJson(e)) + "\n");
      return new TextEncoder().encode(lines.join(""));
    },
    check: async (chat, line) => {
      await checkLine(chat, line);
    },
    append: async (chat, lines) => {
      const entries = await Promise.all(lines.map((l) => checkLine(chat, l)));
      const res = await d.log.merge(chat, entries, { allOrNothing: true });
      if (res.rejected.length > 0) {
        throw new RojError("bad_input", `${res.rejected[0]!.reason}; nothing was stored`);
      }
      const ref = d.directory.byId(chat);
      if (ref?.kind === "group") await d.groupStored(chat, res.stored);
      else if (ref) await d.chats.show(ref, res.stored);
      d.pushDirect(chat, contact.publicKey);
      d.bus.say(
        `${contact.name} appended ${res.stored.length} entr${
          res.stored.length === 1 ? "y" : "ies"
        } to ${ref?.name ?? chat} over sftp`,
      );
      return res.stored.length;
    },
  };
}
