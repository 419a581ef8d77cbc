/**
 * Chats by the names a person types, and back from ids: "notes", a contact's
 * petname (their direct chat), a group's name or id. Also which names a new
 * contact or group may not take.
 */
import { RojError } from "../errors.ts";
import type { Contact, ContactBook } from "../contacts/mod.ts";
import { type Group, type GroupBook, type HiddenGroups, isGroupChatId } from "../groups/mod.ts";
import { directChatId, notesChatId } from "../log/mod.ts";
import type { ChatRef } from "../views/mod.ts";

export class ChatDirectory {
  readonly #me: Uint8Array;
  readonly #contacts: ContactBook;
  readonly #groups: GroupBook;
  /** Groups deleted from the list (none when not given). */
  readonly hidden: HiddenGroups | undefined;
  /** Our notes' chat id (derived from our key, asked at every lookup by id). */
  readonly #notesId: string;

  constructor(me: Uint8Array, contacts: ContactBook, groups: GroupBook, hidden?: HiddenGroups) {
    this.#me = me;
    this.#notesId = notesChatId(me);
    this.#contacts = contacts;
    this.#groups = groups;
    this.hidden = hidden;
  }

  /** Finds a chat by the name a person types. @throws {RojError} not_found */
  chat(name: string): ChatRef {
    if (name === "notes") return this.notes();
    const c = this.#contacts.byName(name);
    if (c && !c.blocked) return this.direct(c);
    const g = this.#groups.byName(name) ??
      (isGroupChatId(name) ? this.#groups.get(name) : undefined);
    if (g) return groupRef(g);
    throw new RojError("not_found", `no chat called ${JSON.stringify(name.slice(0, 60))}`);
  }

  notes(): ChatRef {
    return { id: this.#notesId, kind: "notes", name: "notes" };
  }

  direct(c: Contact): ChatRef {
    // Asked for every message shown (search, files): directChatId derives each pair's id once.
    return { id: directChatId(this.#me, c.publicKey), kind: "direct", name: c.name, peer: c };
  }

  /** The chat with this id, if this node has it. */
  byId(id: string): ChatRef | undefined {
    if (id === this.#notesId) return this.notes();
    const g = this.#groups.get(id);
    if (g) return groupRef(g);
    for (const c of this.#contacts.all()) {
      if (directChatId(this.#me, c.publicKey) === id) return this.direct(c);
    }
    return undefined;
  }

  /** Every chat a person sees: notes, each unblocked contact's, each group not deleted from the list. */
  all(): ChatRef[] {
    return [
      this.notes(),
      ...this.#contacts.all().filter((c) => !c.blocked).map((c) => this.direct(c)),
      ...this.#groups.all().filter((g) => !this.hidden?.has(g.id)).map(groupRef),
    ];
  }

  /** A group by its name or id. @throws {RojError} not_found */
  group(name: string): Group {
    const ref = this.chat(name);
    if (!ref.group) {
      throw new RojError("not_found", `no group called ${JSON.stringify(name.slice(0, 60))}`);
    }
    return this.#groups.get(ref.id)!;
  }

  /** An unblocked contact by name. @throws {RojError} not_found */
  contact(name: string): Contact {
    const c = this.#contacts.byName(name);
    if (!c || c.blocked) {
      throw new RojError("not_found", `no contact called ${JSON.stringify(name.slice(0, 40))}`);
    }
    return c;
  }

  /** Chat names a contact may not take: "notes" and the groups'. */
  reservedNames(): string[] {
    return ["notes", ...this.#groups.all().map((g) => g.name)];
  }

  /** Names taken by chats on this node: a new group must not reuse them. */
  takenNames(): string[] {
    return [...this.reservedNames(), ...this.#contacts.all().map((c) => c.name)];
  }
}

export function groupRef(g: Group): ChatRef {
  return { id: g.id, kind: "group", name: g.name, group: g };
}
