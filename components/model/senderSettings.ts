import { TierConfig } from "../schema/schema";

/** The sender's rate limits and circuit breaker under the runbook's variable names. */
export function senderSettings(cfg: TierConfig): Record<string, string> {
    const s = cfg.sender;
    return {
        WEBHOOK_MAX_QPS: String(s.maxQps),
        WEBHOOK_MAX_INFLIGHT: String(s.maxInflight),
        WEBHOOK_BURST_LIMIT: String(s.burstLimit),
        // The receivers answer inside it (components/model/answerDeadline.ts): a sender never gives up on a stored webhook.
        WEBHOOK_REQUEST_TIMEOUT_SECONDS: String(s.requestTimeoutSeconds),
        WEBHOOK_CB_FAILURE_THRESHOLD: String(s.circuitBreaker.failureThreshold),
        WEBHOOK_CB_TIMEOUT_SECONDS: String(s.circuitBreaker.timeoutSeconds),
        WEBHOOK_CB_HALF_OPEN_PROBES: String(s.circuitBreaker.halfOpenProbes),
    };
}
