// Preloaded (`node --require`) into a program started the way Pulumi's Node.js language host starts it,
// before the host's own TypeScript hooks, so it must be plain JavaScript. It answers the program with the
// SDK's mocks instead of an engine and, at the first resource the program itself registers, writes the
// wall-clock time (ms since the epoch) to RECEIVER_TIER_FIRST_RESOURCE_FILE and ends the process: what
// follows is the same for every way of starting the program.
"use strict";
const fs = require("fs");
const pulumi = require("@pulumi/pulumi");

const marker = process.env.RECEIVER_TIER_FIRST_RESOURCE_FILE;
if (!marker) throw new Error("RECEIVER_TIER_FIRST_RESOURCE_FILE is not set");

pulumi.runtime.setMocks(
    {
        newResource(args) {
            if (args.type !== "pulumi:pulumi:Stack") {
                fs.writeFileSync(marker, String(performance.timeOrigin + performance.now()));
                process.exit(0);
            }
            return { id: `${args.name}-id`, state: args.inputs };
        },
        call(args) {
            // The one data source the program reads, as the plan's engine answers it (KNOWN_INVOKES in
            // offline/mockEngine.ts, which this plain-JavaScript preload cannot import).
            if (args.token === "aws:ssm/getParameter:getParameter") return { ...args.inputs, value: "mocked" };
            throw new Error(`no mock for invoke ${args.token}`);
        },
    },
    process.env.PULUMI_NODEJS_PROJECT,
    process.env.PULUMI_NODEJS_STACK,
    true,
);
