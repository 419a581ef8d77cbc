/**
 * The Roj protocol, spoken inside the `roj` SSH subsystem.
 *
 * Framing: every frame is
 *
 *   uint32 big-endian  length of the payload (1 .. 1 MiB)
 *   bytes              payload: one UTF-8 JSON object
 *
 * A frame over MAX_FRAME, a payload that is not JSON, or one that fails its
 * schema closes the session (only that session). Frames of an unknown `t` are
 * ignored, so newer peers can add kinds without breaking older ones.
 *
 * Frames:
 *   {"t":"hello","v":1,"features":[…],"name":"alice","sees":"203.0.113.7:50022"}
 *       first frame in each direction; `sees` is the address the sender sees
 *       the receiver at (how a node learns its outside address)
 *   {"t":"req","id":7,"m":"sync.push","p":{…}}         a request; ids are per direction
 *   {"t":"res","id":7,"ok":true,"r":{…}}               its answer
 *   {"t":"res","id":7,"ok":false,"code":"…","msg":"…"} or its refusal
 *
 * Methods (params → result) and their schemas are in methods.ts.
 *
 * Versions:
 *   1  hello, invite.redeem, sync.heads, sync.push, addr.put, addr.get,
 *      addr.mine, addr.notify; feature "anchor" marks a passive anchor
 *   1  (same version, new methods only) mbox.put, mbox.get, mbox.has, mbox.notify: an
 *      anchor's group mailbox; an anchor that lists feature "mailbox" serves them
 *   1  (same version, new methods only) relay.open, relay.offer, reach.check (node/relay); feature "relay"
 *      marks a node that relays for its contacts (not `--no-relay`). Unknown
 *      methods are answered unknown_method, so older peers interoperate.
 */
import { z } from "zod";

export const PROTOCOL_VERSION = 1;
/** Largest frame payload accepted or sent. */
export const MAX_FRAME = 1024 * 1024;
/** Features this node speaks; a peer uses a feature only if both list it. */
export const FEATURES = ["sync1"] as const;

export const HelloSchema = z.object({
  t: z.literal("hello"),
  v: z.number().int().min(1).max(1000),
  features: z.array(z.string().max(32)).max(64),
  name: z.string().max(64),
  sees: z.string().max(300).optional(),
});
export type Hello = z.infer<typeof HelloSchema>;

export const RequestSchema = z.object({
  t: z.literal("req"),
  id: z.number().int().min(0).max(2 ** 53 - 1),
  m: z.string().min(1).max(64),
  p: z.unknown(),
});
export type Request = z.infer<typeof RequestSchema>;

export const ResponseSchema = z.union([
  z.object({
    t: z.literal("res"),
    id: z.number().int().min(0),
    ok: z.literal(true),
    r: z.unknown(),
  }),
  z.object({
    t: z.literal("res"),
    id: z.number().int().min(0),
    ok: z.literal(false),
    code: z.string().max(64),
    msg: z.string().max(1000),
  }),
]);
export type Response = z.infer<typeof ResponseSchema>;

/** Any frame: the known kinds, or an unknown kind (to be ignored). */
export type Frame = Hello | Request | Response | { t: string };
