import { describe, expect, it } from "vitest";
import { durationToMs, isDuration } from "../../../../components/schema/duration";

describe("PostgreSQL durations", () => {
    it.each([
        ["500ms", 500],
        ["5s", 5_000],
        ["5 s", 5_000],
        ["1min", 60_000],
        ["2h", 7_200_000],
        ["0s", 0],
    ])("reads %s as %i ms", (text, ms) => {
        expect(isDuration(text)).toBe(true);
        expect(durationToMs(text)).toBe(ms);
    });

    it.each(["5", "5 seconds", "-1s", "1.5s", "5m", ""])("refuses %j", (text) => {
        expect(isDuration(text)).toBe(false);
        expect(() => durationToMs(text)).toThrow(/not a duration/);
    });
});
