import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Taking over a DNS record made by hand (adopt.publicRecord / privateRecord, adopt.overwriteRecords). */
export interface RecordAdoption {
    /** Pulumi's import id of the existing record, if the stack adopts it. */
    readonly importId?: string;
    /** Whether creating the record may overwrite one of the same name (Route 53 UPSERT): an explicit choice per record. */
    readonly allowOverwrite: boolean;
}

export interface AliasRecordArgs {
    /** The hosted zone the record is in. */
    readonly zoneId: string;
    /** The record's name. */
    readonly name: string;
    /** The load balancer it names. */
    readonly loadBalancer: aws.lb.LoadBalancer;
    /** Whether an existing record is taken over. */
    readonly adoption: RecordAdoption;
    /** The group behind the load balancer: the name moves only once its instances are in service. */
    readonly group: aws.autoscaling.Group;
}

/** The A alias record that names a load balancer (each fleet's DNS name); only healthy targets answer. */
export function aliasRecord(name: string, args: AliasRecordArgs, parent: pulumi.Resource): aws.route53.Record {
    return new aws.route53.Record(
        name,
        {
            zoneId: args.zoneId,
            name: args.name,
            type: "A",
            aliases: [{ name: args.loadBalancer.dnsName, zoneId: args.loadBalancer.zoneId, evaluateTargetHealth: true }],
            allowOverwrite: args.adoption.allowOverwrite,
        },
        { parent, import: args.adoption.importId, dependsOn: [args.group] },
    );
}
