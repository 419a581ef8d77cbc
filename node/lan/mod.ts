export {
  Lan,
  LAN_GROUP,
  LAN_PORT,
  LAN_WINDOW_MS,
  type LanHost,
  type LanOptions,
  lanTag,
} from "./lan.ts";
export {
  type Announcement,
  decodeAnnouncement,
  encodeAnnouncement,
  MAX_ANNOUNCEMENT,
  MAX_TAGS,
  padTags,
  TAG_BUCKET,
} from "./announcement.ts";
