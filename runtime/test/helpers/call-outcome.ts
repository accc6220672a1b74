/**
 * What a client sees of a call — its result, or its error's name, message, code and data — with `toolName`
 * blanked, so a call of a denied tool and one of a missing tool can be compared for equality.
 */
export async function callOutcome(call: Promise<unknown>, toolName: string): Promise<unknown> {
  const blank = (value: unknown) => JSON.parse(JSON.stringify(value).replaceAll(toolName, '<tool>')) as unknown;
  try {
    return { result: blank(await call) };
  } catch (error) {
    const { name, message, code, data } = error as { name?: string; message?: string; code?: unknown; data?: unknown };
    return { error: blank({ name, message, code, data: data ?? null }) };
  }
}
