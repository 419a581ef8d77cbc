/**
 * The NodeEvents of 1:1 mail (node/mailbox/direct_mail.ts), part of api.ts's
 * NodeEvent union, kept here so that the union stays short. `chat` is the
 * contact's chat as this node names it, `anchor` the holder's name: an
 * anchor's (`by` "anchor") or a contact's who carries (`by` "friend").
 *
 * "deposited": the anchor now holds our entries up to `seq` for the contact
 * (`entries` handed over now); "taken": a visit fetched `fetched` of the
 * contact's entries from it and `stored` were new here; "refused": the anchor
 * holds no more from us, in its own words (bounded and escaped as for the
 * group mailbox).
 */
export type DirectMailEvent =
  | OwnMailEvent
  | {
    readonly type: "direct-mail";
    readonly by: "anchor" | "friend";
    readonly op: "deposited";
    readonly anchor: string;
    readonly chat: string;
    readonly entries: number;
    readonly seq: number;
  }
  | {
    readonly type: "direct-mail";
    readonly by: "anchor" | "friend";
    readonly op: "taken";
    readonly anchor: string;
    readonly chat: string;
    readonly fetched: number;
    readonly stored: number;
  }
  | {
    readonly type: "direct-mail";
    readonly by: "anchor" | "friend";
    readonly op: "refused";
    readonly anchor: string;
    readonly chat: string;
    readonly reason: string;
  };

/**
 * Mail between the person's own devices (node/mailbox/own_mail.ts), which
 * are never online together: "deposited", the anchor holds our entries of
 * `chat` up to `seq` for the device `device` (a fingerprint); "taken", a
 * visit fetched `fetched` boxes that device left us, `stored` of them new
 * here; "filed", the anchor holds `records` of the person's records of one
 * kind (contacts; chat settings and read marks; issued invites) for that
 * device; "refused", as for 1:1 mail.
 */
export type OwnMailEvent =
  | {
    readonly type: "own-mail";
    readonly op: "deposited";
    readonly anchor: string;
    readonly device: string;
    readonly chat: string;
    readonly entries: number;
    readonly seq: number;
  }
  | {
    readonly type: "own-mail";
    readonly op: "taken";
    readonly anchor: string;
    readonly device: string;
    readonly fetched: number;
    readonly stored: number;
  }
  | {
    readonly type: "own-mail";
    readonly op: "filed";
    readonly anchor: string;
    readonly device: string;
    readonly kind: "contacts" | "settings" | "invites";
    readonly records: number;
  }
  | {
    readonly type: "own-mail";
    readonly op: "refused";
    readonly anchor: string;
    readonly device: string;
    readonly reason: string;
  };
