/**
 * Groups deleted from the person's list: ones this node is no longer a member
 * of (removed, or left). Their history stays in the store and readable by
 * name, but the chat list, search and the admin's list no longer show them.
 * Being added to the group again brings it back (GroupService.adopt).
 */
import { keys, type Store } from "../store/mod.ts";
import { isGroupChatId } from "./group_id.ts";

export class HiddenGroups {
  readonly #store: Store;
  readonly #ids = new Set<string>();

  private constructor(store: Store) {
    this.#store = store;
  }

  static async open(store: Store): Promise<HiddenGroups> {
    const h = new HiddenGroups(store);
    for await (const res of store.kv.list<unknown>({ prefix: keys.hiddenGroups() })) {
      const id = res.key[1];
      if (typeof id === "string" && isGroupChatId(id) && res.value === true) h.#ids.add(id);
    }
    return h;
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  async hide(id: string): Promise<void> {
    await this.#store.kv.set(keys.hiddenGroup(id), true);
    this.#ids.add(id);
  }

  async show(id: string): Promise<void> {
    if (!this.#ids.has(id)) return;
    await this.#store.kv.delete(keys.hiddenGroup(id));
    this.#ids.delete(id);
  }
}
