/** Introductions: signed cards of contacts, and the flow that makes two people contacts. The only import surface of `node/introductions/`. */
export {
  type Card,
  cardBytes,
  cardText,
  isCardV2,
  MAX_CARD_BYTES,
  MAX_CARD_TEXT,
  openCard,
  signCard,
} from "./card.ts";
export { MAX_CARD_DEVICES, MAX_CARD_V2_BYTES, signCardV2 } from "./card_v2.ts";
export { cardDevices } from "./intro_people.ts";
export { IntroService } from "./intro_service.ts";
export { DEFAULT_INTRO_SECONDS, type IntroDeps } from "./introducer.ts";
export {
  MAX_ENDED,
  MAX_OPEN_MADE,
  MAX_OPEN_OFFERED,
  MAX_OPEN_OFFERED_PER_INTRODUCER,
} from "./intro_records.ts";
export { ACCEPTED_GRACE_MS, TOMBSTONE_MS } from "./introduction.ts";
