import { createHash } from "crypto";
import { AlarmSubscriber, SchemaConfig } from "../schema/schema";

/** One subscription of the alarm topic, with the id its resource is named by. */
export type AlarmSubscription = AlarmSubscriber & {
    /** Stable while the subscriber is listed, wherever in the list: a reordered list replaces nothing. */
    readonly id: string;
};

/** SNS keeps one subscription per protocol and endpoint; e-mail addresses compare without case. */
export function subscriptionKey(s: AlarmSubscriber): string {
    return `${s.protocol} ${s.protocol.startsWith("email") ? s.endpoint.toLowerCase() : s.endpoint}`;
}

/** Whom the stack subscribes to its alarm topic: monitoring.alarmEmail, then monitoring.alarmSubscribers. */
export function alarmSubscriptions(cfg: SchemaConfig): AlarmSubscription[] {
    const { alarmEmail, alarmSubscribers } = cfg.monitoring;
    // alarmEmail keeps the id it had before alarmSubscribers existed.
    const email: AlarmSubscription[] = alarmEmail === undefined ? [] : [{ id: "email", protocol: "email", endpoint: alarmEmail }];
    return [
        ...email,
        ...alarmSubscribers.map((s) => ({
            ...s,
            id: `${s.protocol}-${createHash("sha256").update(subscriptionKey(s)).digest("hex").slice(0, 8)}`,
        })),
    ];
}
