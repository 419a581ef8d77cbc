/**
 * The NodeEvents of getting through NATs (node/reach, relay, punch, portmap,
 * lan): reachability, relays, punching, port mapping and LAN announcements.
 * Part of api.ts's NodeEvent union, kept here so that the union stays short.
 *
 * They carry codes and values, never prose: a script or a test reads the
 * fields, and the log line said beside each is for people. Peers are named as
 * this node shows them (petname, else fingerprint), with their fingerprint
 * where the event is about one contact. What a router or a peer supplied
 * (a gateway's address, an endpoint a coordinator saw) is bounded.
 */

/** Why a peer's session tells nothing of whether the outside can dial us. */
export type NoEvidenceCode =
  | "relayed"
  | "lan"
  | "ipv6"
  | "own-subnet"
  | "own-private-address"
  | "we-dialled"
  | "punched";

/** Why a punch failed as a whole ("coordinators-failed": see each attempt). */
export type PunchFailureCode =
  | "no-udp"
  | "no-coordinator"
  | "symmetric-nat"
  | "connected"
  | "coordinators-failed"
  | "error";

/**
 * Why one coordinator's attempt failed: our probe got no answer, the target
 * is behind a symmetric NAT, cannot be reached there (or refused: the same to
 * us), the QUIC handshake to its endpoint got no answer ("no-answer": a NAT
 * on the way may map each destination to a new port), a session was up first.
 */
export type PunchAttemptCode =
  | "probe-failed"
  | "target-symmetric-nat"
  | "not-found"
  | "refused"
  | "busy"
  | "timeout"
  | "no-answer"
  | "exists"
  | "error";

/** Why a router mapped nothing: no gateway found, no LAN address, no answer, refused, a NAT outside it. */
export type PortMapMissCode =
  | "no-gateway"
  | "no-lan-address"
  | "no-answer"
  | "refused"
  | "behind-another-nat";

export type NatEvent =
  /** Whether peers outside our networks can dial us changed; "inbound": `peer` dialled us from outside. */
  | {
    readonly type: "reachability";
    readonly reachable: boolean;
    readonly how: "dialled-back" | "dial-back-failed" | "inbound";
    readonly peer?: string;
    readonly fingerprint?: string;
  }
  /** A peer was not asked to dial us back: its session tells nothing (told once per session). */
  | {
    readonly type: "dial-back-skipped";
    readonly peer: string;
    readonly fingerprint: string;
    readonly code: NoEvidenceCode;
  }
  /** We dialled a peer back at its request (reach.check). */
  | {
    readonly type: "dial-back";
    readonly peer: string;
    readonly fingerprint: string;
    readonly address: string;
    readonly reached: boolean;
  }
  /**
   * The relays our next address record names changed (asked as it is
   * published; none while reachable, or not known yet: `reachable` null).
   */
  | {
    readonly type: "relays-named";
    readonly reachable: boolean | null;
    readonly relays: readonly string[];
  }
  /** As a relay: a splice from one member to another began, ended, or was refused (a RojError code). */
  | {
    readonly type: "relay";
    readonly state: "spliced";
    readonly from: string;
    readonly to: string;
  }
  | {
    readonly type: "relay";
    readonly state: "ended";
    readonly from: string;
    readonly to: string;
    readonly bytes: number;
  }
  | {
    readonly type: "relay";
    readonly state: "refused";
    readonly from: string;
    readonly to: string;
    readonly code: string;
  }
  /** As the asker: relay `via` did not get us to a contact (a RojError code, or "error"). */
  | {
    readonly type: "relay-failed";
    readonly peer: string;
    readonly fingerprint: string;
    readonly via: string;
    readonly code: string;
  }
  /** A relayed session with a contact was replaced by a direct one (no "down" in between). */
  | { readonly type: "moved-direct"; readonly peer: string; readonly fingerprint: string }
  /** A punched UDP path to a contact, coordinated by `via`, at its endpoint "ip:port". */
  | {
    readonly type: "punch";
    readonly ok: true;
    readonly peer: string;
    readonly fingerprint: string;
    readonly via: string;
    readonly endpoint: string;
  }
  /** A punch that failed, with each coordinator's attempt in order. */
  | {
    readonly type: "punch";
    readonly ok: false;
    readonly peer: string;
    readonly fingerprint: string;
    readonly code: PunchFailureCode;
    readonly attempts: readonly { readonly via: string; readonly code: PunchAttemptCode }[];
  }
  /** As the target: a contact asked, through coordinator `via`, for a punched path. */
  | {
    readonly type: "punch-offer";
    readonly from: string;
    readonly fingerprint: string;
    readonly via: string;
    readonly accepted: true;
    /** Where its packets come from, "ip:port". */
    readonly endpoint: string;
  }
  | {
    readonly type: "punch-offer";
    readonly from: string;
    readonly fingerprint: string;
    readonly via: string;
    readonly accepted: false;
    /**
     * "unvouched": the asker did not sign the endpoint for this coordinator and
     * us; "unobserved": no coordinator where we see it can have seen that
     * address; "rate-limited": too many offers from that asker or coordinator.
     */
    readonly code:
      | "symmetric-nat"
      | "busy"
      | "connected"
      | "unvouched"
      | "unobserved"
      | "rate-limited";
  }
  /** As a coordinator: one contact was introduced to another for a punch. */
  | { readonly type: "punch-introduced"; readonly asker: string; readonly target: string }
  /** The verdict on our NAT changed: where each coordinator ("ip:port") saw our UDP endpoint. */
  | {
    readonly type: "nat-mapping";
    readonly mapping: "symmetric" | "endpoint-independent" | "unknown";
    readonly observations: readonly {
      readonly observer: string;
      readonly host: string;
      readonly port: number;
    }[];
  }
  /** The router mapped our listen port. */
  | {
    readonly type: "port-map";
    readonly state: "mapped";
    readonly method: "upnp" | "nat-pmp";
    readonly gateway: string;
    /** What peers outside dial, "ip:port". */
    readonly external: string;
    readonly internal: string;
    readonly protocols: readonly ("tcp" | "udp")[];
    readonly leaseSeconds: number;
  }
  /** It mapped TCP but refused UDP (QUIC). */
  | { readonly type: "port-map"; readonly state: "udp-refused"; readonly code: PortMapMissCode }
  /** A renewal worked; `moved`: the router now maps another external address. */
  | {
    readonly type: "port-map";
    readonly state: "renewed";
    readonly external: string;
    readonly leaseSeconds: number;
    readonly moved: boolean;
  }
  | { readonly type: "port-map"; readonly state: "renewal-failed"; readonly code: PortMapMissCode }
  /** Mappings removed (the node stopping, or an attempt undone), or that could not be (the lease ends them). */
  | {
    readonly type: "port-map";
    readonly state: "removed" | "remove-failed";
    readonly mappings: readonly { readonly protocol: "tcp" | "udp"; readonly port: number }[];
  }
  /** No router mapped the port: what each method found. */
  | {
    readonly type: "port-map";
    readonly state: "none";
    readonly tried: readonly {
      readonly method: "upnp" | "nat-pmp";
      readonly code: PortMapMissCode;
      readonly gateway?: string;
    }[];
  }
  /** LAN announcements go out on these interfaces (name, addresses sent from), after each (re)join. */
  | {
    readonly type: "lan-interfaces";
    readonly interfaces: readonly {
      readonly name: string;
      readonly addresses: readonly string[];
    }[];
  }
  /** Announcing on an interface began to fail (a cable out), or works (again). */
  | {
    readonly type: "lan-announce";
    readonly interface: string;
    readonly address: string;
    readonly ok: boolean;
  }
  /** A contact's LAN announcement from `address` (its SSH "host:port"): new there, or dialled (`dial`). */
  | {
    readonly type: "lan-heard";
    readonly peer: string;
    readonly fingerprint: string;
    readonly address: string;
    readonly dial: boolean;
  };
