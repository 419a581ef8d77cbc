/** The local API's file methods (node/files), added to the handler table by handlers.ts. */
import type { Params } from "../api/mod.ts";
import type { FileService } from "../files/mod.ts";
import { decodeB64 } from "../protocol/mod.ts";

export function fileHandlers(files: FileService) {
  return {
    "file.send": (p: Params<"file.send">) => files.send(p.chat, p.path, p.caption),
    files: (p: Params<"files">) => files.list(p.chat),
    "file.save": (p: Params<"file.save">) => files.save(p.chat, p.id, p.out),
    "file.retry": (p: Params<"file.retry">) => files.retry(p.chat, p.id),
    "file.thumb": (p: Params<"file.thumb">) => files.thumb(p.chat, p.id),
    "file.cancel": (p: Params<"file.cancel">) => files.cancel(p.chat, p.id),
    "file.read": (p: Params<"file.read">) => files.readRange(p.chat, p.id, p.offset, p.length),
    "file.upload": (p: Params<"file.upload">) =>
      files.upload({
        chat: p.chat,
        name: p.name,
        ...(p.caption !== undefined ? { caption: p.caption } : {}),
        ...(p.upload !== undefined ? { upload: p.upload } : {}),
        offset: p.offset,
        bytes: decodeB64(p.b),
        last: p.last,
      }),
  };
}
