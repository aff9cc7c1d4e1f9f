import { randomBytes, randomUUID } from "crypto";
import { EventEmitter } from "events";
import * as http from "http";
import * as https from "https";
import { AddressInfo } from "net";
import {
    MetricDatum,
    parseImdsRequest,
    parseParameterSelector,
    parseQueryBody,
    parseS3Request,
    parseSigV4,
    queryList,
    queryMetricData,
    xmlEscape,
} from "./awsRequests";
import { groupArn, parameterArn } from "./deployment";
import { AuthorizationRequest, evaluatePolicy, PolicyDocument } from "./iam";

// The AWS a booted host talks to: IMDSv2 (plain HTTP, reached at 169.254.169.254 through the relay in
// the host's namespace) and the regional endpoints over HTTPS with a test CA. Every call is recorded;
// every call a host's instance policy does not allow is refused with AccessDenied, as AWS would.

/** A booted instance as the stand-in knows it. */
export interface Instance {
    readonly hostName: string;
    readonly address: string;
    readonly instanceId: string;
    readonly groupName: string;
    readonly roleName: string;
    readonly policy: PolicyDocument;
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken: string;
}

export interface Group {
    readonly name: string;
    readonly tags: Readonly<Record<string, string>>;
    readonly lifecycleHooks: readonly string[];
}

export interface RecordedCall {
    readonly at: number;
    readonly host: string;
    readonly service: string;
    readonly action: string;
    readonly resource: string;
    readonly allowed: boolean;
    readonly detail?: string;
}

export interface LifecycleEvent {
    readonly at: number;
    readonly host: string;
    readonly instanceId: string;
    readonly result: string;
}

export interface MetricRecord extends MetricDatum {
    readonly at: number;
    readonly host: string;
    readonly namespace: string;
}

interface ParameterVersion {
    readonly value: string;
    readonly version: number;
    readonly modified: Date;
}

interface StoredParameter {
    readonly type: "String" | "SecureString";
    readonly versions: ParameterVersion[];
}

export interface StandInOptions {
    readonly region: string;
    readonly account: string;
    /** Address the listeners bind to (the network's gateway). */
    readonly bindAddress: string;
    readonly tls: { readonly certPem: string; readonly keyPem: string };
}

class AwsError extends Error {
    constructor(
        readonly status: number,
        readonly code: string,
        message: string,
    ) {
        super(message);
    }
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => resolve(Buffer.concat(chunks)));
        req.on("error", reject);
    });
}

const requestId = () => randomUUID();

export class StandInAws {
    readonly calls: RecordedCall[] = [];
    readonly lifecycle: LifecycleEvent[] = [];
    readonly metrics: MetricRecord[] = [];
    readonly events = new EventEmitter();
    private readonly parameters = new Map<string, StoredParameter>();
    private readonly objects = new Map<string, Buffer>();
    private readonly instances = new Map<string, Instance>();
    private readonly groups = new Map<string, Group>();
    private readonly tokens = new Map<string, { address: string; expires: number }>();
    /** Instances whose launch lifecycle action is still pending, by instance id. */
    private readonly pendingLaunch = new Set<string>();
    private imds?: http.Server;
    private api?: https.Server;
    imdsPort = 0;
    apiPort = 0;

    constructor(private readonly options: StandInOptions) {}

    async start(apiPort = 443): Promise<void> {
        this.imds = http.createServer((req, res) => void this.serveImds(req, res));
        this.api = https.createServer(
            { cert: this.options.tls.certPem, key: this.options.tls.keyPem },
            (req, res) => void this.serveApi(req, res),
        );
        await new Promise<void>((resolve, reject) => this.imds?.once("error", reject).listen(0, this.options.bindAddress, resolve));
        await new Promise<void>((resolve, reject) => this.api?.once("error", reject).listen(apiPort, this.options.bindAddress, resolve));
        this.imdsPort = (this.imds.address() as AddressInfo).port;
        this.apiPort = (this.api.address() as AddressInfo).port;
    }

    async stop(): Promise<void> {
        for (const server of [this.imds, this.api]) {
            if (server === undefined) continue;
            server.closeAllConnections();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        }
    }

    // --- what the harness sets up -------------------------------------------------------------

    /** Writes a new version of a parameter (PutParameter with Overwrite); returns the version. */
    putParameter(name: string, type: "String" | "SecureString", value: string): number {
        const stored = this.parameters.get(name) ?? { type, versions: [] };
        const version = stored.versions.length + 1;
        stored.versions.push({ value, version, modified: new Date() });
        this.parameters.set(name, stored);
        return version;
    }

    parameterValue(name: string): string | undefined {
        return this.parameters.get(name)?.versions.at(-1)?.value;
    }

    putObject(bucket: string, key: string, body: Buffer): void {
        this.objects.set(`${bucket}/${key}`, body);
    }

    addGroup(group: Group): void {
        this.groups.set(group.name, group);
    }

    /** A new instance of a group: credentials of its role, its launch action pending. */
    launchInstance(spec: Pick<Instance, "hostName" | "address" | "groupName" | "roleName" | "policy">): Instance {
        const instance: Instance = {
            ...spec,
            instanceId: `i-0${randomBytes(8).toString("hex").slice(0, 16)}`,
            accessKeyId: `ASIA${randomBytes(8).toString("hex").toUpperCase()}`,
            secretAccessKey: randomBytes(20).toString("base64"),
            sessionToken: randomBytes(32).toString("base64"),
        };
        for (const [id, old] of this.instances) if (old.address === spec.address) this.instances.delete(id);
        this.instances.set(instance.instanceId, instance);
        this.pendingLaunch.add(instance.instanceId);
        return instance;
    }

    // --- IMDSv2 --------------------------------------------------------------------------------

    private instanceAt(address: string): Instance | undefined {
        const normalized = address.replace(/^::ffff:/, "");
        return [...this.instances.values()].find((i) => i.address === normalized);
    }

    private async serveImds(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
        const instance = this.instanceAt(req.socket.remoteAddress ?? "");
        const query = parseImdsRequest(req.method ?? "GET", req.url ?? "/");
        const host = instance?.hostName ?? req.socket.remoteAddress ?? "?";
        const send = (status: number, body: string, type = "text/plain") => {
            res.writeHead(status, { "Content-Type": type, "Content-Length": Buffer.byteLength(body) });
            res.end(body);
        };
        await readBody(req);
        if (instance === undefined) return send(404, "not an instance of this stand-in\n");
        if (query.kind === "token") {
            const ttl = Number(req.headers["x-aws-ec2-metadata-token-ttl-seconds"]);
            if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21600) return send(400, "");
            const token = randomBytes(24).toString("base64url");
            this.tokens.set(token, { address: instance.address, expires: Date.now() + ttl * 1000 });
            this.record(host, "imds", "PUT api/token", "-", true);
            return send(200, token);
        }
        // IMDSv2 only (the launch templates require tokens): no token, no answer.
        const token = this.tokens.get(String(req.headers["x-aws-ec2-metadata-token"] ?? ""));
        if (token === undefined || token.expires < Date.now() || token.address !== instance.address) {
            this.record(host, "imds", `GET ${req.url}`, "-", false, "no valid IMDSv2 token");
            return send(401, "");
        }
        const item = query.kind === "meta-data" ? query.item.replace(/\/$/, "") : "";
        const az = `${this.options.region}a`;
        const now = new Date();
        const answers: Record<string, () => string> = {
            "instance-id": () => instance.instanceId,
            "local-ipv4": () => instance.address,
            "local-hostname": () => `ip-${instance.address.replace(/\./g, "-")}.ec2.internal`,
            hostname: () => `ip-${instance.address.replace(/\./g, "-")}.ec2.internal`,
            "placement/region": () => this.options.region,
            "placement/availability-zone": () => az,
            "iam/security-credentials": () => instance.roleName,
            [`iam/security-credentials/${instance.roleName}`]: () =>
                JSON.stringify({
                    Code: "Success",
                    LastUpdated: now.toISOString().replace(/\.\d+Z$/, "Z"),
                    Type: "AWS-HMAC",
                    AccessKeyId: instance.accessKeyId,
                    SecretAccessKey: instance.secretAccessKey,
                    Token: instance.sessionToken,
                    Expiration: new Date(now.getTime() + 6 * 3600_000).toISOString().replace(/\.\d+Z$/, "Z"),
                }),
            "iam/info": () =>
                JSON.stringify({
                    Code: "Success",
                    LastUpdated: now.toISOString(),
                    InstanceProfileArn: `arn:aws:iam::${this.options.account}:instance-profile/${instance.roleName}`,
                    InstanceProfileId: "AIPA0000000000BOOT",
                }),
        };
        let body: string | undefined;
        if (query.kind === "identity-document") {
            body = JSON.stringify({
                accountId: this.options.account,
                instanceId: instance.instanceId,
                region: this.options.region,
                availabilityZone: az,
                privateIp: instance.address,
            });
        } else if (query.kind === "meta-data") {
            body = answers[item]?.();
        }
        this.record(host, "imds", `GET ${req.url}`, "-", body !== undefined);
        if (body === undefined) return send(404, "");
        send(200, body);
    }

    // --- the regional APIs ---------------------------------------------------------------------

    private record(host: string, service: string, action: string, resource: string, allowed: boolean, detail?: string): void {
        const call = { at: Date.now(), host, service, action, resource, allowed, detail };
        this.calls.push(call);
        this.events.emit("call", call);
    }

    private authorize(instance: Instance, request: AuthorizationRequest): void {
        const decision = evaluatePolicy(instance.policy, request);
        this.record(
            instance.hostName,
            request.action.split(":")[0] as string,
            request.action,
            request.resource,
            decision.allowed,
            decision.allowed ? undefined : decision.reason,
        );
        if (!decision.allowed) {
            const who = `arn:aws:sts::${this.options.account}:assumed-role/${instance.roleName}/${instance.instanceId}`;
            const on = request.resource === "*" ? "" : ` on resource: ${request.resource}`;
            throw new AwsError(
                request.action.startsWith("ssm:") ? 400 : 403,
                "AccessDenied",
                `User: ${who} is not authorized to perform: ${request.action}${on} because ${decision.reason}`,
            );
        }
    }

    private async serveApi(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
        const body = await readBody(req);
        const credential = parseSigV4(req.headers.authorization);
        const instance = [...this.instances.values()].find((i) => i.accessKeyId === credential?.accessKeyId);
        const service = credential?.service ?? "unknown";
        const json = service === "ssm";
        try {
            if (credential === undefined || instance === undefined || req.headers["x-amz-security-token"] !== instance.sessionToken) {
                this.record(
                    instance?.hostName ?? req.socket.remoteAddress ?? "?",
                    service,
                    `${req.method} ${req.url}`,
                    "-",
                    false,
                    "unknown credentials",
                );
                throw new AwsError(
                    403,
                    json ? "UnrecognizedClientException" : "InvalidClientTokenId",
                    "The security token included in the request is invalid.",
                );
            }
            switch (service) {
                case "ssm":
                    return this.ssm(instance, req, body, res);
                case "autoscaling":
                    return this.autoscaling(instance, body, res);
                case "monitoring":
                    return this.cloudwatch(instance, req, body, res);
                case "s3":
                    return this.s3(instance, req, res);
                default:
                    this.record(instance.hostName, service, `${req.method} ${req.url}`, "-", false, "service not stood in");
                    throw new AwsError(400, "UnknownService", `the stand-in does not answer ${service}`);
            }
        } catch (err) {
            const error = err instanceof AwsError ? err : new AwsError(500, "InternalFailure", String(err));
            if (json) {
                const text = JSON.stringify({
                    __type: error.code === "AccessDenied" ? "AccessDeniedException" : error.code,
                    message: error.message,
                });
                res.writeHead(error.status, { "Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": requestId() });
                res.end(text);
            } else if (service === "s3") {
                res.writeHead(error.status, { "Content-Type": "application/xml" });
                res.end(
                    req.method === "HEAD"
                        ? undefined
                        : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${error.code}</Code><Message>${xmlEscape(error.message)}</Message><RequestId>${requestId()}</RequestId></Error>`,
                );
            } else {
                res.writeHead(error.status, { "Content-Type": "text/xml" });
                res.end(
                    `<ErrorResponse><Error><Type>Sender</Type><Code>${error.code}</Code><Message>${xmlEscape(error.message)}</Message></Error><RequestId>${requestId()}</RequestId></ErrorResponse>`,
                );
            }
        }
    }

    private ssm(instance: Instance, req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void {
        const target = String(req.headers["x-amz-target"] ?? "");
        if (target !== "AmazonSSM.GetParameter") {
            this.record(instance.hostName, "ssm", target, "-", false, "operation not stood in");
            throw new AwsError(400, "InvalidAction", `the stand-in answers AmazonSSM.GetParameter only, not ${target}`);
        }
        const input = JSON.parse(body.toString("utf8") || "{}") as { Name?: string; WithDecryption?: boolean };
        const selector = parseParameterSelector(String(input.Name ?? ""));
        const arn = parameterArn(this.options.region, selector.name, this.options.account);
        this.authorize(instance, { action: "ssm:GetParameter", resource: arn, context: {} });
        const stored = this.parameters.get(selector.name);
        if (stored === undefined) throw new AwsError(400, "ParameterNotFound", `${selector.name} not found`);
        if (selector.label !== undefined) throw new AwsError(400, "ParameterVersionLabelLimitExceeded", "labels are not stood in");
        const version =
            selector.version === undefined ? stored.versions.at(-1) : stored.versions.find((v) => v.version === selector.version);
        if (version === undefined)
            throw new AwsError(400, "ParameterVersionNotFound", `version ${selector.version} of ${selector.name} not found`);
        const value =
            stored.type === "SecureString" && input.WithDecryption !== true ? Buffer.from(version.value).toString("base64") : version.value;
        const answer = {
            Parameter: {
                Name: selector.name,
                Type: stored.type,
                Value: value,
                Version: version.version,
                ...(selector.version !== undefined ? { Selector: `:${selector.version}` } : {}),
                LastModifiedDate: version.modified.getTime() / 1000,
                ARN: arn,
                DataType: "text",
            },
        };
        res.writeHead(200, { "Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": requestId() });
        res.end(JSON.stringify(answer));
    }

    private queryAnswer(res: http.ServerResponse, action: string, xmlns: string, result: string): void {
        res.writeHead(200, { "Content-Type": "text/xml" });
        res.end(
            `<?xml version="1.0"?>\n<${action}Response xmlns="${xmlns}">${result}<ResponseMetadata><RequestId>${requestId()}</RequestId></ResponseMetadata></${action}Response>`,
        );
    }

    private autoscaling(instance: Instance, body: Buffer, res: http.ServerResponse): void {
        const params = parseQueryBody(body.toString("utf8"));
        const action = params.get("Action") ?? "";
        const xmlns = "http://autoscaling.amazonaws.com/doc/2011-01-01/";
        if (action === "DescribeAutoScalingInstances") {
            this.authorize(instance, { action: "autoscaling:DescribeAutoScalingInstances", resource: "*", context: {} });
            const ids = queryList(params, "InstanceIds");
            const members = [...this.instances.values()]
                .filter((i) => ids.length === 0 || ids.includes(i.instanceId))
                .map(
                    (i) =>
                        `<member><InstanceId>${i.instanceId}</InstanceId><InstanceType>t3.small</InstanceType><AutoScalingGroupName>${xmlEscape(i.groupName)}</AutoScalingGroupName>` +
                        `<AvailabilityZone>${this.options.region}a</AvailabilityZone><LifecycleState>${this.pendingLaunch.has(i.instanceId) ? "Pending:Wait" : "InService"}</LifecycleState>` +
                        `<HealthStatus>HEALTHY</HealthStatus><ProtectedFromScaleIn>false</ProtectedFromScaleIn></member>`,
                );
            return this.queryAnswer(
                res,
                action,
                xmlns,
                `<${action}Result><AutoScalingInstances>${members.join("")}</AutoScalingInstances></${action}Result>`,
            );
        }
        if (action === "CompleteLifecycleAction") {
            const groupName = params.get("AutoScalingGroupName") ?? "";
            const group = this.groups.get(groupName);
            this.authorize(instance, {
                action: "autoscaling:CompleteLifecycleAction",
                resource: groupArn(this.options.region, groupName, this.options.account),
                context: Object.fromEntries(Object.entries(group?.tags ?? {}).map(([k, v]) => [`autoscaling:ResourceTag/${k}`, v])),
            });
            const instanceId = params.get("InstanceId") ?? "";
            const hook = params.get("LifecycleHookName") ?? "";
            const result = params.get("LifecycleActionResult") ?? "";
            const target = this.instances.get(instanceId);
            if (group === undefined) throw new AwsError(400, "ValidationError", `AutoScalingGroup name not found - ${groupName}`);
            if (!group.lifecycleHooks.includes(hook))
                throw new AwsError(400, "ValidationError", `No Lifecycle Hook found with name ${hook}`);
            if (target === undefined || target.groupName !== groupName || !this.pendingLaunch.has(instanceId)) {
                throw new AwsError(400, "ValidationError", `No active Lifecycle Action found with instance ID ${instanceId}`);
            }
            if (result !== "CONTINUE" && result !== "ABANDON")
                throw new AwsError(400, "ValidationError", `invalid LifecycleActionResult ${result}`);
            this.pendingLaunch.delete(instanceId);
            const event = { at: Date.now(), host: target.hostName, instanceId, result };
            this.lifecycle.push(event);
            this.events.emit("lifecycle", event);
            return this.queryAnswer(res, action, xmlns, `<${action}Result/>`);
        }
        this.record(instance.hostName, "autoscaling", action, "-", false, "operation not stood in");
        throw new AwsError(400, "InvalidAction", `the stand-in does not answer ${action}`);
    }

    private cloudwatch(instance: Instance, req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void {
        // Debian's aws CLI 2.9 speaks CloudWatch's query protocol; newer CLIs send JSON or CBOR, refused here
        // with a clear error rather than misread.
        const contentType = String(req.headers["content-type"] ?? "");
        if (!contentType.startsWith("application/x-www-form-urlencoded")) {
            this.record(instance.hostName, "monitoring", `${req.method} ${req.url} (${contentType})`, "-", false, "protocol not stood in");
            throw new AwsError(400, "InvalidAction", `the stand-in speaks CloudWatch's query protocol only (got ${contentType})`);
        }
        const params = parseQueryBody(body.toString("utf8"));
        const action = params.get("Action") ?? "";
        if (action !== "PutMetricData") {
            this.record(instance.hostName, "monitoring", action, "-", false, "operation not stood in");
            throw new AwsError(400, "InvalidAction", `the stand-in does not answer ${action}`);
        }
        const namespace = params.get("Namespace") ?? "";
        this.authorize(instance, { action: "cloudwatch:PutMetricData", resource: "*", context: { "cloudwatch:namespace": namespace } });
        for (const datum of queryMetricData(params)) {
            const record = { ...datum, at: Date.now(), host: instance.hostName, namespace };
            this.metrics.push(record);
            this.events.emit("metric", record);
        }
        this.queryAnswer(res, action, "http://monitoring.amazonaws.com/doc/2010-08-01/", "");
    }

    private s3(instance: Instance, req: http.IncomingMessage, res: http.ServerResponse): void {
        const target = parseS3Request(String(req.headers.host ?? ""), req.url ?? "/");
        if (target === undefined || (req.method !== "GET" && req.method !== "HEAD")) {
            this.record(instance.hostName, "s3", `${req.method} ${req.url}`, "-", false, "operation not stood in");
            throw new AwsError(400, "NotImplemented", "the stand-in answers GetObject and HeadObject only");
        }
        this.authorize(instance, { action: "s3:GetObject", resource: `arn:aws:s3:::${target.bucket}/${target.key}`, context: {} });
        const object = this.objects.get(`${target.bucket}/${target.key}`);
        if (object === undefined) throw new AwsError(404, "NoSuchKey", "The specified key does not exist.");
        res.writeHead(200, {
            "Content-Type": "application/gzip",
            "Content-Length": object.length,
            ETag: `"${object.length.toString(16)}"`,
            "Last-Modified": new Date().toUTCString(),
            "Accept-Ranges": "bytes",
        });
        res.end(req.method === "HEAD" ? undefined : object);
    }
}
