/** The local API's file methods (node/files), added to the handler table by handlers.ts. */
import type { Params } from "../api/mod.ts";
import type { FileService, GroupFiles } from "../files/mod.ts";
import { decodeB64 } from "../protocol/mod.ts";

/** A chat's files: a group's in `groups`, any other's in `files`. */
export function fileHandlers(files: FileService, groups?: GroupFiles) {
  const of = (chat: string) => groups?.owns(chat) ? groups : files;
  return {
    "file.send": (p: Params<"file.send">) => of(p.chat).send(p.chat, p.path, p.caption),
    files: (p: Params<"files">) => of(p.chat).list(p.chat),
    "file.save": (p: Params<"file.save">) => of(p.chat).save(p.chat, p.id, p.out),
    "file.retry": (p: Params<"file.retry">) => of(p.chat).retry(p.chat, p.id),
    "file.thumb": (p: Params<"file.thumb">) => of(p.chat).thumb(p.chat, p.id),
    "file.cancel": (p: Params<"file.cancel">) => of(p.chat).cancel(p.chat, p.id),
    "file.read": (p: Params<"file.read">) => of(p.chat).readRange(p.chat, p.id, p.offset, p.length),
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
