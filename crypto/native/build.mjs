// Builds the SM2 addon (crypto/native/sm2.c) with node-gyp against Node's own headers and
// OpenSSL. Run by `npm install`. If the build fails, install goes on: crypto/sm2.ts then runs
// on its pure-JavaScript fallback and warns at every start. Under CI=true a failed build fails
// the install, so CI always proves the native path.
import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// npm gives lifecycle scripts its bundled node-gyp; outside npm, use node-gyp from PATH.
const gyp = process.env.npm_config_node_gyp;
const [command, args] = gyp
  ? [process.execPath, [gyp, 'rebuild']]
  : ['node-gyp', ['rebuild']];
const result = spawnSync(command, args, { cwd: here, stdio: ['ignore', 'inherit', 'inherit'] });
if (result.status !== 0) {
  const reason = result.error ? result.error.message : `node-gyp exited with ${result.status}`;
  const banner = '*'.repeat(78);
  console.error(`\n${banner}\n* The native SM2 addon did not build (${reason}).\n` +
    '* Baygate will run SM2 on its pure-JavaScript fallback: about 100x slower and not\n' +
    '* constant-time. Install python3, make and g++, then run `npm run build:native`.\n' +
    `${banner}\n`);
  process.exit(process.env.CI === 'true' ? 1 : 0);
}
