/**
 * Peer text made safe for terminals and logs: escapeControl (one line),
 * escapeLines (message bodies, continuation lines indented), jsonLine (--json).
 *
 *   escapeControl("\x1b[31mbob\n10:00 x"); // "\\x1b[31mbob\\n10:00 x"
 */
export { escapeControl, escapeLines, jsonLine } from "./terminal_text.ts";
export { RepeatThrottle, type RepeatThrottleOptions } from "./repeat_throttle.ts";
