export {
  ChatSync,
  type ChatSyncOptions,
  headsToWire,
  type OwnChainReport,
  type OwnChainWatch,
} from "./chat_sync.ts";
export { CatchUp, type CatchUpOptions, type CatchUpProgress } from "./catch_up.ts";
export { DeliveryMarks, type DeliveryMarksOptions } from "./delivery_marks.ts";
export { type BatchOptions, cutBatches, type Lack, lackCount, lacking } from "./reconcile.ts";
