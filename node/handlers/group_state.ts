/** `group.state` and `group.forget`: a group this node may be out of (chats/group_service.ts). */
import type { Params } from "../api/mod.ts";
import type { GroupService } from "../chats/mod.ts";

export function groupStateHandlers(groups: GroupService) {
  return {
    "group.state": (p: Params<"group.state">) => groups.state(p.group),
    "group.forget": (p: Params<"group.forget">) => groups.forget(p.group),
  };
}
