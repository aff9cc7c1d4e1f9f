import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { TierConfig } from "../config/schema";
import { AlarmTargets, renderAlarms, renderDashboard } from "../render/monitoring";

export interface MonitoringArgs {
    /** Validated stack config (thresholds, alarm destination). */
    readonly config: TierConfig;
    /** Stack name (alarm and dashboard names, the default metrics namespace). */
    readonly stack: string;
    /** AWS region of the stack (dashboard widgets). */
    readonly region: string;
    /** The load balancers and target groups as CloudWatch names them. */
    readonly targets: AlarmTargets<pulumi.Output<string>>;
}

/** The tier's alarms (each notifying one SNS topic) and its CloudWatch dashboard. */
export class Monitoring extends pulumi.ComponentResource {
    /** Where the alarms notify. */
    public readonly topicArn: pulumi.Output<string>;
    /** The dashboard in the CloudWatch console. */
    public readonly dashboardUrl: pulumi.Output<string>;

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("receiver-tier:aws:Monitoring", name, {}, opts);
        const child = { parent: this };
        const m = args.config.monitoring;

        this.topicArn = m.alarmTopicArn ? pulumi.output(m.alarmTopicArn) : new aws.sns.Topic(`${name}-alarms`, {}, child).arn;
        if (m.alarmEmail) {
            new aws.sns.TopicSubscription(
                `${name}-alarms-email`,
                { topic: this.topicArn, protocol: "email", endpoint: m.alarmEmail },
                child,
            );
        }
        for (const { id, ...alarm } of renderAlarms(args.config, args.stack, args.targets)) {
            new aws.cloudwatch.MetricAlarm(
                `${name}-${id}`,
                {
                    name: alarm.name,
                    alarmDescription: alarm.description,
                    comparisonOperator: alarm.comparisonOperator,
                    threshold: alarm.threshold,
                    evaluationPeriods: alarm.evaluationPeriods,
                    treatMissingData: alarm.treatMissingData,
                    ...(alarm.metric ?? {}),
                    metricQueries: alarm.metricQueries?.map((q) => ({ ...q, metric: q.metric })),
                    alarmActions: [this.topicArn],
                    okActions: [this.topicArn],
                },
                child,
            );
        }
        const t = args.targets;
        const dashboard = new aws.cloudwatch.Dashboard(
            `${name}-dashboard`,
            {
                dashboardName: `receiver-tier-${args.stack}`,
                dashboardBody: pulumi
                    .all([t.alb, t.receiverTargetGroup, t.nlb, t.pgbouncerTargetGroup])
                    .apply(([alb, receiverTargetGroup, nlb, pgbouncerTargetGroup]) =>
                        renderDashboard(args.config, args.stack, args.region, { alb, receiverTargetGroup, nlb, pgbouncerTargetGroup }),
                    ),
            },
            child,
        );
        this.dashboardUrl = pulumi.interpolate`https://${args.region}.console.aws.amazon.com/cloudwatch/home?region=${args.region}#dashboards:name=${dashboard.dashboardName}`;
        this.registerOutputs({ topicArn: this.topicArn, dashboardUrl: this.dashboardUrl });
    }
}
