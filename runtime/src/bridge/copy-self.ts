import { closeSync, chmodSync, copyFileSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

/**
 * `mcp-gateway --copy-self DIR`: makes the running single executable portable to any Linux image of the
 * same CPU architecture, including ones without glibc or libstdc++ (distroless `base`/`static`, Alpine,
 * `scratch`). It copies the executable together with the dynamic loader and every shared library the
 * process has mapped (read from /proc/self/maps), each library under its SONAME:
 *
 *     DIR/mcp-gateway          the executable
 *     DIR/lib/ld.so            the dynamic loader (ld-linux-x86-64.so.2, ld-linux-aarch64.so.1, ...)
 *     DIR/lib/libc.so.6 ...    libc, libm, libstdc++, libgcc_s, ...
 *
 * and the bridge then runs through the copied loader, which loads only the copied libraries:
 *
 *     DIR/lib/ld.so --library-path DIR/lib DIR/mcp-gateway --port P -- CMD ARGS...
 *
 * Nothing of the target image is used, and the environment is left alone (no LD_LIBRARY_PATH), so the
 * stdio server the bridge spawns runs exactly as it would on its own. Run through the loader,
 * `process.execPath` names the loader, not the executable; this module never relies on it (the executable
 * is the one mapped object that has an interpreter and no SONAME), so `--copy-self` works either way.
 */

const BRIDGE_EXECUTABLE_NAME = 'mcp-gateway';
const BRIDGE_LIB_DIR = 'lib';
/** Architecture-neutral name of the copied loader, so manifests need not know x86_64 from aarch64. */
const BRIDGE_LOADER_NAME = 'ld.so';

/** The argv prefix that runs a bridge copied into `dir`; the bridge's own arguments follow. */
function bridgeInvocation(dir: string): string[] {
  const lib = join(dir, BRIDGE_LIB_DIR);
  return [join(lib, BRIDGE_LOADER_NAME), '--library-path', lib, join(dir, BRIDGE_EXECUTABLE_NAME)];
}

/** What matters here of an ELF file: its type, interpreter, SONAME and DT_NEEDED entries. */
export interface ElfInfo {
  /** ET_EXEC (2) or ET_DYN (3); other types are reported too. */
  readonly type: number;
  /** PT_INTERP: the loader an executable asks for, e.g. `/lib64/ld-linux-x86-64.so.2`. */
  readonly interp?: string;
  readonly soname?: string;
  readonly needed: string[];
}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_SONAME = 14;

/** Reads the ELF headers of `path`; undefined when it is not an ELF file. Reads only what it needs. */
export function readElf(path: string): ElfInfo | undefined {
  const fd = openSync(path, 'r');
  try {
    const read = (offset: number, length: number): DataView => {
      const buf = Buffer.alloc(length);
      const n = readSync(fd, buf, 0, length, offset);
      if (n < length) throw new Error(`${path}: truncated ELF file (wanted ${length} bytes at ${offset})`);
      return new DataView(buf.buffer, buf.byteOffset, length);
    };
    const head = Buffer.alloc(64);
    const headLength = readSync(fd, head, 0, 64, 0);
    if (headLength < 52 || head.readUInt32BE(0) !== 0x7f454c46) return undefined;
    const is64 = head[4] === 2;
    const le = head[5] === 1;
    const h = new DataView(head.buffer, head.byteOffset, headLength);
    const word = (v: DataView, off: number): number => (is64 ? Number(v.getBigUint64(off, le)) : v.getUint32(off, le));
    const type = h.getUint16(16, le);
    const phoff = word(h, is64 ? 32 : 28);
    const phentsize = h.getUint16(is64 ? 54 : 42, le);
    const phnum = h.getUint16(is64 ? 56 : 44, le);

    const segments: { type: number; offset: number; vaddr: number; filesz: number }[] = [];
    if (phnum > 0) {
      const ph = read(phoff, phentsize * phnum);
      for (let i = 0; i < phnum; i++) {
        const o = i * phentsize;
        segments.push(
          is64
            ? { type: ph.getUint32(o, le), offset: word(ph, o + 8), vaddr: word(ph, o + 16), filesz: word(ph, o + 32) }
            : { type: ph.getUint32(o, le), offset: ph.getUint32(o + 4, le), vaddr: ph.getUint32(o + 8, le), filesz: ph.getUint32(o + 16, le) },
        );
      }
    }
    const string = (offset: number): string => {
      const chunks: Buffer[] = [];
      for (let at = offset; at < offset + 4096; at += 256) {
        const chunk = Buffer.alloc(256);
        const n = readSync(fd, chunk, 0, 256, at);
        const nul = chunk.subarray(0, n).indexOf(0);
        if (nul >= 0) return Buffer.concat([...chunks, chunk.subarray(0, nul)]).toString('utf8');
        if (n < 256) break;
        chunks.push(chunk);
      }
      throw new Error(`${path}: unterminated string at offset ${offset}`);
    };

    const interpSegment = segments.find((s) => s.type === PT_INTERP);
    const interp = interpSegment ? string(interpSegment.offset) : undefined;
    const dynamic = segments.find((s) => s.type === PT_DYNAMIC);
    if (!dynamic) return { type, interp, needed: [] };

    const entrySize = is64 ? 16 : 8;
    const dyn = read(dynamic.offset, dynamic.filesz - (dynamic.filesz % entrySize));
    let strtab: number | undefined;
    let sonameAt: number | undefined;
    const neededAt: number[] = [];
    for (let o = 0; o + entrySize <= dyn.byteLength; o += entrySize) {
      const tag = word(dyn, o);
      const value = word(dyn, o + entrySize / 2);
      if (tag === DT_NULL) break;
      if (tag === DT_STRTAB) strtab = value;
      else if (tag === DT_SONAME) sonameAt = value;
      else if (tag === DT_NEEDED) neededAt.push(value);
    }
    if (strtab === undefined) return { type, interp, needed: [] };
    // DT_STRTAB is an address; the file offset is found through the PT_LOAD segment that maps it.
    const load = segments.find((s) => s.type === PT_LOAD && strtab! >= s.vaddr && strtab! < s.vaddr + s.filesz);
    if (!load) throw new Error(`${path}: DT_STRTAB 0x${strtab.toString(16)} is outside every PT_LOAD segment`);
    const strtabOffset = strtab - load.vaddr + load.offset;
    return {
      type,
      interp,
      soname: sonameAt === undefined ? undefined : string(strtabOffset + sonameAt),
      needed: neededAt.map((at) => string(strtabOffset + at)),
    };
  } finally {
    closeSync(fd);
  }
}

/** The files mapped into a process, in order of first appearance, from the text of /proc/PID/maps. */
export function mappedFiles(maps: string): string[] {
  const files: string[] = [];
  for (const line of maps.split('\n')) {
    // address perms offset dev inode pathname — the pathname may contain spaces.
    const match = /^\S+\s+\S+\s+\S+\s+\S+\s+\d+\s+(\/.*)$/.exec(line);
    if (!match) continue;
    const file = match[1];
    if (!files.includes(file)) files.push(file);
  }
  return files;
}

interface MappedObject {
  readonly path: string;
  readonly elf: ElfInfo;
}

export interface BridgePlan {
  readonly executable: MappedObject;
  readonly loader: MappedObject;
  /** Every other shared library, to be copied under its SONAME. */
  readonly libraries: (MappedObject & { readonly soname: string })[];
}

/** Works out what to copy from the maps of a running executable. */
export function planBridgeCopy(maps: string): BridgePlan {
  const objects: MappedObject[] = [];
  // memfd and shared-memory mappings show as "/memfd:x (deleted)"; a library replaced on disk, too. The
  // checks below name such a file when it was one the bridge needs.
  const unusable: string[] = [];
  const unavailable = (): string => (unusable.length > 0 ? ` (mapped, but gone or unreadable: ${unusable.join('; ')})` : '');
  for (const path of mappedFiles(maps)) {
    if (path.endsWith(' (deleted)') || path.startsWith('/memfd:')) {
      unusable.push(path.replace(/ \(deleted\)$/, ''));
      continue;
    }
    let elf: ElfInfo | undefined;
    try {
      if (!statSync(path).isFile()) continue;
      elf = readElf(path);
    } catch (error) {
      // Only a problem if it is one of the files the bridge needs; the checks below say so.
      unusable.push(`${path}: ${(error as Error).message}`);
      continue;
    }
    if (elf) objects.push({ path, elf });
  }

  const executables = objects.filter((o) => o.elf.soname === undefined && o.elf.interp !== undefined);
  if (executables.length !== 1) {
    throw new Error(
      executables.length === 0
        ? `no dynamically linked executable among the mapped files${unavailable()}`
        : `cannot tell the executable among ${executables.map((o) => o.path).join(', ')}`,
    );
  }
  const executable = executables[0];
  const interpName = basename(executable.elf.interp!);
  const loader = objects.find((o) => o.elf.soname === interpName) ?? objects.find((o) => o !== executable && basename(o.path) === interpName);
  if (!loader) throw new Error(`the dynamic loader ${executable.elf.interp} is not among the mapped files${unavailable()}`);

  const libraries: BridgePlan['libraries'] = [];
  for (const object of objects) {
    if (object === executable || object === loader || object.elf.soname === undefined) continue;
    if (libraries.some((l) => l.soname === object.elf.soname)) continue;
    libraries.push({ ...object, soname: object.elf.soname });
  }

  // Everything the loader will look for must be there: it resolves DT_NEEDED by SONAME.
  const provided = new Set([interpName, loader.elf.soname, ...libraries.map((l) => l.soname)]);
  const missing = new Set<string>();
  for (const object of [executable, ...libraries]) {
    for (const name of object.elf.needed) if (!provided.has(name)) missing.add(name);
  }
  if (missing.size > 0) throw new Error(`needed libraries are not mapped: ${[...missing].join(', ')}${unavailable()}`);
  return { executable, loader, libraries };
}

export interface CopiedBridge {
  readonly dir: string;
  /** Run this, then the bridge's own arguments. */
  readonly invocation: string[];
  /** SONAMEs of the copied libraries (the loader not included). */
  readonly libraries: string[];
  readonly bytes: number;
}

/**
 * Copies the running executable, its loader and its libraries into `dir` (created if missing; existing
 * files are replaced, each one atomically). `maps` is the text of /proc/self/maps unless given.
 */
export function copySelf(dir: string, maps?: string): CopiedBridge {
  let text = maps;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/maps', 'utf8');
    } catch (error) {
      throw new Error(`cannot read /proc/self/maps (is /proc mounted?): ${(error as Error).message}`);
    }
  }
  const plan = planBridgeCopy(text);
  const lib = join(dir, BRIDGE_LIB_DIR);
  mkdirSync(lib, { recursive: true });
  let bytes = 0;
  const place = (from: string, to: string, mode: number): void => {
    const temporary = `${to}.tmp-${process.pid}`;
    try {
      copyFileSync(from, temporary);
      chmodSync(temporary, mode);
      renameSync(temporary, to);
    } catch (error) {
      rmSync(temporary, { force: true });
      throw new Error(`cannot copy ${from} to ${to}: ${(error as Error).message}`);
    }
    bytes += statSync(to).size;
  };
  place(plan.loader.path, join(lib, BRIDGE_LOADER_NAME), 0o755);
  for (const library of plan.libraries) place(library.path, join(lib, library.soname), 0o644);
  // The executable last: its presence means the folder is complete.
  place(plan.executable.path, join(dir, BRIDGE_EXECUTABLE_NAME), 0o755);
  return { dir, invocation: bridgeInvocation(dir), libraries: plan.libraries.map((l) => l.soname), bytes };
}
