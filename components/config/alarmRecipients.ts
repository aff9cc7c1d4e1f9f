import { alarmSubscriptions, subscriptionKey } from "../model/alarmSubscriptions";
import { configKey, Problem } from "../schema/problems";
import { SchemaConfig } from "../schema/schema";

const error = (path: string[], message: string): Problem => ({ path: configKey(path), message, severity: "error" });

/**
 * An aws stack's alarms reach a person or a system: the stack's own topic has a subscriber, or the stack
 * notifies an existing topic (whose subscriptions are managed with it), or it says why no one is notified.
 */
export function alarmsReachSomeone(cfg: SchemaConfig): Problem[] {
    // The local stack has no CloudWatch and no topic.
    if (cfg.platform !== "aws") return [];
    const m = cfg.monitoring;
    const subscriptions = alarmSubscriptions(cfg);
    const seen = new Set(m.alarmEmail === undefined ? [] : [subscriptionKey({ protocol: "email", endpoint: m.alarmEmail })]);
    const duplicates = m.alarmSubscribers.flatMap((s, index) => {
        const key = subscriptionKey(s);
        if (!seen.has(key)) {
            seen.add(key);
            return [];
        }
        return [
            error(
                ["monitoring", "alarmSubscribers", String(index)],
                `${key} is listed twice (alarmEmail included): SNS keeps one subscription, so removing either entry would unsubscribe both`,
            ),
        ];
    });
    if (m.alarmsUnsubscribedBecause !== undefined && (subscriptions.length > 0 || m.alarmTopicArn !== undefined)) {
        return [
            ...duplicates,
            error(
                ["monitoring", "alarmsUnsubscribedBecause"],
                "contradicts the subscribers or the topic this stack names: remove it, or them",
            ),
        ];
    }
    if (subscriptions.length > 0 || m.alarmTopicArn !== undefined || m.alarmsUnsubscribedBecause !== undefined) return duplicates;
    return [
        error(
            ["monitoring", "alarmSubscribers"],
            "is empty, so the stack's alarm topic has no subscriber and its alarms reach no one: list at least one (e.g. [{ protocol: email, endpoint: oncall@example.com }], or an https endpoint of the paging service), name an existing topic in monitoring.alarmTopicArn, or set monitoring.alarmsUnsubscribedBecause to say why no one is notified",
        ),
    ];
}
