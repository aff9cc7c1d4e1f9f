import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AlarmSpec } from "../render/alarms";
import { AlarmSubscription } from "../model/alarmSubscriptions";
import { dashboardUrl } from "../model/names";
import { COMPONENT_TYPES } from "../model/resources";

export interface MonitoringArgs {
    /** The alarms as renderAlarms renders them, on the load balancers' CloudWatch names. */
    readonly alarms: readonly AlarmSpec<pulumi.Output<string>>[];
    /** An existing SNS topic the alarms notify (monitoring.alarmTopicArn); without one the component makes a topic. */
    readonly alarmTopicArn?: string;
    /** Who the topic notifies (monitoring.alarmEmail and monitoring.alarmSubscribers), one subscription each. */
    readonly subscriptions: readonly AlarmSubscription[];
    /** The dashboard's name, as dashboardName renders it. */
    readonly dashboardName: string;
    /** The dashboard's body, as renderDashboard renders it. */
    readonly dashboardBody: pulumi.Input<string>;
    /** AWS region of the stack (the console link). */
    readonly region: string;
}

/** The tier's alarms (each notifying one SNS topic) and its CloudWatch dashboard. */
export class Monitoring extends pulumi.ComponentResource {
    /** Where the alarms notify. */
    public readonly topicArn: pulumi.Output<string>;
    /** The dashboard in the CloudWatch console. */
    public readonly dashboardUrl: pulumi.Output<string>;

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super(COMPONENT_TYPES.monitoring, name, {}, opts);
        const child = { parent: this };

        this.topicArn = args.alarmTopicArn ? pulumi.output(args.alarmTopicArn) : new aws.sns.Topic(`${name}-alarms`, {}, child).arn;
        for (const { id, protocol, endpoint } of args.subscriptions) {
            new aws.sns.TopicSubscription(`${name}-alarms-${id}`, { topic: this.topicArn, protocol, endpoint }, child);
        }
        for (const { id, ...alarm } of args.alarms) {
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
        const dashboard = new aws.cloudwatch.Dashboard(
            `${name}-dashboard`,
            { dashboardName: args.dashboardName, dashboardBody: args.dashboardBody },
            child,
        );
        this.dashboardUrl = dashboard.dashboardName.apply((dashboardName) => dashboardUrl(args.region, dashboardName));
        this.registerOutputs({ topicArn: this.topicArn, dashboardUrl: this.dashboardUrl });
    }
}
