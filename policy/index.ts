import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

// Entry point for `pulumi preview --policy-pack policy`; the constructor serves the policies to the engine.
new PolicyPack("receiver-tier", {
    description:
        "Guardrails for the webhook receiver tier: database exposure, IMDSv2, encryption, secrets in user data, statement timeout, PgBouncer pooling.",
    enforcementLevel: "mandatory",
    policies,
});
