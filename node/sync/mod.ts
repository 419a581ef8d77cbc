export { ChatSync, type ChatSyncOptions, headsToWire } from "./chat_sync.ts";
export { DeliveryMarks, type DeliveryMarksOptions } from "./delivery_marks.ts";
