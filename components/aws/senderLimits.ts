import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { COMPONENT_TYPES } from "../model/resources";

export interface SenderLimitsArgs {
    /** The sender's settings by the runbook's variable names, as senderSettings renders them. */
    readonly settings: Readonly<Record<string, string>>;
    /** SSM name of each setting, under the one path the sender reads. */
    readonly parameterName: (setting: string) => string;
}

/** The sender's rate limits and circuit breaker as SSM parameters under one path. */
export class SenderLimits extends pulumi.ComponentResource {
    /** The settings as stored, by variable name. */
    public readonly settings: Record<string, string>;

    constructor(name: string, args: SenderLimitsArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.senderLimits, name, {}, opts);
        this.settings = { ...args.settings };
        for (const [key, value] of Object.entries(this.settings)) {
            new aws.ssm.Parameter(
                `${name}-${key.toLowerCase()}`,
                { name: args.parameterName(key), type: "String", insecureValue: value },
                { parent: this },
            );
        }
        this.registerOutputs({ settings: this.settings });
    }
}
