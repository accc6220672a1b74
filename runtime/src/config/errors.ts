/** One problem in a configuration file, located by a JSON path such as `binds[0].listeners[0].routes[1].policies.mcpAuthorization.rules[2]`. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

/**
 * A configuration that cannot be served. Start-up fails with it; a reload that raises it keeps the
 * previous configuration. Every issue names the field it is about.
 */
export class ConfigError extends Error {
  public readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], source?: string) {
    const where = source ? `${source}: ` : '';
    super(`${where}invalid gateway configuration:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}
