/** Time, timers and protocol randomness: the one place node/ reads them (see clock.ts). */
export { type Clock, delay, systemClock, type TimerId, withTimeout } from "./clock.ts";
export { FakeClock, type FakeClockOptions, settle } from "./fake_clock.ts";
export { mulberry32, seededRandom } from "./mulberry32.ts";
