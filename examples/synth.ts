/*
 * `npm run synth`: writes the manifests of every example to dist/examples/<example>/.
 * To add an example, add one line to EXAMPLES.
 */
import * as path from 'path';
import type { Chart } from 'cdk8s';
import { App, YamlOutputType } from 'cdk8s';
import type { Construct } from 'constructs';
import { FederationChart } from './federation/main';
import { GithubStdioChart } from './github-stdio/main';
import { LocalEverythingChart } from './local-everything/main';
import { SecureGithubChart } from './secure-github/main';

export interface Example {
  /** Folder under `examples/` and under the output directory. */
  readonly name: string;
  /** Adds the example's chart to an app. */
  readonly create: (scope: Construct, id: string) => Chart;
}

export const EXAMPLES: Example[] = [
  { name: 'github-stdio', create: (scope, id) => new GithubStdioChart(scope, id) },
  { name: 'federation', create: (scope, id) => new FederationChart(scope, id) },
  { name: 'local-everything', create: (scope, id) => new LocalEverythingChart(scope, id) },
  { name: 'secure-github', create: (scope, id) => new SecureGithubChart(scope, id) },
  // Replace the client ID with your GitHub OAuth app's (see examples/secure-github/main.ts).
  { name: 'secure-github-per-user', create: (scope, id) => new SecureGithubChart(scope, id, { githubOAuthApp: { clientId: 'Ov23liYourClientId' } }) },
];

/** Synthesizes every example into `<outRoot>/<name>/` and returns the folders written. */
export function synthExamples(outRoot: string): string[] {
  return EXAMPLES.map((example) => {
    const outdir = path.join(outRoot, example.name);
    const app = new App({ outdir, yamlOutputType: YamlOutputType.FILE_PER_CHART });
    example.create(app, example.name);
    app.synth();
    return outdir;
  });
}

if (require.main === module) {
  const root = path.resolve(__dirname, '..', 'dist', 'examples');
  for (const outdir of synthExamples(root)) {
    console.log(`wrote ${path.relative(process.cwd(), outdir) || '.'}`);
  }
}
