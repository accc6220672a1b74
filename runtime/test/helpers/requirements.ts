/**
 * Tests that need something outside npm (a Debian package, root) declare it here. `npm test` installs the
 * packages first when it can (scripts/ensure-test-deps.sh, as root with apt-get); where it could not, the
 * tests that need them do not run and say exactly what to install, and every other test runs. The choice
 * is made when the test file loads: the suite is registered with `describe` or `describe.skip`, so jest
 * counts the tests as skipped (not run), never as passed.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

export interface Requirement {
  /** What is needed, as a person would look for it: `chromium (/usr/bin/chromium)`. */
  readonly what: string;
  /** The Debian package that provides it, if one does. */
  readonly debian?: string;
  /** How to get it, when it is not a package (`run the tests as root`). */
  readonly fix?: string;
  /** Whether this machine has it; evaluated once, when the test file loads. */
  readonly present: () => boolean;
}

/** A program found on PATH. */
export function command(name: string, debian: string): Requirement {
  return { what: `\`${name}\` on PATH`, debian, present: () => spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0 };
}

/** A file (executable if `executable`) at a fixed path. */
export function file(path: string, debian: string, executable = false): Requirement {
  return {
    what: path,
    debian,
    present: () => {
      try {
        accessSync(path, executable ? constants.X_OK : constants.R_OK);
        return true;
      } catch {
        return false;
      }
    },
  };
}

/** Root (chroot, mounts, binfmt): CI runs as root. */
export const ROOT: Requirement = { what: 'root', fix: 'run the tests as root (CI does)', present: () => process.getuid?.() === 0 };

/** The requirements this machine does not meet, each with how to meet it. */
export function unmet(requirements: readonly Requirement[]): string[] {
  return requirements
    .filter((r) => !r.present())
    .map((r) => (r.debian ? `${r.what} (Debian package \`${r.debian}\`)` : `${r.what}: ${r.fix ?? 'not available'}`));
}

/** The command that installs what is missing, or nothing when no package would help. */
function installHint(requirements: readonly Requirement[]): string {
  const packages = [...new Set(requirements.filter((r) => r.debian && !r.present()).map((r) => r.debian!))];
  if (packages.length === 0) return '';
  const multiarch = packages.some((p) => p.endsWith(':arm64')) ? 'sudo dpkg --add-architecture arm64 && sudo apt-get update && ' : '';
  return ` Install: ${multiarch}sudo apt-get install -y ${packages.join(' ')}`
    + ' (or run scripts/ensure-test-deps.sh as root, which `npm test` does first).';
}

/**
 * `describe` when every requirement is met; otherwise `describe.skip` plus a line on stderr naming the suite,
 * what is missing and how to install it.
 */
export function describeIf(requirements: readonly Requirement[]): (name: string, fn: () => void) => void {
  const missing = unmet(requirements);
  if (missing.length === 0) return describe;
  return (name, fn) => {
    process.stderr.write(`NOT RUN: "${name}" needs ${missing.join(', ')}.${installHint(requirements)}\n`);
    describe.skip(name, fn);
  };
}
