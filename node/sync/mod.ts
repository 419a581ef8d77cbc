export { ChatSync, type ChatSyncOptions, headsToWire } from "./chat_sync.ts";
