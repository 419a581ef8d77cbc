/**
 * The cascade across a WAN: a hive of 30 behind delaying doors
 * (testing/wan_delay.ts, 20 ± 5 ms each way, so a 40 ms round trip), against
 * the same hive behind doors that add nothing, in the same run. The time to
 * full reconnection is set beside the rounds the cascade ran × the round trip,
 * so the protocol's own cost in round trips shows apart from this machine's
 * CPU (which the 0 ms row measures).
 */
import { median, type Row } from "./_measure.ts";
import { type MoveRun, moves } from "./cascade_bench.ts";

const N = 30;
const ONE_WAY_MS = 20;
const JITTER_MS = 5;
const RTT_MS = 2 * ONE_WAY_MS;

function rows(label: string, r: { all: MoveRun[]; one: number[] }, rttMs: number): Row[] {
  const all = median(r.all.map((x) => x.ms));
  const rounds = median(r.all.map((x) => x.maxRounds));
  const one = median(r.one);
  const out: Row[] = [
    {
      name: `${label}: everyone moves, all pairs reconnected`,
      value: all,
      unit: "ms",
      note: `median of ${r.all.length}; runs ${r.all.map((x) => x.ms.toFixed(0)).join(", ")} ms`,
    },
    {
      name: `${label}: cascade rounds, most of any person`,
      value: rounds,
      unit: "rounds",
      note: "dial-and-ask rounds before all its contacts were back",
    },
    {
      name: `${label}: one person moves alone, its pairs reconnected`,
      value: one,
      unit: "ms",
      note: `median of ${r.one.length} (${r.one.map((x) => x.toFixed(0)).join(", ")} ms)`,
    },
  ];
  if (rttMs > 0) {
    out.push(
      {
        name: `${label}: rounds × RTT`,
        value: rounds * rttMs,
        unit: "ms",
        note: `${rounds} rounds × ${rttMs} ms`,
      },
      {
        name: `${label}: everyone moves, in round trips`,
        value: all / rttMs,
        unit: "RTT",
        note: "time to full reconnection ÷ RTT",
      },
      {
        name: `${label}: one person moves alone, in round trips`,
        value: one / rttMs,
        unit: "RTT",
        note: "TCP is local to the door; SSH, hello and the record exchange each cost round trips",
      },
    );
  }
  return out;
}

export async function benchWan(): Promise<Row[]> {
  const base = await moves(N, 3, undefined, 3, { oneWayMs: 0 });
  const wan = await moves(N, 3, undefined, 3, {
    oneWayMs: ONE_WAY_MS,
    jitterMs: JITTER_MS,
    seed: 7,
  });
  return [
    ...rows(`N=${N}, doors adding 0 ms (baseline)`, base, 0),
    ...rows(`N=${N}, ${RTT_MS} ms RTT (±${2 * JITTER_MS})`, wan, RTT_MS),
  ];
}
