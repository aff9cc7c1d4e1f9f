const DURATION_PATTERN = /^(\d+)\s*(ms|s|min|h)$/;
const MS_PER_UNIT: Record<string, number> = { ms: 1, s: 1000, min: 60_000, h: 3_600_000 };

/** True for the PostgreSQL duration forms the stack accepts: "500ms", "5s", "1min", "2h". */
export function isDuration(text: string): boolean {
    return DURATION_PATTERN.test(text.trim());
}

/** Milliseconds in a PostgreSQL duration such as "5s". */
export function durationToMs(text: string): number {
    const match = DURATION_PATTERN.exec(text.trim());
    if (!match) {
        throw new Error(`not a duration: ${JSON.stringify(text)}`);
    }
    return Number(match[1]) * (MS_PER_UNIT[match[2] as string] as number);
}
