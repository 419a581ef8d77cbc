export {
  Lan,
  LAN_GROUP,
  LAN_GROUP6,
  LAN_PORT,
  LAN_WINDOW_MS,
  type LanHost,
  type LanNote,
  type LanOptions,
  type LanStats,
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
export {
  type InterfaceState,
  ipv6Kind,
  isPrivateIpv4,
  type LanInterface,
  lanInterfaces,
  pickLanInterfaces,
} from "./interfaces.ts";
