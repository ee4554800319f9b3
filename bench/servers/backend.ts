import http from 'node:http';
import { socialSecurityHandler } from '../../examples/demo/backends.js';

// The demo social security backend alone, in its own process, for the benchmark.
const port = Number(process.argv[2] ?? 0);
const server = http.createServer({ keepAliveTimeout: 60_000 }, socialSecurityHandler);
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as { port: number }).port}\n`);
});

// Exit normally on SIGINT, so that --cpu-prof writes its profile.
process.on('SIGINT', () => process.exit(0));
