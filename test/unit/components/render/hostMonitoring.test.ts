import { describe, expect, it } from "vitest";
import { renderLogrotate } from "../../../../components/render/hostMonitoring";
import { loadCanaryWith } from "../../support/stackConfig";
describe("logrotate", () => {
    it("keeps monitoring.logRetentionDays of each log and bounds their size", () => {
        const text = renderLogrotate(loadCanaryWith(["monitoring.logRetentionDays", 7]), ["/var/log/a.log", "/var/log/b.log"]);
        expect(text).toMatch(/^\/var\/log\/a\.log \/var\/log\/b\.log \{$/m);
        expect(text).toMatch(/^ {4}rotate 7$/m);
        expect(text).toMatch(/^ {4}maxsize 100M$/m);
    });
});
