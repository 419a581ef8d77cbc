/// <reference lib="dom" />
/**
 * The files of the open chat, by id, for the conversation to show an image
 * message's thumbnail: fetched once a file message is on screen whose file is
 * not known yet, and again when one of the chat's transfers ends (its state,
 * complete or not, decides whether the thumbnail opens the full size).
 */
import { useEffect, useState } from "preact/hooks";
import type { FileView, MessageView } from "../node/api/mod.ts";
import { callApi } from "./_api.ts";
import { onEvents } from "./_events.ts";

/** A file message's file id: the start of its entry's hash (FileView.id). */
export const fileIdOf = (m: MessageView) => m.hash.slice(0, 12);

export function useChatFiles(
  chat: string,
  messages: readonly MessageView[],
): ReadonlyMap<string, FileView> {
  const [files, setFiles] = useState<ReadonlyMap<string, FileView>>(new Map());
  const refetch = () =>
    callApi<FileView[]>("files", { chat })
      .then((list) => setFiles(new Map(list.map((f) => [f.id, f]))))
      .catch(() => {});
  const missing = messages.some((m) => m.type === "file" && !files.has(fileIdOf(m)));
  useEffect(() => {
    // Once per new file message: a file the node does not list is not asked for again and again.
    if (missing) refetch();
  }, [chat, missing && messages.length]);
  useEffect(() =>
    onEvents({
      event: (e) => {
        if (e.type === "file" && e.chat === chat && e.op !== "progress" && e.op !== "bad-chunk") {
          refetch();
        }
      },
    }), [chat]);
  return files;
}
