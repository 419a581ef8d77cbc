/**
 * The search service over a node's chats (node/search), built for wiring.ts:
 * it reads each chat's entries from the log in batches and folds them into
 * the views the index takes.
 */
import type { ChatDirectory, ChatService } from "./chats/mod.ts";
import type { Clock } from "./clock/mod.ts";
import type { EventBus } from "./events.ts";
import type { ChatLog } from "./log/mod.ts";
import { SearchService } from "./search/mod.ts";

export function wireSearch(d: {
  readonly bus: EventBus;
  readonly clock: Clock;
  readonly directory: ChatDirectory;
  readonly log: ChatLog;
  readonly chats: ChatService;
}): SearchService {
  return new SearchService({
    bus: d.bus,
    clock: d.clock,
    directory: d.directory,
    async *messages(chat, batch) {
      const entries = await d.log.read(chat.id);
      for (let i = 0; i < entries.length; i += batch) {
        yield await d.chats.views(chat, entries.slice(i, i + batch));
      }
    },
    countNewer: (chat, lamport) => d.log.countNewer(chat, lamport),
  });
}
