/**
 * What kind of NAT maps our UDP endpoint, from what coordinators saw.
 *
 * Every punch probe (node/punch) is sent from the node's one UDP endpoint, and
 * the coordinator answers with the public endpoint it saw it come from. A NAT
 * that keeps one mapping per local endpoint (endpoint-independent: most home
 * routers) shows every observer the same public port; a NAT that maps each
 * destination to a new port (endpoint-dependent, "symmetric") shows two
 * observers at different endpoints two different ports. Behind the latter a
 * punched path cannot work (the peer would have to guess the port our NAT
 * picks for it), so the node does not try and goes to a relay at once.
 */

/** One coordinator's view of our UDP endpoint. */
export interface MappingObservation {
  /** The endpoint the probe went to ("10.99.0.1:7022"). */
  readonly observer: string;
  /** Host and port it saw the probe come from. */
  readonly seenHost: string;
  readonly seenPort: number;
}

export type NatMapping =
  /** Fewer than two observers at different endpoints saw us from one public address. */
  | { readonly kind: "unknown" }
  /** Two or more observers saw the same public port. */
  | { readonly kind: "endpoint-independent"; readonly reason: string }
  /** Two observers saw different public ports: a symmetric NAT. */
  | { readonly kind: "symmetric"; readonly reason: string };

/**
 * Classifies observations: the newest one per observer counts; only observers
 * that saw us at the same public host are compared (an IPv6 path or a second
 * uplink is another mapping altogether, not a symmetric NAT).
 */
export function classifyMapping(observations: readonly MappingObservation[]): NatMapping {
  const byObserver = new Map<string, MappingObservation>();
  for (const o of observations) byObserver.set(o.observer, o);
  const byHost = new Map<string, MappingObservation[]>();
  for (const o of byObserver.values()) {
    byHost.set(o.seenHost, [...(byHost.get(o.seenHost) ?? []), o]);
  }
  let same: MappingObservation[] | undefined;
  for (const group of byHost.values()) {
    if (group.length < 2) continue;
    const first = group[0]!;
    const other = group.find((o) => o.seenPort !== first.seenPort);
    if (other) {
      return {
        kind: "symmetric",
        reason:
          `${first.observer} saw our UDP endpoint at port ${first.seenPort}, ${other.observer} ` +
          `at port ${other.seenPort}: the NAT maps each destination to a new port`,
      };
    }
    same ??= group;
  }
  if (!same) return { kind: "unknown" };
  return {
    kind: "endpoint-independent",
    reason: `${same.map((o) => o.observer).join(" and ")} saw our UDP endpoint at the same port ${
      same[0]!.seenPort
    }`,
  };
}

/** The status field for a verdict (node/api StatusView.nat): nothing while unknown. */
export function natView(
  m: NatMapping | undefined,
): { nat?: { mapping: "symmetric" | "endpoint-independent"; reason: string } } {
  return m && m.kind !== "unknown" ? { nat: { mapping: m.kind, reason: m.reason } } : {};
}
