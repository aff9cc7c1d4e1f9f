/** Instance metadata over IMDSv2 only, not reachable from containers on the host (hop limit 1). */
export const IMDS_V2_ONLY = { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 };
