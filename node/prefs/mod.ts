/**
 * Per-chat settings (mute, pin, archive) and the admin's notification setting.
 * The only import surface of `node/prefs/`.
 *
 * @module
 */
export { ChatPrefs } from "./chat_prefs.ts";
