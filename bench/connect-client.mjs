// One client of a connect burst, in a process of its own (forked by burst.mjs). Clients that share one
// process queue behind each other's JavaScript, which puts a floor under every proxy's connect time; here
// each client has its own event loop, loads and warms its code before the burst, and times only its own connect.
//   parent → { warm: target, times }   connect, end the session and close `times` times: code hot, keep-alive socket open
//   child  → { warmed: true } | { error }
//   parent → { go: true }       connect now, timed from this message to a usable session (tools/list answered)
//   child  → { ms, cpuMs } | { error }
//   parent → { close: true }    close the session and exit
import { connectClient } from './lib.mjs';

let target;
let connection;

process.on('message', async (message) => {
  try {
    if (message.warm) {
      target = message.warm;
      for (let i = 0; i < (message.times ?? 1); i++) {
        const warm = await connectClient(target);
        // Ended, not just dropped: a dropped session holds its process in the proxy until the idle timeout.
        await warm.client.transport?.terminateSession?.().catch(() => {});
        await warm.close();
      }
      process.send({ warmed: true });
    } else if (message.go) {
      const cpu = process.cpuUsage();
      const t = performance.now();
      connection = await connectClient(target);
      const ms = performance.now() - t;
      const used = process.cpuUsage(cpu);
      process.send({ ms, cpuMs: (used.user + used.system) / 1000 });
    } else if (message.close) {
      await connection?.close();
      process.disconnect();
    }
  } catch (err) {
    process.send({ error: err?.message ?? String(err) });
  }
});
