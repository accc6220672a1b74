/** Reported as `serverInfo.version` of federated servers and by `--version`. */
export const GATEWAY_VERSION = '0.0.0';
