// Parsing what the hosts' aws CLI (Debian's 2.9) and curl send: the SigV4 credential, the JSON 1.1
// protocol of SSM, the query protocol of Auto Scaling and CloudWatch, S3's paths, IMDSv2's paths.
// Pure functions, unit-tested; the stand-in (standIn.ts) answers with them.

/** The access key and the credential scope of a SigV4 Authorization header. */
export interface SigV4Credential {
    readonly accessKeyId: string;
    readonly date: string;
    readonly region: string;
    readonly service: string;
}

export function parseSigV4(authorization: string | undefined): SigV4Credential | undefined {
    const match = /^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request\s*,/.exec(authorization ?? "");
    if (!match) return undefined;
    return { accessKeyId: match[1] as string, date: match[2] as string, region: match[3] as string, service: match[4] as string };
}

/** A GetParameter name with its optional `:version` selector (labels are not used by the hosts). */
export interface ParameterSelector {
    readonly name: string;
    readonly version?: number;
    readonly label?: string;
}

export function parseParameterSelector(raw: string): ParameterSelector {
    const match = /^(.*?):([^/:]+)$/.exec(raw);
    if (!match || match[1] === "") return { name: raw };
    const selector = match[2] as string;
    return /^\d+$/.test(selector) ? { name: match[1] as string, version: Number(selector) } : { name: match[1] as string, label: selector };
}

/** The query protocol's form body (Action, Version and the flattened members). */
export function parseQueryBody(body: string): Map<string, string> {
    return new Map(new URLSearchParams(body));
}

/** `Prefix.member.N` values in order (e.g. InstanceIds.member.1). */
export function queryList(params: Map<string, string>, prefix: string): string[] {
    const values: string[] = [];
    for (let i = 1; params.has(`${prefix}.member.${i}`); i++) values.push(params.get(`${prefix}.member.${i}`) as string);
    return values;
}

export interface MetricDatum {
    readonly metricName: string;
    readonly value: number;
    readonly unit?: string;
    readonly dimensions: Readonly<Record<string, string>>;
}

/** PutMetricData's data in the query protocol (MetricData.member.N.*). */
export function queryMetricData(params: Map<string, string>): MetricDatum[] {
    const data: MetricDatum[] = [];
    for (let i = 1; params.has(`MetricData.member.${i}.MetricName`); i++) {
        const p = `MetricData.member.${i}`;
        const dimensions: Record<string, string> = {};
        for (let d = 1; params.has(`${p}.Dimensions.member.${d}.Name`); d++) {
            dimensions[params.get(`${p}.Dimensions.member.${d}.Name`) as string] = params.get(`${p}.Dimensions.member.${d}.Value`) ?? "";
        }
        data.push({
            metricName: params.get(`${p}.MetricName`) as string,
            value: Number(params.get(`${p}.Value`)),
            unit: params.get(`${p}.Unit`),
            dimensions,
        });
    }
    return data;
}

/** Bucket and key of an S3 request, virtual-hosted (`bucket.s3...`) or path style (`s3.../bucket/key`). */
export function parseS3Request(host: string, urlPath: string): { bucket: string; key: string } | undefined {
    const hostname = host.replace(/:\d+$/, "").toLowerCase();
    const pathname = decodeURIComponent(urlPath.split("?")[0] ?? "");
    const virtual = /^(.+)\.s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com$/.exec(hostname);
    if (virtual) return { bucket: virtual[1] as string, key: pathname.replace(/^\//, "") };
    const path = /^\/([^/]+)\/(.+)$/.exec(pathname);
    return path ? { bucket: path[1] as string, key: path[2] as string } : undefined;
}

/** What an IMDS path asks for. */
export type ImdsQuery =
    | { readonly kind: "token" }
    | { readonly kind: "meta-data"; readonly item: string }
    | { readonly kind: "identity-document" }
    | { readonly kind: "unknown" };

export function parseImdsRequest(method: string, urlPath: string): ImdsQuery {
    const pathname = (urlPath.split("?")[0] ?? "").replace(/\/{2,}/g, "/");
    if (pathname === "/latest/api/token") return method === "PUT" ? { kind: "token" } : { kind: "unknown" };
    if (method !== "GET" && method !== "HEAD") return { kind: "unknown" };
    if (pathname === "/latest/dynamic/instance-identity/document") return { kind: "identity-document" };
    const meta = /^\/latest\/meta-data\/?(.*)$/.exec(pathname);
    return meta ? { kind: "meta-data", item: meta[1] as string } : { kind: "unknown" };
}

/** XML text escaping for the query protocol's answers. */
export function xmlEscape(value: string): string {
    return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
