import assert from "node:assert/strict";
import { classifyMapping } from "./nat_mapping.ts";

Deno.test("classifyMapping: two observers, two ports is a symmetric NAT", () => {
  const m = classifyMapping([
    { observer: "10.99.0.1:7022", seenHost: "10.99.0.3", seenPort: 40123 },
    { observer: "10.99.0.1:7023", seenHost: "10.99.0.3", seenPort: 51234 },
  ]);
  assert.equal(m.kind, "symmetric");
  assert.match(
    m.kind === "symmetric" ? m.reason : "",
    /port 40123, 10\.99\.0\.1:7023 at port 51234/,
  );
});

Deno.test("classifyMapping: same port everywhere is endpoint-independent; one observer says nothing", () => {
  assert.deepEqual(
    classifyMapping([{ observer: "10.99.0.1:7022", seenHost: "10.99.0.2", seenPort: 7022 }]),
    { kind: "unknown" },
  );
  // The same observer twice is one observer: its newest view counts.
  assert.deepEqual(
    classifyMapping([
      { observer: "10.99.0.1:7022", seenHost: "10.99.0.2", seenPort: 1 },
      { observer: "10.99.0.1:7022", seenHost: "10.99.0.2", seenPort: 2 },
    ]),
    { kind: "unknown" },
  );
  const m = classifyMapping([
    { observer: "10.99.0.1:7022", seenHost: "10.99.0.2", seenPort: 7022 },
    { observer: "10.99.0.1:7023", seenHost: "10.99.0.2", seenPort: 7022 },
  ]);
  assert.equal(m.kind, "endpoint-independent");
});

Deno.test("classifyMapping: observers that saw us at different public hosts are not compared", () => {
  assert.deepEqual(
    classifyMapping([
      { observer: "[2001:db8:99::1]:7022", seenHost: "2001:db8:60::2", seenPort: 7022 },
      { observer: "10.99.0.1:7023", seenHost: "10.99.0.3", seenPort: 40000 },
    ]),
    { kind: "unknown" },
  );
});
