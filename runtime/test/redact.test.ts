import { redactConfig } from '../src/telemetry/redact.js';

describe('admin page redaction', () => {
  test('URL credentials go wherever the URL sits in a string', () => {
    expect(redactConfig({ host: 'https://user:hunter2@example.com/mcp' })).toEqual({ host: 'https://user:redacted@example.com/mcp' });
    // A user name alone is how tokens ride in clone URLs.
    expect(redactConfig({ host: 'https://ghp_secret@github.com/x.git' })).toEqual({ host: 'https://redacted@github.com/x.git' });
    expect(redactConfig({ args: ['--upstream=postgres://app:hunter2@db:5432/app', 'see https://u:p@h/ now'] })).toEqual({
      args: ['--upstream=postgres://app:redacted@db:5432/app', 'see https://u:redacted@h/ now'],
    });
    expect(redactConfig({ env: { DATABASE_URL: 'postgres://app:hunter2@db/app' } })).toEqual({ env: { DATABASE_URL: 'postgres://app:redacted@db/app' } });
  });

  test('secret-looking names, flags, query parameters and header modifiers lose their values', () => {
    expect(
      redactConfig({
        session: { key: 'ab'.repeat(32) },
        args: ['--token', 't1', '--api-key=t2', 'plain'],
        env: { GITHUB_TOKEN: 't3', LOG_LEVEL: 'debug' },
        url: 'https://example.com/mcp?api_key=t4&page=2',
        set: [{ name: 'x-api-key', value: 't5' }, { name: 'x-trace', value: 'on' }],
        backendAuth: { key: { value: 't6' } },
      }),
    ).toEqual({
      session: { key: '[redacted]' },
      args: ['--token', '[redacted]', '--api-key=[redacted]', 'plain'],
      env: { GITHUB_TOKEN: '[redacted]', LOG_LEVEL: 'debug' },
      url: 'https://example.com/mcp?api_key=redacted&page=2',
      set: [{ name: 'x-api-key', value: '[redacted]' }, { name: 'x-trace', value: 'on' }],
      backendAuth: { key: { value: '[redacted]' } },
    });
  });

  test('strings without a URL are left alone', () => {
    expect(redactConfig({ cmd: 'npx', args: ['-y', '@modelcontextprotocol/server-github'] })).toEqual({
      cmd: 'npx',
      args: ['-y', '@modelcontextprotocol/server-github'],
    });
  });
});
