import * as pulumi from "@pulumi/pulumi";
import { formatProblems } from "./components/schema/problems";
import { loadPulumiConfig, loadPulumiSecrets } from "./components/config/pulumiConfig";
import { deployTier } from "./components/deployTier";

// Config is validated completely before a single resource is registered.
const { config, warnings } = loadPulumiConfig();
if (warnings.length > 0) {
    pulumi.log.warn(`receiver-tier config warnings:\n${formatProblems(warnings)}`);
}
const secrets = loadPulumiSecrets(config);
const tier = deployTier(config, secrets, pulumi.getStack(), () => new pulumi.Config("aws").require("region"));

export const healthUrl = tier.healthUrl;
export const pgbouncerEndpoint = tier.pgbouncerEndpoint;
export const poolEndpoints = tier.poolEndpoints;
export const showPoolsCommand = tier.showPoolsCommand;
export const statementTimeout = tier.statementTimeout;
export const senderLimits = tier.senderLimits;
export const dashboardUrl = tier.dashboardUrl;
export const pgbouncerCa = tier.pgbouncerCa;
