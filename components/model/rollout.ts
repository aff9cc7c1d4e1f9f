// How the auto scaling groups admit and replace instances. Pure numbers and names, shared by the
// components that place the groups and the host files that complete the lifecycle hook.

/** The launch lifecycle hook both groups hold new instances in until they prove themselves. */
export const LAUNCH_HOOK_NAME = "receiver-tier-ready";
/** Seconds a new instance may take to become ready before the group abandons (terminates) it. */
export const LAUNCH_HOOK_TIMEOUT_SECONDS = 900;
/**
 * How long `pulumi up` waits for a group's instances to be in service (the provider's
 * waitForCapacityTimeout, whose own default of 10 minutes is shorter than a launch may take): as long
 * as the launch hook, so a host is CONTINUEd or ABANDONed before the wait gives up.
 */
export const GROUP_CAPACITY_WAIT_SECONDS = LAUNCH_HOOK_TIMEOUT_SECONDS;
/** The group's wait as the provider takes it (a Go duration). */
export const GROUP_CAPACITY_WAIT = `${GROUP_CAPACITY_WAIT_SECONDS}s`;
/**
 * Seconds a host may spend from launch to the start of its readiness loop (cloud-init's packages, the
 * receiver's app, the PgBouncer config): what the hook's timeout must leave besides
 * rollout.readinessDeadlineSeconds (rule readinessWithinLaunchHook). A boot on Debian 12 takes about 60 s
 * to CONTINUE (BENCHMARKS.md "Boot to CONTINUE").
 */
export const BOOT_ALLOWANCE_SECONDS = 240;
/**
 * How often the ALB asks a receiver's health path (seconds), how long an answer may take, and how many
 * results in a row change its state. A receiver's readiness check (user data) allows the same time;
 * files/receiver/health-metric.sh writes it down as well (a unit test keeps the two equal).
 */
export const ALB_HEALTH_CHECK = { interval: 15, timeout: 5, healthyThreshold: 2, unhealthyThreshold: 3 } as const;
/**
 * Seconds the public ALB keeps an idle connection (its idle_timeout, set on the load balancer). Whatever
 * sits behind it must keep connections open longer, or the ALB reuses one the target just closed: a 502.
 */
export const ALB_IDLE_TIMEOUT_SECONDS = 60;
/** The group tag the instance role's CompleteLifecycleAction permission is scoped to. */
export const FLEET_TAG = "receiver-tier-fleet";

/**
 * maxHealthyPercentage that lets an instance refresh add exactly one instance at a time above
 * `desired`: AWS rounds the upper bound down to whole instances, so the smallest percentage
 * whose share of `desired` reaches one more instance.
 */
export function oneExtraInstancePercentage(desired: number): number {
    return 100 + Math.ceil(100 / desired);
}

/** GiB of every host's root volume: room for the OS, the packages and the logs logrotate keeps. */
export const HOST_VOLUME_GB = 16;

/** The port each PgBouncer host answers the NLB's HTTP health check on. */
export const PGBOUNCER_HEALTH_PORT = 8008;
/** How often the NLB asks (seconds), how long an answer may take, and how many results in a row change a host's state. */
export const NLB_HEALTH_CHECK = { interval: 10, timeout: 6, healthyThreshold: 2, unhealthyThreshold: 2 } as const;
