import type { Client } from '@modelcontextprotocol/sdk/client/index.js';

/** Every tool name the client can see, in list order, following `nextCursor` through all pages. */
export async function allToolNames(client: Client): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor ? { cursor } : {});
    names.push(...page.tools.map((tool) => tool.name));
    cursor = page.nextCursor;
  } while (cursor);
  return names;
}
