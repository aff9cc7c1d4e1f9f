import { durationToMs } from "../schema/duration";
import { SchemaConfig } from "../schema/schema";

/**
 * Seconds between the receiver's answer and the sender's timeout that the rest of the path needs (ALB, network,
 * Gunicorn reading the request and writing the answer): the receiver answers this much before the sender gives up.
 */
export const ANSWER_MARGIN_SECONDS = 2;

/** TCP keepalive of the receivers' connections to PgBouncer: a dead peer on an idle connection is noticed within idle + interval x count. */
export const DB_KEEPALIVES = { idleSeconds: 5, intervalSeconds: 2, count: 3 } as const;

type Timeouts = Pick<SchemaConfig, "sender" | "receiverRole">;

/** Every webhook is answered (202, 4xx or 503 + Retry-After) within this many seconds: the sender's timeout less the margin. */
export function answerWithinSeconds(cfg: Timeouts): number {
    return cfg.sender.requestTimeoutSeconds - ANSWER_MARGIN_SECONDS;
}

/**
 * A connection-class failure (PgBouncer or PostgreSQL restarting) is retried on a fresh connection only while
 * this much of the request has passed: the last attempt may still take the whole statement timeout and must end
 * before the answer deadline. Budget = sender timeout - statement timeout - margin.
 */
export function retryBudgetSeconds(cfg: Timeouts): number {
    return answerWithinSeconds(cfg) - durationToMs(cfg.receiverRole.statementTimeout) / 1000;
}
