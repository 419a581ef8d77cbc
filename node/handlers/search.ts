/**
 * The local API's search and per-chat settings methods, for the handlers
 * table. `chats` is served here too: the chat service's list with each
 * chat's settings (muted, pinned, archived) beside it.
 */
import type { ChatDirectory, ChatService } from "../chats/mod.ts";
import type { ChatPrefs } from "../prefs/mod.ts";
import type { SearchService } from "../search/mod.ts";
import type { Handlers } from "./handlers.ts";

type SearchMethods = "search" | "chat.set" | "settings" | "settings.set" | "chats";

export interface SearchHandlerDeps {
  readonly directory: ChatDirectory;
  readonly chats: ChatService;
  readonly search: SearchService;
  readonly prefs: ChatPrefs;
}

export function searchHandlers(d: SearchHandlerDeps): Pick<Handlers, SearchMethods> {
  return {
    search: (p) => d.search.search(p),
    "chat.set": async (p) => {
      const chat = d.directory.chat(p.chat);
      const { chat: _, ...change } = p;
      return { chat: chat.name, ...await d.prefs.set(chat.id, change) };
    },
    settings: () => d.prefs.settings,
    "settings.set": (p) => d.prefs.setSettings(p),
    chats: async () => (await d.chats.chats()).map((c) => ({ ...c, prefs: d.prefs.get(c.id) })),
  };
}
