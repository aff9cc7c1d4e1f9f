import * as pulumi from "@pulumi/pulumi";
import { ChangeOptions, recordOptions, RecordedOptions, waitForRegistrations, withoutProviderSerialization } from "./sdkPatches";
import { SECRET_MASK } from "./secretValues";

/** A resource the program registered, with its inputs as the engine received them (secrets wrapped). */
export interface RegisteredResource {
    readonly type: string;
    readonly name: string;
    readonly custom: boolean;
    readonly inputs: Record<string, unknown>;
    readonly options: ChangeOptions;
    /** The `import` id it was registered with, if any. */
    readonly importId?: string;
    /** The parent's URN as the SDK sent it; empty for a resource without a parent. */
    readonly parentUrn: string;
    /** URNs of the resources it waits for (dependsOn), as the SDK sent them. */
    readonly dependencies: string[];
}

export interface ProgramRun {
    readonly resources: RegisteredResource[];
    readonly outputs: Record<string, unknown>;
}

async function resolveOutput(value: unknown): Promise<unknown> {
    if (pulumi.Output.isInstance(value)) {
        const output = value as pulumi.Output<unknown>;
        if (await pulumi.isSecret(output)) return SECRET_MASK;
        return resolveOutput(await new Promise((resolve) => output.apply(resolve)));
    }
    if (Array.isArray(value)) return Promise.all(value.map(resolveOutput));
    if (typeof value === "object" && value !== null) {
        const entries = await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await resolveOutput(v)] as const));
        return Object.fromEntries(entries);
    }
    return value;
}

/** Computed attributes the mocked cloud returns: recognisable placeholders, never real-looking values. */
function computedState(name: string): Record<string, unknown> {
    return {
        arn: `<arn of ${name}>`,
        privateIp: `<private ip of ${name}>`,
        dnsName: `<dns name of ${name}>`,
        zoneId: `<zone of ${name}>`,
        arnSuffix: `<arnSuffix of ${name}>`,
        latestVersion: 1,
        version: 1,
        // @pulumi/tls: keys and certificates the provider would generate.
        privateKeyPem: `<private key of ${name}>`,
        certPem: `<certificate of ${name}>`,
        certRequestPem: `<certificate request of ${name}>`,
    };
}

/**
 * The data sources the program reads (invokes), each with what the mocked cloud answers. Any other
 * invoke fails the run, naming its token: a data source nobody mocked must not pass silently.
 */
const KNOWN_INVOKES: Readonly<Record<string, (inputs: Record<string, unknown>) => Record<string, unknown>>> = {
    // The AMI id behind an SSM alias (aws.amiSsmParameter): both fleets' launch templates.
    "aws:ssm/getParameter:getParameter": (inputs) => ({ ...inputs, value: `<value of ${String(inputs.name)}>` }),
};

/** An invoke the mocked engine has no answer for. */
export class UnknownInvokeError extends Error {
    /** The SDK rethrows a failed invoke with the monitor error's `details` as its message. */
    readonly details: string;

    constructor(readonly token: string) {
        super(`the mocked engine answers no invoke ${token}; add it to KNOWN_INVOKES in offline/mockEngine.ts`);
        this.details = this.message;
    }
}

/**
 * While a program registers, the SDK formats a stack trace for each promise it makes, four per output
 * property (~7,800 for canary), which only its leaked-promise report reads. Through the source maps in
 * place (Node's, Vite's) that was a third of a plan and two thirds of a test run. The engine loads the
 * program without stack frames, so an error it throws while loading shows its message only (what the
 * plan prints anyway); PULUMI_DEBUG_PROMISE_LEAKS=1, the SDK's switch for that report, keeps them.
 */
async function withoutStackTraces<T>(load: () => Promise<T>): Promise<T> {
    if (process.env.PULUMI_DEBUG_PROMISE_LEAKS) return load();
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
        return await load();
    } finally {
        Error.stackTraceLimit = limit;
    }
}

/**
 * What a cloud would compute for a resource (ids aside), merged over the placeholders: the boot harness
 * (harness/boot/program.ts) answers real ARNs, versions and TLS material so hosts can boot from the run.
 */
export type ComputedAnswer = (type: string, name: string, inputs: Record<string, unknown>) => Promise<Record<string, unknown>>;

/**
 * Runs a Pulumi program under the mocked engine: no CLI, no cloud, no credentials. `config` is
 * the stack config as the SDK passes it (objects as JSON text). `load` imports the program,
 * which must not have been imported before in this module registry. An invoke of a data source
 * the engine does not know rejects the run with an UnknownInvokeError.
 */
export async function runUnderMocks(
    project: string,
    stack: string,
    config: Record<string, string>,
    secretKeys: string[],
    load: () => Promise<Record<string, unknown>>,
    computed?: ComputedAnswer,
): Promise<ProgramRun> {
    const resources: RegisteredResource[] = [];
    const recorded = new Map<string, RecordedOptions>();
    const noOptions: RecordedOptions = { options: { replaceOnChanges: [], ignoreChanges: [] }, parentUrn: "", dependencies: [] };
    // Outputs that depend on a failed invoke never resolve: the run ends with the failure instead.
    let failRun: (err: Error) => void = () => undefined;
    const failed = new Promise<never>((_, reject) => (failRun = reject));
    pulumi.runtime.setAllConfig(config, secretKeys);
    await pulumi.runtime.setMocks(
        {
            async newResource(args) {
                const { options, parentUrn, dependencies } = recorded.get(`${args.type}::${args.name}`) ?? noOptions;
                resources.push({
                    type: args.type,
                    name: args.name,
                    custom: args.custom ?? true,
                    inputs: args.inputs,
                    options,
                    importId: args.id || undefined,
                    parentUrn,
                    dependencies,
                });
                const answered = computed === undefined ? {} : await computed(args.type, args.name, args.inputs);
                return { id: `<id of ${args.name}>`, state: { ...computedState(args.name), ...args.inputs, ...answered } };
            },
            call(args) {
                const answer = KNOWN_INVOKES[args.token];
                if (answer === undefined) {
                    const err = new UnknownInvokeError(args.token);
                    failRun(err);
                    throw err;
                }
                return answer(args.inputs);
            },
        },
        project,
        stack,
        false,
    );
    recordOptions(recorded);
    const run = async (): Promise<ProgramRun> => {
        const program = await withoutStackTraces(() => withoutProviderSerialization(load));
        const outputs: Record<string, unknown> = {};
        for (const [key, value] of Object.entries(program)) outputs[key] = await resolveOutput(value);
        // Registrations are asynchronous: wait until every one has reached the mocks.
        await waitForRegistrations();
        return { resources, outputs };
    };
    return Promise.race([failed, run()]);
}
