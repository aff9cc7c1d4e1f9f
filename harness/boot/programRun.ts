import * as fs from "fs";
import { FLEET_TAG } from "../../components/model/rollout";
import { runUnderMocks } from "../../offline/mockEngine";
import { plain } from "../../offline/secretValues";
import { PROJECT_DIR } from "../../runtime/projectDir";
import { certRequest, locallySignedCert, privateKey, selfSignedCert } from "./tlsAnswers";
import { BOOT_ACCOUNT, Deployment, DeploymentRequest, FleetDeployment, groupArn, parameterArn } from "./deployment";

// Child process of planDeployment (program.ts): runs this checkout's index.ts under the project's mocked
// engine (once per process, as `npm run plan` does) with a cloud that computes what AWS and the TLS
// provider would, and prints what the hosts need from it as JSON on stdout.

const request = JSON.parse(fs.readFileSync(0, "utf8")) as DeploymentRequest;

function groupName(resourceName: string): string {
    return `${resourceName}-boot`;
}

async function computed(type: string, name: string, raw: Record<string, unknown>): Promise<Record<string, unknown>> {
    const inputs = plain(raw) as Record<string, unknown>;
    switch (type) {
        case "aws:ssm/parameter:Parameter": {
            const parameter = String(inputs.name);
            return { arn: parameterArn(request.region, parameter), version: request.parameterVersions[parameter] ?? 1 };
        }
        case "aws:autoscaling/group:Group":
            return { name: groupName(name), arn: groupArn(request.region, groupName(name)) };
        case "tls:index/privateKey:PrivateKey":
            return privateKey();
        case "tls:index/selfSignedCert:SelfSignedCert":
            return selfSignedCert(inputs);
        case "tls:index/certRequest:CertRequest":
            return certRequest(inputs);
        case "tls:index/locallySignedCert:LocallySignedCert":
            return locallySignedCert(inputs);
        default:
            return {};
    }
}

async function main(): Promise<void> {
    const run = await runUnderMocks(
        "receiver-tier",
        request.stack,
        request.config,
        request.secretKeys,
        () => import("../../index"),
        computed,
    );
    const resources = run.resources.map((r) => ({ ...r, inputs: plain(r.inputs) as Record<string, unknown> }));
    const ofType = (type: string) => resources.filter((r) => r.type === type);
    const parameters = ofType("aws:ssm/parameter:Parameter").map((r) => ({
        name: String(r.inputs.name),
        type: String(r.inputs.type) as "String" | "SecureString",
        value: String(r.inputs.value ?? r.inputs.insecureValue),
    }));
    const templates = new Map(ofType("aws:ec2/launchTemplate:LaunchTemplate").map((r) => [`<id of ${r.name}>`, r]));
    const fleets: FleetDeployment[] = ofType("aws:autoscaling/group:Group").map((group) => {
        const tags = (group.inputs.tags as { key: string; value: string }[]).map((t) => [t.key, t.value] as const);
        const fleet = tags.find(([key]) => key === FLEET_TAG)?.[1];
        if (fleet === undefined) throw new Error(`group ${group.name} has no ${FLEET_TAG} tag`);
        const templateId = String((group.inputs.launchTemplate as { id: string }).id);
        const template = templates.get(templateId);
        if (template === undefined)
            throw new Error(`group ${group.name} names launch template ${templateId}, which the program did not register`);
        const policy = resources.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name === `${fleet}-instance-read`);
        if (policy === undefined) throw new Error(`no instance policy ${fleet}-instance-read`);
        const hooks = (group.inputs.initialLifecycleHooks as { name: string }[] | undefined) ?? [];
        return {
            fleet,
            groupName: groupName(group.name),
            groupTags: Object.fromEntries(tags),
            lifecycleHooks: hooks.map((h) => h.name),
            userDataBase64: String(template.inputs.userData),
            instancePolicy: String(policy.inputs.policy),
        };
    });
    const deployment: Deployment = {
        stack: request.stack,
        region: request.region,
        account: BOOT_ACCOUNT,
        fleets,
        parameters,
        outputs: run.outputs,
    };
    process.stdout.write(JSON.stringify(deployment));
}

void PROJECT_DIR;
main().then(
    () => process.exit(0),
    (err: unknown) => {
        process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        process.exit(1);
    },
);
