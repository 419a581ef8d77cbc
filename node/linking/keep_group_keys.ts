/**
 * Going offline (go_offline.ts) without losing the groups: on the person
 * key's node a group's epoch keys open with the person key, which is about
 * to leave. A device reads with keys handed to it (groups/handed_keys.ts), so
 * the keys that open here now are kept that way, as the person key's node
 * would hand them to a device. Epochs made later are sealed to the person
 * key and need it (or its agreement key, shared with devices) to open.
 */
import { agreeKeys, ContactBook } from "../contacts/mod.ts";
import { GroupBook, HandedKeys, MAX_HANDED_PER_GROUP } from "../groups/mod.ts";
import type { KeyPair } from "../identity/mod.ts";
import { ChatLog } from "../log/mod.ts";
import type { Store } from "../store/mod.ts";

/** Keeps every group epoch key that `person` opens as a handed key; how many groups had some. */
export async function keepGroupKeys(store: Store, person: KeyPair): Promise<number> {
  const contacts = await ContactBook.open(store);
  const groups = await GroupBook.open(
    store,
    new ChatLog(store),
    person,
    agreeKeys(person, contacts),
  );
  const handed = await HandedKeys.open(store);
  let kept = 0;
  for (const g of groups.all()) {
    const opened = await groups.openedKeys(g.id, MAX_HANDED_PER_GROUP);
    if (opened.length === 0) continue;
    await handed.take(g.id, opened);
    kept++;
  }
  return kept;
}
