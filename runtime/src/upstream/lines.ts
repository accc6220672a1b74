const NEWLINE = 0x0a;
/** Bytes of an oversized line kept to tell what it was (its JSON-RPC id, for a stdout message). */
const HEAD_BYTES = 256;

/**
 * Newline framing with a bound. `readline` buffers a line however long it grows, so a server that writes
 * 150 MB without a newline makes the gateway hold all of it; here a line over `maxBytes` is given up the
 * moment it crosses the limit, `oversized` gets its first bytes (as soon as 256 are known), the rest of
 * it is skipped up to its newline, and `dropped` learns how many bytes were skipped once it ends.
 */
export class BoundedLineSplitter {
  private parts: Buffer[] = [];
  private size = 0;
  /** Bytes of the current line when it is being skipped; -1 while it is within the limit. */
  private skipped = -1;
  /** First bytes of a skipped line, until `oversized` has been told (HEAD_BYTES, or the line's end). */
  private head?: Buffer[];
  private headSize = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly line: (text: string) => void,
    private readonly oversized: (head: string) => void,
    private readonly dropped: (bytes: number) => void = () => undefined,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      this.take(chunk.subarray(start, newline === -1 ? chunk.length : newline));
      if (newline === -1) return;
      this.endLine();
      start = newline + 1;
    }
  }

  /** The stream ended: a last line without a newline still counts. */
  end(): void {
    if (this.size > 0 || this.skipped >= 0) this.endLine();
  }

  private take(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.skipped >= 0) {
      this.skipped += piece.length;
      this.collectHead(piece);
      return;
    }
    if (this.size + piece.length <= this.maxBytes) {
      this.parts.push(piece);
      this.size += piece.length;
      return;
    }
    this.skipped = this.size + piece.length;
    this.head = [];
    this.headSize = 0;
    for (const part of this.parts) this.collectHead(part);
    this.parts = [];
    this.size = 0;
    this.collectHead(piece);
  }

  /** Gathers a skipped line's first bytes; tells `oversized` once there are enough. */
  private collectHead(piece: Buffer): void {
    if (!this.head) return;
    const wanted = HEAD_BYTES - this.headSize;
    if (wanted > 0) {
      const taken = piece.subarray(0, wanted);
      this.head.push(taken);
      this.headSize += taken.length;
    }
    if (this.headSize >= HEAD_BYTES) this.reportHead();
  }

  private reportHead(): void {
    if (!this.head) return;
    const head = Buffer.concat(this.head).toString('utf8');
    this.head = undefined;
    this.oversized(head);
  }

  private endLine(): void {
    if (this.skipped >= 0) {
      this.reportHead();
      this.dropped(this.skipped);
      this.skipped = -1;
      return;
    }
    const buffer = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    const text = buffer.toString('utf8');
    this.line(text.endsWith('\r') ? text.slice(0, -1) : text);
  }
}
