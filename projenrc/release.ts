import { github } from 'projen';

/**
 * Node.js lines the project supports: the library and the runtime run on `min` and later (CI runs the
 * whole suite on 22 and 24), and the gateway image and its single-executable bridge ship `shipped`.
 */
export const SUPPORTED_NODE = { min: '22.0.0', shipped: '24.x', shippedImageTag: '24.22.3-bookworm' } as const;

/**
 * The gateway image's repository. The constructs default to `${GATEWAY_IMAGE_REPOSITORY}:<library version>`
 * (src/images.ts); the release pushes exactly that tag (test/release.test.ts checks both).
 */
export const GATEWAY_IMAGE_REPOSITORY = 'ghcr.io/cdk8s-mcp/gateway';

/** Where scripts/pack-gateway.mjs writes the gateway's tarball (projen's npm job rebuilds dist/js on its own). */
export const GATEWAY_TARBALL_DIR = 'dist/gateway';

const RELEASED = "needs.release.outputs.tag_exists != 'true' && needs.release.outputs.latest_commit == github.sha";

const DOWNLOAD_BUILD_ARTIFACT: github.workflows.JobStep = {
  name: 'Download build artifacts',
  uses: 'actions/download-artifact@v5',
  with: { 'artifact-ids': '${{ needs.release.outputs.artifact_id }}', 'path': 'dist' },
};

/**
 * Publishes @cdk8s-mcp/gateway, packed by the release build with the library's version, to npm with a
 * provenance statement, through npm trusted publishing (the workflow's OIDC token; no stored secret).
 */
export function gatewayNpmJob(): github.workflows.Job {
  return {
    name: 'Publish @cdk8s-mcp/gateway to npm',
    needs: ['release'],
    runsOn: ['ubuntu-latest'],
    if: RELEASED,
    permissions: { contents: github.workflows.JobPermission.READ, idToken: github.workflows.JobPermission.WRITE },
    steps: [
      {
        name: 'Setup Node.js',
        uses: 'actions/setup-node@v5',
        with: { 'node-version': SUPPORTED_NODE.shipped, 'registry-url': 'https://registry.npmjs.org' },
      },
      DOWNLOAD_BUILD_ARTIFACT,
      {
        name: 'Publish',
        if: '${{ !inputs.dry_run }}',
        run: [
          `tarball=$(ls ${GATEWAY_TARBALL_DIR}/*.tgz)`,
          'version=$(cat dist/version.txt)',
          // A re-run after a partial failure must not fail on what is already there.
          'if npm view "@cdk8s-mcp/gateway@$version" version >/dev/null 2>&1; then echo "@cdk8s-mcp/gateway@$version is already published"; exit '
            + '0; fi',
          'npm publish "$tarball" --access public --provenance',
        ].join('\n'),
      },
    ],
  };
}

/**
 * Builds runtime/Dockerfile for linux/amd64 and linux/arm64 (QEMU emulates the other architecture's build
 * stage, so each single executable embeds its own architecture's Node 24), pushes it to GHCR tagged with the
 * version the release job computed (dist/version.txt in its artifact), and attests its provenance.
 * Runs when the release job made a new version, like projen's publishing jobs.
 */
export function gatewayImageJob(): github.workflows.Job {
  return {
    name: 'Publish the gateway image to GHCR',
    needs: ['release'],
    runsOn: ['ubuntu-latest'],
    if: RELEASED,
    permissions: {
      contents: github.workflows.JobPermission.READ,
      packages: github.workflows.JobPermission.WRITE,
      idToken: github.workflows.JobPermission.WRITE,
      attestations: github.workflows.JobPermission.WRITE,
    },
    steps: [
      { name: 'Checkout', uses: 'actions/checkout@v5', with: { ref: '${{ needs.release.outputs.latest_commit }}' } },
      DOWNLOAD_BUILD_ARTIFACT,
      {
        name: 'Read the released version',
        id: 'version',
        run: 'echo "version=$(cat dist/version.txt)" >> "$GITHUB_OUTPUT"',
      },
      { name: 'Set up QEMU', uses: 'docker/setup-qemu-action@v3' },
      { name: 'Set up Buildx', uses: 'docker/setup-buildx-action@v3' },
      {
        name: 'Log in to GHCR',
        uses: 'docker/login-action@v3',
        with: { registry: 'ghcr.io', username: '${{ github.actor }}', password: '${{ secrets.GITHUB_TOKEN }}' },
      },
      {
        name: 'Build and push',
        id: 'push',
        uses: 'docker/build-push-action@v6',
        with: {
          context: 'runtime',
          file: 'runtime/Dockerfile',
          platforms: 'linux/amd64,linux/arm64',
          push: '${{ !inputs.dry_run }}',
          tags: `${GATEWAY_IMAGE_REPOSITORY}:\${{ steps.version.outputs.version }}`,
          labels: [
            'org.opencontainers.image.source=${{ github.server_url }}/${{ github.repository }}',
            'org.opencontainers.image.version=${{ steps.version.outputs.version }}',
            'org.opencontainers.image.licenses=Apache-2.0',
          ].join('\n'),
          provenance: 'mode=max',
          sbom: true,
        },
      },
      {
        name: 'Attest build provenance',
        if: '${{ !inputs.dry_run }}',
        uses: 'actions/attest-build-provenance@v3',
        with: { 'subject-name': GATEWAY_IMAGE_REPOSITORY, 'subject-digest': '${{ steps.push.outputs.digest }}', 'push-to-registry': true },
      },
    ],
  };
}
