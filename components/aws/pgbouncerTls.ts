import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { COMPONENT_TYPES } from "../model/resources";

/** The CA lives ten years: replacing it means every receiver and host changes trust at once (README "Certificates"). */
export const CA_VALIDITY_HOURS = 10 * 365 * 24;
/** PgBouncer's certificate lives a year and is renewed by the first `pulumi up` in its last 30 days. */
export const CERT_VALIDITY_HOURS = 365 * 24;
export const CERT_EARLY_RENEWAL_HOURS = 30 * 24;

export interface PgbouncerTlsArgs {
    /** The name receivers connect to (pgbouncer.dnsName): the certificate's only DNS name. */
    readonly dnsName: string;
    /** Stack name, in the certificates' subjects. */
    readonly stack: string;
}

/**
 * A per-stack CA and PgBouncer's server certificate for its private DNS name. Receivers trust only
 * this CA (sslmode=verify-full), so no other certificate, public or private, can answer as PgBouncer.
 */
export class PgbouncerTls extends pulumi.ComponentResource {
    /** The CA certificate receivers and the hosts' health check verify against (not secret). */
    public readonly caCertPem: pulumi.Output<string>;
    /** PgBouncer's certificate (not secret). */
    public readonly certPem: pulumi.Output<string>;
    /** PgBouncer's private key: a Pulumi secret. */
    public readonly privateKeyPem: pulumi.Output<string>;

    constructor(name: string, args: PgbouncerTlsArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.pgbouncerTls, name, {}, opts);
        const child = { parent: this };
        const caKey = new tls.PrivateKey(`${name}-ca-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, child);
        const ca = new tls.SelfSignedCert(
            `${name}-ca`,
            {
                privateKeyPem: caKey.privateKeyPem,
                isCaCertificate: true,
                subject: { commonName: `receiver-tier ${args.stack} PgBouncer CA` },
                validityPeriodHours: CA_VALIDITY_HOURS,
                allowedUses: ["cert_signing", "crl_signing"],
            },
            child,
        );
        const key = new tls.PrivateKey(`${name}-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, child);
        const request = new tls.CertRequest(
            `${name}-request`,
            { privateKeyPem: key.privateKeyPem, subject: { commonName: args.dnsName }, dnsNames: [args.dnsName] },
            child,
        );
        const cert = new tls.LocallySignedCert(
            `${name}-cert`,
            {
                certRequestPem: request.certRequestPem,
                caPrivateKeyPem: caKey.privateKeyPem,
                caCertPem: ca.certPem,
                validityPeriodHours: CERT_VALIDITY_HOURS,
                earlyRenewalHours: CERT_EARLY_RENEWAL_HOURS,
                allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
            },
            child,
        );
        this.caCertPem = ca.certPem;
        this.certPem = cert.certPem;
        this.privateKeyPem = pulumi.secret(key.privateKeyPem);
        this.registerOutputs({ caCertPem: this.caCertPem, certPem: this.certPem });
    }
}
