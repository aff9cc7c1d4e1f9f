/** The two alternating logins of a role pair: one active, the other rotated while unused. */
export const LOGIN_SLOTS = ["a", "b"] as const;
export type LoginSlot = (typeof LOGIN_SLOTS)[number];
