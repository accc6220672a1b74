import { ConfigError } from '../../src/config/errors.js';
import { ConfigLoader } from '../../src/config/load.js';

/**
 * `allowOrigins: ["*"]` with `allowCredentials: true` made the gateway reflect any Origin with
 * `Access-Control-Allow-Credentials: true`: every web page could call the route with the user's
 * cookies. Browsers refuse `*` with credentials for this reason; the gateway refuses the config.
 */
async function issues(cors: Record<string, unknown>, where: 'route' | 'shorthand'): Promise<string[]> {
  const policies = { cors };
  const config =
    where === 'route'
      ? { binds: [{ port: 0, listeners: [{ routes: [{ backends: [{ mcp: { targets: [{ name: 't', mcp: { host: 'http://127.0.0.1:1/mcp' } }] } }], policies }] }] }] }
      : { mcp: { port: 0, targets: [{ name: 't', mcp: { host: 'http://127.0.0.1:1/mcp' } }], policies } };
  try {
    await new ConfigLoader().loadObject(config, 'test', {});
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
  }
  return [];
}

describe('CORS: any origin with credentials', () => {
  test('is refused at load with the field path', async () => {
    expect(await issues({ allowOrigins: ['*'], allowCredentials: true }, 'route')).toEqual([
      'binds[0].listeners[0].routes[0].policies.cors.allowCredentials: cannot be true with allowOrigins "*" (any web page could call the route '
        + 'with its users\' credentials); list the origins instead',
    ]);
    expect(await issues({ allowOrigins: ['https://app.example.com', '*'], allowCredentials: true }, 'shorthand')).toEqual([
      expect.stringMatching(/^mcp\.policies\.cors\.allowCredentials: cannot be true with allowOrigins "\*"/),
    ]);
  });

  test('listed origins with credentials, and * without, still load', async () => {
    expect(await issues({ allowOrigins: ['https://app.example.com'], allowCredentials: true }, 'route')).toEqual([]);
    expect(await issues({ allowOrigins: ['*'] }, 'route')).toEqual([]);
  });
});
