/**
 * The bridge must run in any Linux image of its CPU architecture: distroless `base` (no libstdc++),
 * distroless `static`, Alpine (musl), `scratch`. `--copy-self DIR` therefore copies the executable with its
 * own dynamic loader and libraries, and the server container runs it through that loader.
 *
 * Proof: a root filesystem that holds nothing but the copied bridge folder and a statically linked stdio
 * MCP server written in C (test/fixtures/static-mcp-server.c) — no libc, no shell, no /etc — and the
 * bridge run in it with chroot as an unprivileged user, listening on loopback, driven by the SDK client.
 * Twice: once bare (not even /proc, /dev or /tmp: the bridge needs none of them), once as a pod sees a
 * `scratch` image (/proc, a minimal /dev, /etc/hosts and friends, an emptyDir at /tmp and HOME, the bridge
 * folder read-only), with the mounts made in a private mount and PID namespace so nothing reaches the host.
 * Both check, from the host, that every file the bridge process has mapped is in the bridge folder, and that
 * the server's environment is exactly the bridge's (no LD_LIBRARY_PATH or other loader variables leak).
 *
 * The same proof for the arm64 bridge on an x86-64 machine: built from Node 24 for arm64, with Debian's arm64
 * libraries (multiarch), a static arm64 server from the cross compiler, and the kernel handing every arm64
 * program to qemu-aarch64-static (binfmt_misc, flag F: opened when registered, so the root holds nothing
 * of it). The only file mapped from outside the bridge folder is then the emulator itself.
 *
 * Needs root (chroot, mount namespaces), util-linux (`unshare`, `mount`), gcc and a static libc (Debian: gcc,
 * libc6-dev); for arm64 also the packages scripts/ensure-test-deps.sh installs. `npm test` installs them
 * when it can; where they are missing the suite reports what to install and does not run.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  mkdirSync,
  openSync,
  readSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { freePort } from './helpers/ports.js';
import { command, describeIf, file, ROOT, unmet, type Requirement } from './helpers/requirements.js';
import { seaExecutable } from './helpers/sea-build.js';
import { mappedFiles, planBridgeCopy, readElf } from '../src/bridge/copy-self.js';
import { isBridge } from '../src/dev/manifests.js';

const FIXTURE = join(process.cwd(), 'test', 'fixtures', 'static-mcp-server.c');
/** Where McpServer mounts the bridge volume, and runs it from (src/mcp-server.ts). */
const BRIDGE_DIR = '/mcp-bridge';
const BRIDGE = [`${BRIDGE_DIR}/lib/ld.so`, '--library-path', `${BRIDGE_DIR}/lib`, `${BRIDGE_DIR}/mcp-gateway`];
/** McpServer's default user and group. */
const USER = '1000:1000';

/**
 * Runs as PID 1 of fresh mount and PID namespaces (mounts are private there, and go away with it): mounts
 * what the kubelet gives a container whose image is empty, then enters the root as the pod's user.
 */
const POD_SCRIPT = String.raw`
root=$1; shift
image_path=$PATH
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
chroot=$(command -v chroot)
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
mount -t tmpfs -o nosuid,mode=755,size=64k tmpfs "$root/dev"
for node in null zero full random urandom tty; do
  : > "$root/dev/$node"
  mount --bind "/dev/$node" "$root/dev/$node"
done
ln -s /proc/self/fd "$root/dev/fd"
mkdir "$root/dev/shm"
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs "$root/dev/shm"
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs "$root/tmp"
mount -t tmpfs -o nosuid,nodev,mode=755,uid=1000,gid=1000 tmpfs "$root/home/mcp"
mount --bind "$root${BRIDGE_DIR}" "$root${BRIDGE_DIR}"
mount -o remount,bind,ro "$root${BRIDGE_DIR}"
# The shell exported PWD; the container runtime would not have.
unset PWD
PATH=$image_path
exec "$chroot" --userspec=${USER} "$root" "$@"
`;

/** Absolute path of a host tool: the bridge's environment (and so its PATH) is the image's, not ours. */
function which(tool: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

/** Mount and PID namespaces (unshare needs CAP_SYS_ADMIN, e.g. a privileged container). */
const NAMESPACES: Requirement = {
  what: 'mount and PID namespaces',
  fix: 'run as root with CAP_SYS_ADMIN (a privileged container); `unshare --mount --pid --fork true` must work',
  present: () =>
    process.getuid?.() === 0 &&
    which('unshare') !== undefined &&
    spawnSync(which('unshare')!, ['--mount', '--pid', '--fork', '--kill-child', 'true']).status === 0,
};

/** How each architecture's server is compiled and its programs are started here. */
interface Target {
  readonly arch: 'x64' | 'arm64';
  readonly cc: string;
  /** Prefix to run a program of this architecture from this host, outside a chroot. */
  readonly run: string[];
  /** Host files besides the bridge folder the bridge process may map: the emulator, when emulated. */
  readonly hostMapped: string[];
  readonly requirements: Requirement[];
  /** The bridge under emulation starts slower; nothing here measures it. */
  readonly readyWithinMs: number;
}

const HOST_LIBC_A = `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu/libc.a`;
const BASE: Requirement[] = [ROOT, command('chroot', 'coreutils'), command('sh', 'dash'), command('gcc', 'gcc'), file(HOST_LIBC_A, 'libc6-dev')];

const NATIVE: Target = { arch: process.arch as 'x64', cc: 'gcc', run: [], hostMapped: [], requirements: BASE, readyWithinMs: 30_000 };

const EMULATOR = '/usr/bin/qemu-aarch64-static';
/** binfmt_misc hands arm64 programs to the emulator, opened at registration (flag F), as ensure-test-deps.sh registers it. */
const ARM64_BINFMT: Requirement = {
  what: `arm64 programs run by ${EMULATOR} through binfmt_misc with flag F`,
  fix: 'run scripts/ensure-test-deps.sh as root (it mounts binfmt_misc and registers qemu-aarch64-static)',
  present: () => {
    try {
      const entry = readFileSync('/proc/sys/fs/binfmt_misc/qemu-aarch64', 'utf8');
      return /^enabled/m.test(entry) && entry.includes(`interpreter ${EMULATOR}`) && /^flags:.*F/m.test(entry);
    } catch {
      return false;
    }
  },
};
const ARM64_EMULATED: Target = {
  arch: 'arm64',
  cc: 'aarch64-linux-gnu-gcc',
  run: ['qemu-aarch64'],
  hostMapped: [EMULATOR],
  requirements: [
    ...BASE,
    command('qemu-aarch64', 'qemu-user'),
    file(EMULATOR, 'qemu-user-static', true),
    command('aarch64-linux-gnu-gcc', 'gcc-aarch64-linux-gnu'),
    file('/usr/aarch64-linux-gnu/lib/libc.a', 'libc6-dev-arm64-cross'),
    file('/lib/ld-linux-aarch64.so.1', 'libc6:arm64'),
    file('/usr/lib/aarch64-linux-gnu/libstdc++.so.6', 'libstdc++6:arm64'),
    file('/usr/lib/aarch64-linux-gnu/libgcc_s.so.1', 'libgcc-s1:arm64'),
    ARM64_BINFMT,
  ],
  readyWithinMs: 180_000,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Mount points at or below `dir` in this (the host's) mount namespace. */
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point) => point !== undefined && (point === dir || point.startsWith(`${dir}/`)));
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function portabilitySuite(target: Target, title: string): void {
  describeIf(target.requirements)(title, () => {
    // Real path: the host's mount table and the bridge's /proc/PID/maps name files by it.
    const work = realpathSync(mkdtempSync(join(tmpdir(), `mcp-bridge-portability-${target.arch}-`)));
    const running: ChildProcess[] = [];
    let serverBinary = '';

    beforeAll(async () => {
      const sea = await seaExecutable(target.arch);
      serverBinary = join(work, 'mcp-echo');
      const cc = spawnSync(target.cc, ['-static', '-O2', '-Wall', '-Werror', '-o', serverBinary, FIXTURE], { encoding: 'utf8' });
      if (cc.status !== 0) throw new Error(`${target.cc} -static failed:\n${cc.stderr}`);
      // Statically linked: no interpreter, no libraries; and built for the target.
      expect(readElf(serverBinary)).toMatchObject({ interp: undefined, needed: [] });
      expect(elfMachine(serverBinary)).toBe(target.arch);
      expect(elfMachine(sea)).toBe(target.arch);
      // The copy the init container makes; each root below gets its own.
      const [copyCommand, ...copyArgs] = [...target.run, sea, '--copy-self', join(work, 'bridge')];
      execFileSync(copyCommand, copyArgs, { env: {}, timeout: 120_000, stdio: 'pipe' });
    }, 600_000);

    afterAll(async () => {
      for (const child of running) {
        if (child.exitCode !== null || child.signalCode !== null) continue;
        const exited = new Promise((r) => child.once('exit', r));
        try {
          process.kill(-child.pid!, 'SIGTERM');
        } catch {
          /* already gone */
        }
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 5000)))]);
        clearTimeout(timer);
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          /* the group is gone */
        }
      }
      // The namespace's mounts died with it; never delete through a mount that somehow reached the host.
      const leaked = mountsUnder(work);
      if (leaked.length > 0) throw new Error(`mounts reached the host, not removing ${work}: ${leaked.join(', ')}`);
      rmSync(work, { recursive: true, force: true });
    });

    /** A root holding the bridge folder and the server; `extra` adds what the pod variant needs. */
    function makeRoot(name: string, extra: (root: string) => void = () => {}): string {
      const root = join(work, name);
      mkdirSync(join(root, 'server'), { recursive: true });
      chmodSync(root, 0o755);
      execFileSync('cp', ['-a', join(work, 'bridge'), join(root, BRIDGE_DIR.slice(1))]);
      execFileSync('cp', [serverBinary, join(root, 'server', 'mcp-echo')]);
      extra(root);
      return root;
    }

    async function exercise(
      launcher: ChildProcess,
      port: number,
      root: string,
      bridgePid: () => number | undefined,
      env: Record<string, string>,
    ): Promise<void> {
      running.push(launcher);
      let output = '';
      launcher.stdout!.on('data', (d) => (output += d));
      launcher.stderr!.on('data', (d) => (output += d));

      const deadline = Date.now() + target.readyWithinMs;
      let ready = false;
      while (!ready && Date.now() < deadline) {
        if (launcher.exitCode !== null || launcher.signalCode !== null) {
          throw new Error(`the bridge exited (${launcher.exitCode ?? launcher.signalCode}) in ${root}:\n${output}`);
        }
        ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
        if (!ready) await sleep(100);
      }
      if (!ready) throw new Error(`the bridge was not ready within ${target.readyWithinMs / 1000} s in ${root}:\n${output}`);

      // Everything the bridge has mapped comes from its own folder (and, emulated, the emulator): nothing of the image is used.
      const pid = bridgePid();
      if (!pid) throw new Error(`cannot find the bridge process:\n${output}`);
      const mapped = mappedFiles(readFileSync(`/proc/${pid}/maps`, 'utf8'));
      expect(mapped).toEqual(
        expect.arrayContaining([join(root, BRIDGE_DIR.slice(1), 'mcp-gateway'), join(root, BRIDGE_DIR.slice(1), 'lib', 'libc.so.6')]),
      );
      expect(mapped.filter((f) => !f.startsWith(join(root, BRIDGE_DIR.slice(1), '/')) && !target.hostMapped.includes(f))).toEqual([]);

      const client = new Client({ name: 'bridge-portability-test', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)));
      try {
        expect(client.getServerVersion()?.name).toBe('static-c-echo');
        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name)).toEqual(['echo']);
        const result = await client.callTool({ name: 'echo', arguments: { text: 'from "scratch" ✓' } });
        const [echoed, environment] = result.content as { type: string; text: string }[];
        expect(echoed).toEqual({ type: 'text', text: 'echo: from "scratch" ✓' });
        // The server sees the environment the image would give it, and nothing the loader needs.
        const names = environment.text
          .replace(/^env:\s*/, '')
          .split(' ')
          .filter(Boolean)
          .sort();
        expect(names).toEqual(Object.keys(env).sort());
        expect(names.filter((n) => n.startsWith('LD_'))).toEqual([]);
      } finally {
        await client.close();
      }
    }

    test('bare root: no /proc, /dev, /tmp or /etc, unprivileged user', async () => {
      const root = makeRoot('bare');
      expect(readdirSync(root).sort()).toEqual(['mcp-bridge', 'server']);
      const port = await freePort();
      const env = { PATH: '/server', HOME: '/', MCP_TEST_MARKER: 'bare' };
      const launcher = spawn(
        which('chroot')!,
        [`--userspec=${USER}`, root, ...BRIDGE, '--host', '127.0.0.1', '--port', String(port), '--', 'mcp-echo'],
        {
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true,
        },
      );
      // chroot execs the loader, which runs the bridge in the same process.
      await exercise(launcher, port, root, () => launcher.pid, env);
    }, 60_000 + target.readyWithinMs);

    (NAMESPACES.present() ? test : testNotRun(NAMESPACES))(
      'pod-like root: what the kubelet mounts into a scratch image, bridge folder read-only',
      async () => {
        const root = makeRoot('pod', (r) => {
          for (const dir of ['proc', 'dev', 'tmp', 'home/mcp', 'etc']) mkdirSync(join(r, dir), { recursive: true });
          chownSync(join(r, 'home', 'mcp'), 1000, 1000);
          writeFileSync(join(r, 'etc', 'hosts'), '127.0.0.1\tlocalhost\n::1\tlocalhost\n');
          writeFileSync(join(r, 'etc', 'hostname'), 'mcp-server-0\n');
          writeFileSync(join(r, 'etc', 'resolv.conf'), 'nameserver 127.0.0.53\noptions ndots:5\n');
        });
        const port = await freePort();
        const env = { PATH: '/server', HOME: '/home/mcp', MCP_TEST_MARKER: 'pod' };
        const launcher = spawn(
          which('unshare')!,
          [
            '--mount',
            '--pid',
            '--fork',
            '--kill-child',
            which('sh')!,
            '-euc',
            POD_SCRIPT,
            'pod',
            root,
            ...BRIDGE,
            '--host',
            '127.0.0.1',
            '--port',
            String(port),
            '--',
            'mcp-echo',
          ],
          { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
        );
        // unshare forks PID 1 of the namespace (sh, which becomes chroot, then the bridge).
        await exercise(launcher, port, root, () => childrenOf(launcher.pid!)[0], env);
        expect(statSync(join(root, 'proc')).isDirectory()).toBe(true);
        expect(mountsUnder(root)).toEqual([]);
      },
      60_000 + target.readyWithinMs,
    );
  });
}

/** `test.skip` with a line saying what is missing: chosen when the file loads, like describeIf. */
function testNotRun(requirement: Requirement): (name: string, fn: () => Promise<void>, timeout?: number) => void {
  return (name, fn, timeout) => {
    process.stderr.write(`NOT RUN: "${name}" needs ${unmet([requirement]).join(', ')}.\n`);
    test.skip(name, fn, timeout);
  };
}

/** `x64` or `arm64` from an ELF header's e_machine. */
function elfMachine(path: string): string | undefined {
  const header = Buffer.alloc(20);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, header, 0, 20, 0);
  } finally {
    closeSync(fd);
  }
  return { 0x3e: 'x64', 0xb7: 'arm64' }[header.readUInt16LE(18)];
}

portabilitySuite(NATIVE, `portable bridge (${process.arch}): runs in a root filesystem with nothing but itself and a static server`);
// arm64 on x86-64 machines, emulated; on an arm64 machine the suite above is the arm64 one.
if (process.arch === 'x64') {
  portabilitySuite(ARM64_EMULATED, 'portable bridge (arm64, under qemu-user): runs in a root filesystem with nothing but itself and a static server');
}

describe('the dev-mode manifest reader recognises the bridge', () => {
  test('run through its copied loader (as McpServer synthesizes it) or directly', () => {
    const args = ['--host', '0.0.0.0', '--port', '3000', '--', 'npx', '--yes', 'server@1.0.0'];
    expect(isBridge([...BRIDGE, ...args])).toBe(true);
    expect(isBridge(['/mcp-bridge/mcp-gateway', ...args])).toBe(true);
    expect(isBridge(['mcp-gateway', ...args])).toBe(true);
    // The server's own `--` or a program merely named like the bridge after it does not count.
    expect(isBridge(['python', '-m', 'server', '--', '/mcp-bridge/mcp-gateway'])).toBe(false);
    expect(isBridge([...BRIDGE, '--port', '3000', '--'])).toBe(false);
    expect(isBridge(['/usr/bin/not-mcp-gateway-really', ...args])).toBe(false);
  });
});

describe('what --copy-self copies (read from this Node process)', () => {
  const maps = readFileSync('/proc/self/maps', 'utf8');

  test('readElf: the executable has an interpreter and no SONAME; libraries have a SONAME', () => {
    const node = readElf(process.execPath)!;
    expect(node.interp).toMatch(/\/ld-[^/]+\.so(\.\d+)?$/);
    expect(node.soname).toBeUndefined();
    expect(node.needed).toEqual(expect.arrayContaining(['libc.so.6']));
    const libc = mappedFiles(maps).find((f) => /\/libc[.-][^/]*so/.test(f))!;
    expect(readElf(libc)!.soname).toBe('libc.so.6');
    expect(readElf(FIXTURE)).toBeUndefined();
  });

  test('mappedFiles keeps each path once, spaces included, and skips anonymous mappings', () => {
    const text = [
      '00400000-00401000 r--p 00000000 08:01 1 /opt/my dir/bin',
      '00401000-00402000 r-xp 00001000 08:01 1 /opt/my dir/bin',
      '7f0000000000-7f0000001000 rw-p 00000000 00:00 0 ',
      '7f0000001000-7f0000002000 rw-p 00000000 00:00 0 [heap]',
      '7f0000002000-7f0000003000 r--p 00000000 08:01 2 /lib/libc.so.6',
    ].join('\n');
    expect(mappedFiles(text)).toEqual(['/opt/my dir/bin', '/lib/libc.so.6']);
  });

  test('planBridgeCopy finds the executable, its loader and every needed library under its SONAME', () => {
    const plan = planBridgeCopy(maps);
    expect(realpathSync(plan.executable.path)).toBe(realpathSync(process.execPath));
    expect(plan.loader.elf.soname).toBe(basename(plan.executable.elf.interp!));
    const sonames = plan.libraries.map((l) => l.soname);
    expect(sonames).toEqual(expect.arrayContaining(['libc.so.6', 'libstdc++.so.6', 'libgcc_s.so.1', 'libm.so.6']));
    // memfd and other deleted mappings are not needed and do not get in the way.
    expect(planBridgeCopy(`${maps}7f0000000000-7f0000001000 r-xp 00000000 00:01 99 /memfd:jit (deleted)\n`).libraries.length).toBe(sonames.length);
  });

  test('a needed library that is not mapped is an error, not an incomplete copy', () => {
    const withoutLibstdcxx = maps
      .split('\n')
      .filter((line) => !/libstdc\+\+/.test(line))
      .join('\n');
    expect(() => planBridgeCopy(withoutLibstdcxx)).toThrow(/needed libraries are not mapped: libstdc\+\+\.so\.6/);
  });
});
