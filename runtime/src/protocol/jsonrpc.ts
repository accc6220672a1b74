/** A JSON-RPC 2.0 message as it travels through the gateway: fields the gateway does not know are kept. */
export interface JsonRpcMessage {
  jsonrpc: '2.0';
  id?: string | number | null;
  method?: string;
  params?: Record<string, unknown> & { _meta?: Record<string, unknown> };
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: unknown };
  [field: string]: unknown;
}

export type RequestId = string | number;

export function errorResponse(id: RequestId | null | undefined, code: number, message: string, data?: unknown): JsonRpcMessage {
  const error: { code: number; message: string; data?: unknown } = { code, message };
  if (data !== undefined) error.data = data;
  return { jsonrpc: '2.0', id: id ?? null, error };
}

export function resultResponse(id: RequestId, result: Record<string, unknown>): JsonRpcMessage {
  return { jsonrpc: '2.0', id, result };
}

export function isRequest(message: JsonRpcMessage): boolean {
  return typeof message.method === 'string' && message.id !== undefined && message.id !== null;
}

export function isNotification(message: JsonRpcMessage): boolean {
  return typeof message.method === 'string' && (message.id === undefined || message.id === null);
}

export function isResponse(message: JsonRpcMessage): boolean {
  return message.method === undefined && (message.result !== undefined || message.error !== undefined);
}

/** Structural check of one incoming JSON-RPC message; returns why it is invalid, or undefined. */
export function invalidReason(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'a JSON-RPC message must be an object';
  const message = value as Record<string, unknown>;
  if (message.jsonrpc !== '2.0') return 'jsonrpc must be "2.0"';
  const hasId = message.id !== undefined;
  if (hasId && typeof message.id !== 'string' && typeof message.id !== 'number' && !(message.id === null && message.method === undefined)) {
    return 'id must be a string or a number';
  }
  if (message.method !== undefined) {
    if (typeof message.method !== 'string' || message.method === '') return 'method must be a non-empty string';
    const params = message.params;
    if (params !== undefined && (typeof params !== 'object' || params === null)) return 'params must be an object or an array';
    return undefined;
  }
  if (!hasId) return 'a message needs a method (request or notification) or an id (response)';
  if (message.result === undefined && message.error === undefined) return 'a response needs result or error';
  return undefined;
}
