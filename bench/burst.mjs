// Connect burst: N new sessions opened at once, each by a client in a process of its own (connect-client.mjs).
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './sdk.mjs';

const CLIENT = join(ROOT, 'bench', 'connect-client.mjs');
/**
 * Connects each burst client makes (and ends) before the burst: an agent host that opens a chat has run that code
 * before. The SDK client's CPU per connect measured ~20 ms after one warm connect, ~17–19 ms after three and
 * ~11–14 ms after twenty; twenty would take minutes in the rows that start a server process per session. Every
 * warm session is ended with DELETE, so none holds a process in the proxy during the burst.
 */
export const WARM_CONNECTS = 3;

/** Forks `count` clients and has each connect to `target` and end the session WARM_CONNECTS times, so the burst finds them warm. */
export async function startBurstClients(target, count, timeoutMs = 120_000) {
  const children = Array.from({ length: count }, () => fork(CLIENT, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));
  const ask = (child, message) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`burst client: no answer to ${Object.keys(message)[0]} in ${timeoutMs} ms`)), timeoutMs);
      const onExit = (code) => reject(new Error(`burst client exited (${code}) before answering`));
      child.once('exit', onExit);
      child.once('message', (reply) => {
        clearTimeout(timer);
        child.off('exit', onExit);
        if (reply.error) reject(new Error(reply.error));
        else resolve(reply);
      });
      child.send(message);
    });
  const stop = async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise((resolve) => {
            if (child.exitCode !== null || !child.connected) return resolve();
            const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            child.send({ close: true });
          }),
      ),
    );
  };
  try {
    await Promise.all(children.map((child) => ask(child, { warm: target, times: WARM_CONNECTS })));
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    /**
     * Every client connects at once. Returns each client's own connect time (ms, sorted) and its own CPU
     * over that connect (ms, summed over the clients).
     */
    async burst() {
      const replies = await Promise.all(children.map((child) => ask(child, { go: true })));
      return {
        connectMs: replies.map((r) => r.ms).sort((a, b) => a - b),
        clientCpuMs: replies.reduce((sum, r) => sum + r.cpuMs, 0),
      };
    },
    /** Closes every client's session and ends the client processes. */
    stop,
  };
}
