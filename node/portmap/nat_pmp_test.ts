import assert from "node:assert/strict";
import { FakeClock } from "../clock/mod.ts";
import {
  decodeResponse,
  encodeExternalAddressRequest,
  encodeMapRequest,
  NatPmpClient,
} from "./nat_pmp.ts";

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
const bytes = (h: string) => new Uint8Array(h.match(/../g)!.map((x) => parseInt(x, 16)));

Deno.test("NAT-PMP requests: golden bytes (RFC 6886 §3.2, §3.3)", () => {
  assert.equal(hex(encodeExternalAddressRequest()), "0000");
  // TCP (op 2), internal 7022 (0x1b6e), suggested external 7022, 3600 s.
  assert.equal(hex(encodeMapRequest("tcp", 7022, 7022, 3600)), "000200001b6e1b6e00000e10");
  // Deleting: UDP (op 1), lifetime 0 and suggested external port 0 (§3.4).
  assert.equal(hex(encodeMapRequest("udp", 7022, 0, 0)), "000100001b6e000000000000");
});

Deno.test("NAT-PMP responses: golden bytes decoded", () => {
  assert.deepEqual(decodeResponse(bytes("008000000000002a0b630002")), {
    op: 0,
    epoch: 42,
    externalIp: "11.99.0.2",
  });
  assert.deepEqual(decodeResponse(bytes("0082000000000007" + "1b6e1b6f00000005")), {
    op: 2,
    epoch: 7,
    internalPort: 7022,
    externalPort: 7023,
    lifetimeS: 5,
  });
});

Deno.test("NAT-PMP responses: a refusal names its reason; stray or short datagrams are ignored", () => {
  assert.throws(
    () => decodeResponse(bytes("0082000200000007" + "1b6e1b6f00000005")),
    /NAT-PMP gateway refused: not authorized/,
  );
  assert.throws(
    () => decodeResponse(bytes("0081000900000000" + "0000000000000000")),
    /result code 9/,
  );
  assert.equal(decodeResponse(bytes("0002000000000000")), undefined, "a request, not a response");
  assert.equal(decodeResponse(bytes("01800000000000000b630002")), undefined, "version 1 (PCP)");
  assert.equal(decodeResponse(bytes("0082000000000007")), undefined, "too short for a map answer");
  assert.equal(decodeResponse(new Uint8Array(0)), undefined);
});

Deno.test("NAT-PMP client: resends after 250 ms, doubling, on the clock given; the answer ends it", async () => {
  const clock = new FakeClock({ start: 0 });
  const gateway = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    const port = (gateway.addr as Deno.NetAddr).port;
    const client = new NatPmpClient("127.0.0.1", port, clock);
    const answer = client.externalIp(new AbortController().signal);
    const [first] = await gateway.receive();
    assert.equal(hex(first), "0000");
    assert.equal(clock.nextDue, 250);
    await clock.advance(250);
    await gateway.receive();
    assert.equal(clock.nextDue, 750, "the second wait is twice the first");
    await clock.advance(500);
    const [, from] = await gateway.receive();
    await gateway.send(bytes("008000000000002a0b630002"), from);
    assert.equal(await answer, "11.99.0.2");
    assert.equal(clock.pending, 0, "no resend is left waiting");
  } finally {
    gateway.close();
  }
});
