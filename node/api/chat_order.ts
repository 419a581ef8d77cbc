/** The order of a chat list (pure, no schema library: the admin's browser bundle imports it). */
import type { ChatPrefsView } from "./search_api.ts";

/**
 * A chat list as people see it by default: pinned chats first (each part in
 * the order given), archived ones left out unless `archived` is true.
 */
export function arrangeChats<C extends { readonly prefs?: ChatPrefsView }>(
  chats: readonly C[],
  options: { archived?: boolean } = {},
): C[] {
  const shown = options.archived ? [...chats] : chats.filter((c) => !c.prefs?.archived);
  return [...shown.filter((c) => c.prefs?.pinned), ...shown.filter((c) => !c.prefs?.pinned)];
}
