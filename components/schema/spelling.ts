/** Levenshtein distance: single-character insertions, deletions and substitutions. */
export function editDistance(a: string, b: string): number {
    let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const current = [i];
        for (let j = 1; j <= b.length; j++) {
            const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
            current.push(Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution));
        }
        previous = current;
    }
    return previous[b.length] as number;
}

/** The candidate nearest to `word` by edit distance (the first one on a tie), for "did you mean" hints. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
    let best: { candidate: string; distance: number } | undefined;
    for (const candidate of candidates) {
        const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
        if (best === undefined || distance < best.distance) best = { candidate, distance };
    }
    return best?.candidate;
}
