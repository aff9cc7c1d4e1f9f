// The three places the mocked engine reaches into @pulumi/pulumi's internals, all here: each is stable in
// the pinned 3.248.0, and sdkInternals() names the one an upgrade moved instead of letting a plan silently
// lose parents, options or registrations (test/unit/program/mockEngine/sdkPatches.test.ts holds it).
/** The resource options that decide between an update and a replacement. */
export interface ChangeOptions {
    readonly replaceOnChanges: string[];
    readonly ignoreChanges: string[];
}

/** What the register request says beyond the inputs the mocks see. */
export interface RecordedOptions {
    readonly options: ChangeOptions;
    readonly parentUrn: string;
    /** URNs of its explicit dependencies (dependsOn). */
    readonly dependencies: string[];
}

interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getReplaceonchangesList(): string[];
    getIgnorechangesList(): string[];
    getDependenciesList(): string[];
}

interface Monitor {
    registerResource(request: RegisterRequest, callback: unknown): unknown;
}

/**
 * Mocks see a resource's inputs but not its options or its parent; the mocked monitor's register
 * request carries them, so it is wrapped to note them first.
 */
export function recordOptions(into: Map<string, RecordedOptions>): void {
    const monitor = sdkInternals().settings.getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (request, callback) => {
        into.set(`${request.getType()}::${request.getName()}`, {
            options: { replaceOnChanges: request.getReplaceonchangesList(), ignoreChanges: request.getIgnorechangesList() },
            parentUrn: request.getParent(),
            dependencies: request.getDependenciesList(),
        });
        return register(request, callback);
    };
}

/** What a dynamic resource's `__provider` input holds under the mocked engine. */
export const PROVIDER_PLACEHOLDER = "<dynamic provider code, not serialized under the mocked engine>";

interface ClosureSerializer {
    serializeFunction(func: () => unknown, args?: object): Promise<{ text: string; exportName: string; containsSecrets: boolean }>;
}

/**
 * A dynamic resource's `__provider` input is its provider's code, which the SDK serializes while the program
 * loads: an inspector session and the TypeScript compiler, a fifth of a plan. The plan never shows that text
 * (describe.ts HIDDEN_INPUTS), so the engine loads the program with a placeholder in its place, through the
 * serializer's module as the SDK's dynamic resources call it (internal, stable in the pinned 3.248.0).
 * test/integration/10-database-setting serializes the real provider as `pulumi up` does and runs that code
 * against PostgreSQL.
 */
export async function withoutProviderSerialization<T>(load: () => Promise<T>): Promise<T> {
    const serializer = sdkInternals().serializer;
    const serializeFunction = serializer.serializeFunction;
    serializer.serializeFunction = async () => ({ text: PROVIDER_PLACEHOLDER, exportName: "handler", containsSecrets: false });
    try {
        return await load();
    } finally {
        serializer.serializeFunction = serializeFunction;
    }
}

/** Resolves once every registration the program made has reached the mocks: the SDK's own wait that `pulumi up` ends with. */
export function waitForRegistrations(): Promise<void> {
    return sdkInternals().settings.waitForRPCs();
}

interface Settings {
    getMonitor(): Monitor;
    waitForRPCs(): Promise<void>;
}

/** The SDK's internal modules the engine patches or calls, each checked for the member it uses. */
export function sdkInternals(): { settings: Settings; serializer: ClosureSerializer } {
    const settings = require("@pulumi/pulumi/runtime/settings") as Partial<Settings>;
    const serializer = require("@pulumi/pulumi/runtime/closure/serializeClosure") as Partial<ClosureSerializer>;
    const missing = [
        typeof settings.getMonitor !== "function" && "runtime/settings getMonitor",
        typeof settings.waitForRPCs !== "function" && "runtime/settings waitForRPCs",
        typeof serializer.serializeFunction !== "function" && "runtime/closure/serializeClosure serializeFunction",
    ].filter((name): name is string => typeof name === "string");
    if (missing.length > 0) {
        const version = (require("@pulumi/pulumi/package.json") as { version: string }).version;
        throw new Error(`@pulumi/pulumi ${version} no longer has ${missing.join(", ")}: offline/sdkPatches.ts needs updating for it`);
    }
    return { settings: settings as Settings, serializer: serializer as ClosureSerializer };
}
