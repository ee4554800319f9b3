import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** Where Baygate is installed: the nearest folder above this module with a package.json. */
export function installRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the Baygate installation folder');
    dir = parent;
  }
  return dir;
}

export const DEMO_DIR = path.join(installRoot(), 'examples', 'demo');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type PolicyObject = Record<string, any>;

/**
 * The demo policy as a plain object with every file reference made absolute, so a changed
 * copy can be written anywhere (tests, the benchmark).
 */
export async function demoPolicyObject(): Promise<PolicyObject> {
  const policy = parse(await readFile(path.join(DEMO_DIR, 'policy.yaml'), 'utf8')) as PolicyObject;
  const abs = (file: string) => path.resolve(DEMO_DIR, file);
  for (const key of policy.gateway.keys ?? []) key.privateKeyFile = abs(key.privateKeyFile);
  for (const terminal of policy.terminals) {
    if (terminal.auth.secretFile) terminal.auth.secretFile = abs(terminal.auth.secretFile);
    for (const key of terminal.signingKeys ?? []) key.publicKeyFile = abs(key.publicKeyFile);
  }
  for (const service of Object.values(policy.services) as PolicyObject[]) {
    for (const operation of Object.values(service.operations) as PolicyObject[]) {
      for (const field of ['requestSchema', 'responseSchema']) {
        if (operation[field]?.file) operation[field].file = abs(operation[field].file);
      }
    }
  }
  return policy;
}
