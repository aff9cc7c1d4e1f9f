import { TierConfig } from "../schema/schema";
import { localPoolEndpoints, renderEndpoints } from "./endpoints";
import { senderSettings } from "./senderSettings";

/** The stack outputs every platform derives from config alone. */
export function configOutputs(cfg: TierConfig) {
    const { healthUrl, pgbouncerEndpoint, showPoolsCommand } = renderEndpoints(cfg);
    return { healthUrl, pgbouncerEndpoint, showPoolsCommand };
}

/** The local stack's outputs, the ones index.ts exports; statementTimeout is the database setting as read back. */
export interface LocalStackOutputs<Timeout = string> {
    readonly healthUrl: string;
    readonly pgbouncerEndpoint: string;
    readonly poolEndpoints: string[];
    readonly showPoolsCommand: string;
    readonly statementTimeout: Timeout;
    readonly senderLimits: Record<string, string>;
}

/**
 * What `pulumi stack output` shows for the local stack: the program exports these with the setting
 * it applied, `npm run local` with the setting it read back from the running PostgreSQL.
 */
export function localStackOutputs<Timeout>(cfg: TierConfig, statementTimeout: Timeout): LocalStackOutputs<Timeout> {
    return {
        ...configOutputs(cfg),
        poolEndpoints: localPoolEndpoints(cfg),
        statementTimeout,
        senderLimits: senderSettings(cfg),
    };
}
