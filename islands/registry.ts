/**
 * Every island by name. The server renders them inside
 * `<div data-island="Name" data-props="…">`; main.tsx hydrates them in the browser.
 */
import type { ComponentType } from "preact";
import { AnchorStats } from "./anchor_stats.tsx";
import { ChatList } from "./chat_list.tsx";
import { ChatTitle } from "./chat_title.tsx";
import { Conversation } from "./conversation.tsx";
import { CopyButton } from "./copy_button.tsx";
import { FileTable } from "./file_table.tsx";
import { FileUpload } from "./file_upload.tsx";
import { HiveMap } from "./hive_map.tsx";
import { Notifier } from "./notifier.tsx";

// deno-lint-ignore no-explicit-any
export const islands: Record<string, ComponentType<any>> = {
  AnchorStats,
  ChatList,
  ChatTitle,
  Conversation,
  CopyButton,
  FileTable,
  FileUpload,
  HiveMap,
  Notifier,
};
