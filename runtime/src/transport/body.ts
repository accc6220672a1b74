import type { IncomingMessage } from 'node:http';

export class BodyTooLarge extends Error {
  constructor(limit: number) {
    super(`Payload Too Large: request body exceeds ${limit} bytes (config.limits.maxBodyBytes)`);
  }
}

/** Reads a request body, refusing (without buffering the rest) anything above `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(new BodyTooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    let complete = false;
    req.once('end', () => {
      complete = true;
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    });
    req.once('error', reject);
    // A client that hangs up mid-body must not leave the request waiting forever.
    req.once('close', () => {
      if (!complete) reject(new Error('client closed the connection before the body was complete'));
    });
  });
}
