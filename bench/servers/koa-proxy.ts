import Koa from 'koa';
import { Pool } from 'undici';

// The baseline: the least a Koa + undici reverse proxy does. It reads the body and forwards it
// to one backend over a connection pool, then returns the reply. No checks of any kind.
const [port, backend] = [Number(process.argv[2]), process.argv[3]!];
const pool = new Pool(backend, { connections: 32 });
const app = new Koa();
app.use(async (ctx) => {
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
  const reply = await pool.request({
    method: ctx.method as 'POST',
    path: ctx.url,
    headers: { 'content-type': ctx.get('content-type') || 'application/json' },
    body: Buffer.concat(chunks),
  });
  ctx.status = reply.statusCode;
  ctx.type = 'application/json';
  ctx.body = Buffer.from(await reply.body.arrayBuffer());
});
const server = app.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as { port: number }).port}\n`);
});

// Exit normally on SIGINT, so that --cpu-prof writes its profile.
process.on('SIGINT', () => process.exit(0));
