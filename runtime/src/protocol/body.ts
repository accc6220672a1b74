import type { IncomingMessage } from 'node:http';
import { McpError } from './errors.js';

function bodyTooLarge(limit: number): McpError {
  return new McpError('payload_too_large', `Payload Too Large: request body exceeds ${limit} bytes (config.limits.maxBodyBytes)`);
}

/** The client did not send its whole body within `config.limits.bodyTimeout` (slow-body attacks). */
function bodyTimeout(timeoutMs: number): McpError {
  return new McpError('body_timeout', `Request Timeout: the request body did not arrive within ${timeoutMs} ms (config.limits.bodyTimeout)`);
}

/**
 * Reads a request body, refusing (without buffering the rest) anything above `limit` bytes, and giving
 * up on one that is not complete within `timeoutMs`: the server's own request timeout is off for the
 * sake of long-lived SSE streams, so without this a client sending a byte now and then holds a
 * connection and its buffers forever. Refusals are McpErrors of kind `payload_too_large` and `body_timeout`.
 */
export function readBody(req: IncomingMessage, limit: number, timeoutMs = 30_000): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(bodyTooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      req.removeAllListeners('data');
      req.pause();
      reject(bodyTimeout(timeoutMs));
    }, timeoutMs);
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        clearTimeout(timer);
        req.removeAllListeners('data');
        req.resume();
        reject(bodyTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    let complete = false;
    req.once('end', () => {
      complete = true;
      clearTimeout(timer);
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    });
    req.once('error', reject);
    // A client that hangs up mid-body must not leave the request waiting forever.
    req.once('close', () => {
      clearTimeout(timer);
      if (!complete) reject(new Error('client closed the connection before the body was complete'));
    });
  });
}

/** How deep a JSON-RPC message may nest; far more than any MCP message needs, far less than what overflows a stack. */
export const MAX_JSON_DEPTH = 128;

/**
 * True when `text` nests arrays and objects deeper than `max`. Checked before parsing: the parser copes
 * with any depth, but what handles the value next (serialising it for the upstream, the upstream's own
 * parser) recurses and would overflow.
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c) i++;
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) {
      inString = true;
    } else if (char === 0x5b || char === 0x7b) {
      if (++depth > max) return true;
    } else if (char === 0x5d || char === 0x7d) {
      depth--;
    }
  }
  return false;
}
